# pragma version ~=0.4.3
"""
@title TasteToken
@notice The community's ERC-20 token: staked to earn voting power. A snekmate
        ERC-20 (with EIP-2612 permit) whose whole supply is minted at deployment:
        no function mints, and the deployer keeps neither the minter role nor
        ownership, so the supply is fixed for good.
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

# The ERC-20 and EIP-2612 surface only: no mint, set_minter or ownership functions.
exports: (
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.totalSupply,
    erc20.balanceOf,
    erc20.allowance,
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.burn,
    erc20.burn_from,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
)


@deploy
def __init__(name_: String[25], symbol_: String[5], initial_supply: uint256, holder: address):
    """
    @notice Deploy the token and mint its fixed supply `initial_supply` (wei units,
            18 decimals) to `holder`.
    @param name_ Token name.
    @param symbol_ Token symbol.
    @param initial_supply The whole supply, minted once.
    @param holder Receiver of the supply.
    """
    ownable.__init__()
    erc20.__init__(name_, symbol_, 18, name_, "1")
    if initial_supply > 0:
        erc20._mint(holder, initial_supply)
    erc20.is_minter[msg.sender] = False
    ownable._transfer_ownership(empty(address))
