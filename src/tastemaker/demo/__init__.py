"""``tastemaker demo``: the whole loop with a simulated community on the embedded default."""
