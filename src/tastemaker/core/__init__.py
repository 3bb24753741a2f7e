"""Pure domain rules with no I/O: voting power, tally, rewards, merkle trees."""
