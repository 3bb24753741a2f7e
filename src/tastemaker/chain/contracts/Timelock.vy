# pragma version ~=0.4.3
"""
@title Timelock
@notice The admin of every Tastemaker contract: snekmate's timelock controller
        (OpenZeppelin-compatible). Proposers schedule calls, which become
        executable after the minimum delay; executors run them; cancellers (the
        proposers) can cancel a pending call. The timelock administers itself, so
        its roles and its delay also change only through a delayed call.
"""

from snekmate.auth import access_control
from snekmate.governance import timelock_controller

initializes: access_control
initializes: timelock_controller[access_control := access_control]

exports: timelock_controller.__interface__


@deploy
@payable
def __init__(
    minimum_delay_: uint256,
    proposers_: DynArray[address, 255],
    executors_: DynArray[address, 255],
):
    """
    @notice Deploy the timelock with no admin besides itself.
    @param minimum_delay_ Minimum delay of a scheduled call, in seconds.
    @param proposers_ Accounts that may schedule (and cancel) calls.
    @param executors_ Accounts that may execute ready calls.
    """
    access_control.__init__()
    timelock_controller.__init__(minimum_delay_, proposers_, executors_, empty(address))
