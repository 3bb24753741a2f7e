# pragma version ~=0.4.3
"""
@title TasteToken
@notice The community's ERC-20 token: staked to earn voting power. A plain
        snekmate ERC-20 (with EIP-2612 permit); the deployer holds the
        minter role and mints the initial supply.
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: erc20.__interface__


@deploy
def __init__(name_: String[25], symbol_: String[5], initial_supply: uint256, holder: address):
    """
    @notice Deploy the token and mint `initial_supply` (in wei units, 18 decimals) to `holder`.
    @param name_ Token name.
    @param symbol_ Token symbol.
    @param initial_supply Amount minted at deployment.
    @param holder Receiver of the initial supply.
    """
    ownable.__init__()
    erc20.__init__(name_, symbol_, 18, name_, "1")
    if initial_supply > 0:
        erc20._mint(holder, initial_supply)
