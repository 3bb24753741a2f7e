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
        pending = client.pending_root()
        if pending is not None:
            epoch, root, at = pending
            wait = max(at - client.block_timestamp(), 0)
            console.print(
                f"pending   root of epoch {epoch} 0x{root.hex()}, claimable at chain time "
                f"{at} (in {wait} s; a guardian may veto it until then)"
            )
        console.print(
            f"timelock  {deployment.addresses['timelock']}, delay {client.timelock_delay()} s"
        )
        roles = Table("contract", "role", "holders", box=None)
        for key in ("timelock", "auction", "distributor", "works"):
            for role, holders in client.role_holders(key).items():
                roles.add_row(key, role, ", ".join(holders) or "-")
        console.print(roles)
        operations = client.operations()
        if not operations:
            console.print("timelock  no pending operations")
        for op in operations:
            console.print(
                f"operation 0x{op['id'].hex()} {op['call']} ready at chain time {op['ready_at']}"
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


@chain_app.command()
def propose(
    contract: str = typer.Argument(..., help="auction, distributor, works or timelock."),
    function: str = typer.Argument(..., help="e.g. set_shares, set_params, grantRole."),
    args: list[str] = typer.Argument(None, help="The function's arguments."),
) -> None:
    """Schedule a parameter or role change on the timelock (the key must be a proposer).

    Example: `tastemaker chain propose auction set_shares 4000 1000`; roles by name:
    `tastemaker chain propose distributor grantRole GUARDIAN_ROLE 0x...`.
    """
    from tastemaker.chain.client import ChainClient
    from tastemaker.chain.settings import ChainSettings

    with ChainClient.connect(ChainSettings()) as client:
        client.check_deployment()
        op_id, ready_at = client.propose(contract, function, args or [])
        console.print(f"scheduled 0x{op_id.hex()}, executable from chain time {ready_at}")
        console.print(f"then run `tastemaker chain execute 0x{op_id.hex()}`")


@chain_app.command()
def execute(
    operation: str = typer.Argument(..., help="The operation id printed by `chain propose`."),
    wait: bool = typer.Option(False, "--wait", help="Wait until the operation is ready."),
) -> None:
    """Execute a ready timelock operation (the key must be an executor)."""
    import time

    from tastemaker.chain.client import ChainClient
    from tastemaker.chain.errors import ChainError
    from tastemaker.chain.settings import ChainSettings

    try:
        op_id = bytes.fromhex(operation.removeprefix("0x"))
    except ValueError:
        raise ChainError(f"{operation!r} is not an operation id (0x and 64 hex digits)") from None
    with ChainClient.connect(ChainSettings()) as client:
        client.check_deployment()
        if wait:
            for op in client.operations():
                if op["id"] == op_id:
                    time.sleep(max(op["ready_at"] - client.block_timestamp() + 1, 0))
                    if client.is_dev_chain:
                        client.mine()
        result = client.execute(op_id)
        console.print(f"executed 0x{op_id.hex()} in block {result.block_number}")


@chain_app.command("veto-root")
def veto_root(
    epoch: int = typer.Option(
        None, "--epoch", help="The pending epoch (default: the pending one)."
    ),
) -> None:
    """Guardian: reject the reward root in its challenge window (run `tastemaker verify`
    on the round's record first; veto when it fails)."""
    from tastemaker.chain.client import ChainClient
    from tastemaker.chain.errors import ChainError
    from tastemaker.chain.settings import ChainSettings

    with ChainClient.connect(ChainSettings()) as client:
        client.check_deployment()
        pending = client.pending_root()
        if epoch is None:
            if pending is None:
                raise ChainError("no reward root is pending: nothing to veto")
            epoch = pending[0]
        client.veto_root(epoch)
        console.print(f"vetoed the root of epoch {epoch}; the operator may post it again")
