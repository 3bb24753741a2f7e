# pragma version ~=0.4.3
"""
@title Works
@notice The artworks: ERC-721 (snekmate, enumerable, EIP-4494 permit) with ERC-2981
        royalties and ERC-4906 metadata-update events. Roles (snekmate access_control):
        the admin (the timelock) changes the royalty and, until a work's auction has
        started, its metadata; the minter (the auction house) mints into itself and
        freezes a work's metadata when its auction starts. Each token keeps the
        content hash of its media on-chain, and a content hash can be minted once, so
        a retried mint cannot mint twice. Token ids start at 1.
"""

from ethereum.ercs import IERC165
from snekmate.auth import access_control
from snekmate.auth import ownable
from snekmate.extensions import erc2981
from snekmate.tokens import erc721
from snekmate.tokens.interfaces import IERC4906

implements: IERC165

initializes: access_control
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
    erc721.permit,
    erc721.nonces,
    erc721.DOMAIN_SEPARATOR,
    erc721.eip712Domain,
    erc2981.royaltyInfo,
    access_control.DEFAULT_ADMIN_ROLE,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
)

MINTER_ROLE: public(constant(bytes32)) = keccak256("MINTER_ROLE")

event RoyaltyChanged:
    receiver: address
    royalty_bps: uint96

event MetadataFrozen:
    token_id: indexed(uint256)

event WorkMinted:
    token_id: indexed(uint256)
    content_hash: indexed(bytes32)
    to: address

# The ERC-721 module's identifiers plus ERC-2981.
_SUPPORTED_INTERFACES: constant(bytes4[8]) = [
    0x01FFC9A7,  # ERC-165
    0x80AC58CD,  # ERC-721
    0x5B5E139F,  # ERC-721 metadata
    0x780E9D63,  # ERC-721 enumerable
    0x589C5CE2,  # ERC-4494
    0x49064906,  # ERC-4906
    0x2A55205A,  # ERC-2981
    0x7965DB0B,  # IAccessControl
]

# token id => content hash of the work's media
content_hash: public(HashMap[uint256, bytes32])
# content hash => token id (0: not minted)
token_of_content: public(HashMap[bytes32, uint256])
# token id => metadata can no longer change (its auction has started)
metadata_frozen: public(HashMap[uint256, bool])


@deploy
def __init__(name_: String[25], symbol_: String[5], royalty_receiver: address, royalty_bps: uint96):
    """
    @notice Deploy the collection. The deployer holds the admin role until it hands
            it to the timelock (deployment grants MINTER_ROLE to the auction house,
            then the admin role to the timelock, then renounces its own). The
            ERC-721 `owner` (read by marketplaces) and its built-in minter flag are
            not used for access: no exported function reads them.
    @param name_ Collection name.
    @param symbol_ Collection symbol.
    @param royalty_receiver Receiver of secondary-sale royalties (ERC-2981).
    @param royalty_bps Royalty in basis points.
    """
    access_control.__init__()
    ownable.__init__()
    erc721.__init__(name_, symbol_, "", name_, "1")
    erc2981.__init__()
    erc2981._set_default_royalty(royalty_receiver, royalty_bps)
    log RoyaltyChanged(receiver=royalty_receiver, royalty_bps=royalty_bps)
    erc721.is_minter[msg.sender] = False
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
    assert access_control.hasRole[MINTER_ROLE][msg.sender], "works: caller is not the minter"
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
    @notice Point `token_id` at new metadata (emits ERC-4906 MetadataUpdate). Admin
            (timelock) only, and only until the work's auction has started.
    @param token_id The token.
    @param uri The new token URI.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert not self.metadata_frozen[token_id], "works: metadata frozen"
    erc721._set_token_uri(token_id, uri)


@external
def freeze_metadata(token_id: uint256):
    """
    @notice Freeze the metadata of `token_id` for good. Minter (auction house) only;
            called when the work's auction starts.
    @param token_id The token.
    """
    assert access_control.hasRole[MINTER_ROLE][msg.sender], "works: caller is not the minter"
    assert erc721._exists(token_id), "works: no such token"
    if not self.metadata_frozen[token_id]:
        self.metadata_frozen[token_id] = True
        log MetadataFrozen(token_id=token_id)


@external
def set_default_royalty(receiver: address, royalty_bps: uint96):
    """
    @notice Change the ERC-2981 royalty of every token. Admin (timelock) only.
    @param receiver Receiver of secondary-sale royalties.
    @param royalty_bps Royalty in basis points.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    erc2981._set_default_royalty(receiver, royalty_bps)
    log RoyaltyChanged(receiver=receiver, royalty_bps=royalty_bps)
