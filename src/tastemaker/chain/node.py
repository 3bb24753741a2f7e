"""The embedded local chain: an ``anvil`` process that tastemaker starts itself.

``anvil --state FILE`` loads the chain from FILE at start and writes it back on exit
(and every few seconds, so a crash loses little), so stakes, works, auctions and
roots survive a restart. One node serves one state folder: a second tastemaker
process with the same home attaches to the running node (found through
``node.json``) instead of starting another on the same state file; only the process
that started the node stops it.

Where the binary comes from (first match wins; see docs/decisions/0002):
1. the ``TASTEMAKER_CHAIN_ANVIL`` setting,
2. ``anvil`` on ``PATH`` (a Foundry install),
3. ``<venv>/node`` (``make install`` puts it there with npm),
4. ``<home>/chain/node`` (``tastemaker chain install-node``, or installed on first use
   when npm is available).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tastemaker.chain.errors import ChainError, NodeBinaryMissing

log = logging.getLogger(__name__)

ANVIL_VERSION = "1.7.1"
_PLATFORM_PACKAGES = {
    ("Linux", "x86_64"): "anvil-linux-amd64",
    ("Linux", "aarch64"): "anvil-linux-arm64",
    ("Darwin", "arm64"): "anvil-darwin-arm64",
    ("Darwin", "x86_64"): "anvil-darwin-amd64",
}
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
STATE_INTERVAL_S = 2


def npm_package() -> str:
    """The npm package holding anvil for this machine."""
    key = (platform.system(), platform.machine())
    try:
        return f"@foundry-rs/{_PLATFORM_PACKAGES[key]}"
    except KeyError:
        raise NodeBinaryMissing(
            f"no anvil npm package for {key[0]} {key[1]}; install Foundry and put anvil on PATH"
        ) from None


def _binary_in(prefix: Path) -> Path:
    return prefix / "node_modules" / npm_package() / "bin" / "anvil"


def venv_node_prefix() -> Path:
    """Where ``make install`` puts the npm package: ``<venv>/node``."""
    return Path(sys.prefix) / "node"


def find_anvil(configured: Path | None, home_prefix: Path) -> Path | None:
    """The anvil binary to use, or None when none is installed."""
    if configured is not None:
        if not configured.is_file():
            raise NodeBinaryMissing(
                f"TASTEMAKER_CHAIN_ANVIL points at {configured}, which is not a file"
            )
        return configured
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    for prefix in (venv_node_prefix(), home_prefix):
        candidate = _binary_in(prefix)
        if candidate.is_file():
            return candidate
    return None


def install_anvil(prefix: Path) -> Path:
    """Install the pinned anvil npm package under ``prefix``; return the binary."""
    npm = shutil.which("npm")
    if npm is None:
        raise NodeBinaryMissing(
            "the embedded chain needs anvil, and npm is not installed to fetch it: "
            "install Node.js/npm (or Foundry), or set TASTEMAKER_CHAIN_ANVIL"
        )
    prefix.mkdir(parents=True, exist_ok=True)
    spec = f"{npm_package()}@{ANVIL_VERSION}"
    log.info("installing %s into %s", spec, prefix)
    done = subprocess.run(
        [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix), spec],
        capture_output=True,
        text=True,
        check=False,
    )
    binary = _binary_in(prefix)
    if done.returncode != 0 or not binary.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise NodeBinaryMissing(f"npm could not install {spec}: {tail[0]}")
    return binary


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rpc_chain_id(url: str, timeout: float = 1.0) -> int | None:
    try:
        query = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        reply = requests.post(url, json=query, timeout=timeout)
        return int(reply.json()["result"], 16)
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # an exited child that nobody has reaped yet is not alive
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


class EmbeddedNode:
    """Start (or attach to) the anvil node of one state folder; stop what we started."""

    def __init__(self, chain_dir: Path, anvil: Path | None = None, chain_id: int = 31337) -> None:
        self.chain_dir = chain_dir
        self.chain_id = chain_id
        self._anvil = anvil
        self._process: subprocess.Popen[bytes] | None = None
        self.url: str | None = None

    @property
    def state_file(self) -> Path:
        return self.chain_dir / "state.json"

    @property
    def _node_file(self) -> Path:
        return self.chain_dir / "node.json"

    @property
    def owns_process(self) -> bool:
        return self._process is not None

    def binary(self) -> Path:
        found = find_anvil(self._anvil, self.chain_dir / "node")
        return found if found is not None else install_anvil(self.chain_dir / "node")

    def start(self) -> str:
        """Return the node's URL, starting anvil unless this home's node already runs."""
        if self.url is not None:
            return self.url
        self.chain_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            attached = self._attach()
            if attached is not None:
                self.url = attached
                return attached
            self.url = self._spawn()
            return self.url

    def stop(self) -> None:
        """Stop the node if this object started it; anvil writes its state on SIGTERM."""
        process, self._process = self._process, None
        self.url = None
        if process is None:
            return
        with self._lock():
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning("anvil did not stop in %ss; killing it", STOP_TIMEOUT_S)
                process.kill()
                process.wait()
            with contextlib.suppress(FileNotFoundError):
                if json.loads(self._node_file.read_text()).get("pid") == process.pid:
                    self._node_file.unlink()

    def stop_running(self) -> bool:
        """Stop this home's node even if another process started it (for example one
        left behind by a killed process). Returns whether a node was stopped."""
        self.chain_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            url = self._attach()
            if url is None:
                return False
            pid = int(json.loads(self._node_file.read_text())["pid"])
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            self._node_file.unlink(missing_ok=True)
            return True

    def __enter__(self) -> EmbeddedNode:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextlib.contextmanager
    def _lock(self):  # type: ignore[no-untyped-def]
        with open(self.chain_dir / "node.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _attach(self) -> str | None:
        try:
            info = json.loads(self._node_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        url, pid = info.get("url"), info.get("pid")
        if isinstance(pid, int) and _pid_alive(pid) and _rpc_chain_id(url) == self.chain_id:
            log.info("attached to the running embedded chain at %s", url)
            return str(url)
        self._node_file.unlink(missing_ok=True)  # stale: its process is gone
        return None

    def _spawn(self) -> str:
        binary = self.binary()
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        args = [
            str(binary),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--chain-id", str(self.chain_id),
            "--state", str(self.state_file),
            "--state-interval", str(STATE_INTERVAL_S),
        ]  # fmt: skip
        log_path = self.chain_dir / "anvil.log"
        with open(log_path, "ab") as log_file:
            process = subprocess.Popen(
                args, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                lines = log_path.read_text(errors="replace").strip().splitlines()
                last = lines[-1] if lines else "no output"
                raise ChainError(f"the embedded chain (anvil) exited at start: {last}")
            if _rpc_chain_id(url, timeout=0.5) == self.chain_id:
                self._process = process
                self._node_file.write_text(json.dumps({"pid": process.pid, "url": url}))
                log.info("started the embedded chain at %s (state %s)", url, self.state_file)
                return url
            time.sleep(0.1)
        process.kill()
        process.wait()
        raise ChainError(f"the embedded chain (anvil) did not answer within {START_TIMEOUT_S:.0f}s")


def _main(argv: list[str]) -> int:
    # `python -m tastemaker.chain.node install PREFIX`: used by `make install`.
    if len(argv) != 2 or argv[0] != "install":
        print("usage: python -m tastemaker.chain.node install PREFIX", file=sys.stderr)
        return 2
    prefix = Path(argv[1])
    binary = _binary_in(prefix)
    if not binary.is_file():
        binary = install_anvil(prefix)
    print(binary)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
