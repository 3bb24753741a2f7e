"""Errors from the chain layer. Each names its cause in one line; the CLI prints it
and exits 2 (``tastemaker.errors.TastemakerError``)."""

from tastemaker.errors import TastemakerError


class ChainError(TastemakerError):
    """Anything that went wrong talking to the chain."""


class NodeUnreachable(ChainError):
    """No JSON-RPC node answers at the configured URL."""


class NodeBinaryMissing(ChainError):
    """The embedded chain's ``anvil`` binary is not installed and cannot be installed."""


class WrongChain(ChainError):
    """The node serves another chain id than the one configured or deployed to."""


class InsufficientFunds(ChainError):
    """The sending account cannot pay value plus gas."""


class TransactionReverted(ChainError):
    """A transaction (or its gas estimate) reverted; the message carries the reason."""


class KeystoreError(ChainError):
    """The keystore file is missing or unreadable, or its password is missing or wrong."""


class DeploymentMissing(ChainError):
    """No deployment is recorded for this chain, or its contracts are not on the chain."""
