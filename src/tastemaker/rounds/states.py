"""The states a round passes through, in order (see docs/rounds.md)."""

OPENING = "opening"  # generating candidates, curating the pool
VOTING = "voting"  # members vote until closes_at
CLOSING = "closing"  # tally, mint the winner, start its auction
AUCTION = "auction"  # the winner's auction runs on-chain
SETTLING = "settling"  # split proceeds, compute rewards, post the root
SETTLED = "settled"  # done; the next round learns from it

ORDER = (OPENING, VOTING, CLOSING, AUCTION, SETTLING, SETTLED)
