"""On-chain rails: the Vyper contracts (``contracts/``), compiling and deploying them,
the embedded anvil node, and ``ChainClient`` (``tastemaker.chain.client``), the one
interface the round service uses for the embedded chain and any JSON-RPC node."""
