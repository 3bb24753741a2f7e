"""The service layer: the weekly loop as use cases over the store and the chain."""
