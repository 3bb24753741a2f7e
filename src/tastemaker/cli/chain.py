"""``tastemaker chain ...``: deploy the contracts and show where things stand."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from tastemaker.cli import app

# web3 takes about a second to import: the commands import the chain code when they
# run, so `tastemaker --help` and unrelated commands stay quick.

chain_app = typer.Typer(help="On-chain rails: deploy contracts, show chain status.")
app.add_typer(chain_app, name="chain")
console = Console()


def _eth(wei: int) -> str:
    return f"{wei / 10**18:,.6f}"


@chain_app.command()
def deploy(
    force: bool = typer.Option(False, "--force", help="Deploy a new set even if one is recorded."),
) -> None:
    """Deploy TasteToken, Staking, Works, RewardDistributor and AuctionHouse."""
    from tastemaker.chain.client import ChainClient
    from tastemaker.chain.deployment import params_from_settings
    from tastemaker.chain.settings import ChainSettings

    settings = ChainSettings()
    with ChainClient.connect(settings) as client:
        params = params_from_settings(settings, client)
        with console.status("compiling and deploying contracts"):
            deployment = client.deploy(params, force=force)
        console.print(f"deployed on chain {deployment.chain_id} ({client.deployment_file})")
        for key, address in deployment.addresses.items():
            console.print(f"  {key:<12} {address}")


@chain_app.command()
def status() -> None:
    """Show the chain, the deployed addresses, and the main balances."""
    from tastemaker.chain.client import ChainClient
    from tastemaker.chain.settings import ChainSettings

    settings = ChainSettings()
    with ChainClient.connect(settings) as client:
        kind = "embedded (anvil)" if client.is_dev_chain else "JSON-RPC"
        console.print(f"chain     {client.chain_id} {kind} at {client.rpc_url}")
        console.print(f"block     {client.block_number()} (time {client.block_timestamp()})")
        console.print(
            f"signer    {client.signer.address} ({_eth(client.balance(client.signer.address))} ETH)"
        )
        if not client.has_deployment():
            console.print("contracts not deployed: run `tastemaker chain deploy`")
            return
        deployment = client.check_deployment()
        table = Table("contract", "address", "ETH", box=None)
        for key, address in deployment.addresses.items():
            table.add_row(key, address, _eth(client.balance(address)))
        console.print(table)
        console.print(
            f"treasury  {deployment.treasury} ({_eth(client.balance(deployment.treasury))} ETH)"
        )
        console.print(
            f"staked    {_eth(client.token_balance(deployment.addresses['staking']))} TASTE"
        )
        console.print(f"works     {client.works_count()} minted")
        console.print(
            f"rewards   epoch {client.reward_epoch()}, root 0x{client.reward_root().hex()}"
        )


@chain_app.command("install-node")
def install_node() -> None:
    """Install the embedded chain's anvil binary (npm) under the state folder."""
    from tastemaker.chain.node import install_anvil
    from tastemaker.chain.settings import ChainSettings

    settings = ChainSettings()
    with console.status("installing anvil with npm"):
        binary = install_anvil(settings.chain_dir / "node")
    console.print(f"anvil installed at {binary}")


@chain_app.command()
def stop() -> None:
    """Stop the embedded chain of this home if a node is still running (its state is saved)."""
    from tastemaker.chain.node import EmbeddedNode
    from tastemaker.chain.settings import ChainSettings

    settings = ChainSettings()
    node = EmbeddedNode(settings.chain_dir, settings.anvil, settings.embedded_chain_id)
    stopped = node.stop_running()
    console.print("embedded chain stopped" if stopped else "no embedded chain running")
