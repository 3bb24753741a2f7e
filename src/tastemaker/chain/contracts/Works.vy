# pragma version ~=0.4.3
"""
@title Works
@notice The artworks: ERC-721 (snekmate, enumerable, EIP-4494 permit) with ERC-2981
        royalties and ERC-4906 metadata-update events. Only accounts holding the minter
        (operator) role mint. Each token keeps the content hash of its media on-chain,
        and a content hash can be minted once, so a retried mint cannot mint twice.
        Token ids start at 1.
"""

from ethereum.ercs import IERC165
from snekmate.auth import ownable
from snekmate.extensions import erc2981
from snekmate.tokens import erc721
from snekmate.tokens.interfaces import IERC4906

implements: IERC165

initializes: ownable
initializes: erc721[ownable := ownable]
initializes: erc2981[ownable := ownable]

exports: (
    erc721.owner,
    erc721.balanceOf,
    erc721.ownerOf,
    erc721.approve,
    erc721.getApproved,
    erc721.setApprovalForAll,
    erc721.isApprovedForAll,
    erc721.transferFrom,
    erc721.safeTransferFrom,
    erc721.tokenURI,
    erc721.totalSupply,
    erc721.tokenByIndex,
    erc721.tokenOfOwnerByIndex,
    erc721.name,
    erc721.symbol,
    erc721.is_minter,
    erc721.set_minter,
    erc721.permit,
    erc721.nonces,
    erc721.DOMAIN_SEPARATOR,
    erc721.eip712Domain,
    erc721.transfer_ownership,
    erc721.renounce_ownership,
    erc2981.royaltyInfo,
    erc2981.set_default_royalty,
    erc2981.set_token_royalty,
)

event WorkMinted:
    token_id: indexed(uint256)
    content_hash: indexed(bytes32)
    to: address

# The ERC-721 module's identifiers plus ERC-2981.
_SUPPORTED_INTERFACES: constant(bytes4[7]) = [
    0x01FFC9A7,  # ERC-165
    0x80AC58CD,  # ERC-721
    0x5B5E139F,  # ERC-721 metadata
    0x780E9D63,  # ERC-721 enumerable
    0x589C5CE2,  # ERC-4494
    0x49064906,  # ERC-4906
    0x2A55205A,  # ERC-2981
]

# token id => content hash of the work's media
content_hash: public(HashMap[uint256, bytes32])
# content hash => token id (0: not minted)
token_of_content: public(HashMap[bytes32, uint256])


@deploy
def __init__(name_: String[25], symbol_: String[5], royalty_receiver: address, royalty_bps: uint96):
    """
    @notice Deploy the collection; the deployer becomes owner and minter.
    @param name_ Collection name.
    @param symbol_ Collection symbol.
    @param royalty_receiver Receiver of secondary-sale royalties (ERC-2981).
    @param royalty_bps Royalty in basis points.
    """
    ownable.__init__()
    erc721.__init__(name_, symbol_, "", name_, "1")
    erc2981.__init__()
    erc2981._set_default_royalty(royalty_receiver, royalty_bps)
    erc721._counter = 1


@external
@view
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice ERC-165 support query.
    @param interface_id The 4-byte interface identifier.
    @return Whether the interface is implemented.
    """
    return interface_id in _SUPPORTED_INTERFACES


@external
def mint(to: address, content_hash_: bytes32, uri: String[432]) -> uint256:
    """
    @notice Mint the work with media hash `content_hash_` to `to`. Minter role only.
    @dev Uses a plain (not "safe") mint: the receiver is the auction house or the
         treasury, and a receiver hook must not be able to block a round.
    @param to Receiver of the new token.
    @param content_hash_ Hash of the work's media (non-zero, not minted before).
    @param uri Token URI of the metadata JSON.
    @return The new token id.
    """
    assert erc721.is_minter[msg.sender], "works: caller is not the operator"
    assert content_hash_ != empty(bytes32), "works: empty content hash"
    assert self.token_of_content[content_hash_] == 0, "works: content already minted"
    token_id: uint256 = erc721._counter
    erc721._counter = token_id + 1
    erc721._mint(to, token_id)
    erc721._set_token_uri(token_id, uri)
    self.content_hash[token_id] = content_hash_
    self.token_of_content[content_hash_] = token_id
    log WorkMinted(token_id=token_id, content_hash=content_hash_, to=to)
    return token_id


@external
def set_token_uri(token_id: uint256, uri: String[432]):
    """
    @notice Point `token_id` at new metadata (emits ERC-4906 MetadataUpdate). Minter role only.
    @param token_id The token.
    @param uri The new token URI.
    """
    assert erc721.is_minter[msg.sender], "works: caller is not the operator"
    erc721._set_token_uri(token_id, uri)
