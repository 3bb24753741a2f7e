"""The embedded local chain: an ``anvil`` process that tastemaker starts itself.

The chain lives in ``state.json``. anvil loads it at start (``--load-state``), and
tastemaker writes it, never anvil: ``EmbeddedNode.persist`` asks the node for its
whole state (``anvil_dumpState``) and writes it atomically (temporary file, fsync,
rename), after every transaction the client waits for and before the caller records
that transaction anywhere else. A node killed at any moment leaves the state of the
last transaction tastemaker saw confirmed, never a half-written file. (anvil still
dumps its own copy every few seconds to ``autosave.json``, for transactions sent to
the node by other clients, such as a browser wallet; it is never loaded on its own,
see docs/decisions/0050.)

One home has one node. The anvil process inherits an exclusive ``flock`` on
``anvil.lock`` and holds it for its whole life, stalled (SIGSTOP) or not; the lock
goes when the process dies, however it dies. A second tastemaker process with the
same home finds the lock taken and attaches to that node (its URL is in
``node.json``), waiting while it does not answer, instead of starting another node
on the same state file. Only the process that started the node stops it.

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
import gzip
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

from tastemaker.chain.errors import ChainError, NodeBinaryMissing, NodeUnreachable

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
STATE_INTERVAL_S = 2  # anvil's own dumps to autosave.json (not the chain's state file)
ATTACH_TIMEOUT_S = 60.0  # how long to wait for a running (perhaps stalled) node to answer
DUMP_TIMEOUT_S = 60.0


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


def _rpc(url: str, method: str, params: list[object], timeout: float = 5.0) -> object:
    query = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return requests.post(url, json=query, timeout=timeout).json()["result"]


def _restore_clock(url: str) -> None:
    """Keep chain time monotonic across a restart: anvil reloads blocks but not the
    offset that time travel (``evm_increaseTime``) added, so without this a reloaded
    chain's next block would be dated before its last one."""
    try:
        latest = _rpc(url, "eth_getBlockByNumber", ["latest", False])
        stamp = int(latest["timestamp"], 16)  # type: ignore[index]
        if stamp > time.time():
            _rpc(url, "evm_setTime", [stamp + 1])
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise ChainError(f"the embedded chain's clock could not be restored: {exc}") from None


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


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_durably(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that it is always the old or the new content,
    whole, and the new content is on disk when this returns."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _try_lock(path: Path) -> int | None:
    """An fd holding an exclusive flock on ``path``, or None if another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


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
    def autosave_file(self) -> Path:
        return self.chain_dir / "autosave.json"

    @property
    def _node_file(self) -> Path:
        return self.chain_dir / "node.json"

    @property
    def _owner_lock(self) -> Path:
        return self.chain_dir / "anvil.lock"

    @property
    def pid(self) -> int | None:
        """The process id of this home's running node, if one runs."""
        if self._process is not None:
            return self._process.pid
        with contextlib.suppress(FileNotFoundError, ValueError, TypeError):
            pid = json.loads(self._node_file.read_text()).get("pid")
            return pid if isinstance(pid, int) else None
        return None

    def running(self) -> bool:
        """Whether a node of this home is alive (stalled or not): its lock is held."""
        self.chain_dir.mkdir(parents=True, exist_ok=True)
        fd = _try_lock(self._owner_lock)
        if fd is None:
            return True
        os.close(fd)
        return False

    def persist(self) -> None:
        """Write the node's whole state to ``state.json``, atomically and durably.

        Called after every transaction the client waits for, so what a caller learns
        from the chain is on disk before the caller records it anywhere else.
        Serialised across processes, so a later snapshot never loses to an earlier one.
        """
        if self.url is None:
            return
        with self._lock("state.lock"):
            query = {"jsonrpc": "2.0", "id": 1, "method": "anvil_dumpState", "params": []}
            try:
                reply = requests.post(self.url, json=query, timeout=DUMP_TIMEOUT_S).json()
                dump = bytes.fromhex(reply["result"].removeprefix("0x"))
            except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
                raise NodeUnreachable(
                    f"cannot save the embedded chain's state (node at {self.url}): "
                    f"{type(exc).__name__}"
                ) from None
            write_durably(self.state_file, gzip.decompress(dump))

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
            owner = _try_lock(self._owner_lock)
            if owner is None:  # a node of this home is alive, perhaps stalled
                self.url = self._attach()
                return self.url
            try:
                self._node_file.unlink(missing_ok=True)  # stale: its process is gone
                self.url = self._spawn(owner)
            finally:
                os.close(owner)  # the lock stays with the anvil process
            return self.url

    def stop(self) -> None:
        """Stop the node if this object started it, after saving its state."""
        process = self._process
        if process is None:
            self.url = None
            return
        with self._lock():
            if process.poll() is None:
                with contextlib.suppress(NodeUnreachable):
                    self.persist()
            self._process, self.url = None, None
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning("anvil did not stop in %ss; killing it", STOP_TIMEOUT_S)
                process.kill()
                process.wait()
            with contextlib.suppress(FileNotFoundError, ValueError):
                if json.loads(self._node_file.read_text()).get("pid") == process.pid:
                    self._node_file.unlink()

    def stop_running(self) -> bool:
        """Stop this home's node even if another process started it (for example one
        left behind by a killed process). Returns whether a node was stopped."""
        self.chain_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            if not self.running():
                self._node_file.unlink(missing_ok=True)
                return False
            self.url = self._attach()
            with contextlib.suppress(NodeUnreachable):
                self.persist()
            self.url = None
            pid = self.pid
            if pid is None:
                raise ChainError(f"the embedded chain of {self.chain_dir} runs without node.json")
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while self.running() and time.monotonic() < deadline:
                time.sleep(0.05)
            self._node_file.unlink(missing_ok=True)
            return True

    def __enter__(self) -> EmbeddedNode:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextlib.contextmanager
    def _lock(self, name: str = "node.lock"):  # type: ignore[no-untyped-def]
        with open(self.chain_dir / name, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _attach(self) -> str:
        """The URL of the running node whose lock is held; waits while it does not answer
        (a node stalled by SIGSTOP, or one still starting)."""
        deadline = time.monotonic() + ATTACH_TIMEOUT_S
        warned = False
        while True:
            try:
                url = str(json.loads(self._node_file.read_text())["url"])
            except (FileNotFoundError, ValueError, KeyError, TypeError):
                url = None
            if url is not None and _rpc_chain_id(url, timeout=1.0) == self.chain_id:
                log.info("attached to the running embedded chain at %s", url)
                return url
            if not self.running():
                raise ChainError(
                    f"the embedded chain of {self.chain_dir} exited while starting: rerun"
                )
            if time.monotonic() > deadline:
                raise ChainError(
                    f"the embedded chain of {self.chain_dir} (anvil pid {self.pid}) holds its "
                    f"lock but has not answered for {ATTACH_TIMEOUT_S:.0f}s: if it was stopped, "
                    f"resume it (kill -CONT {self.pid}); else stop it (kill {self.pid}) and rerun"
                )
            if not warned:
                log.warning("waiting for the embedded chain (pid %s) to answer", self.pid)
                warned = True
            time.sleep(0.2)

    def _spawn(self, owner_lock: int) -> str:
        """Start anvil; it inherits ``owner_lock`` (an fd holding the home's flock)."""
        binary = self.binary()
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        self._check_state_file()
        load = ["--load-state", str(self.state_file)] if self.state_file.exists() else []
        args = [
            str(binary),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--chain-id", str(self.chain_id),
            *load,
            "--dump-state", str(self.autosave_file),
            "--state-interval", str(STATE_INTERVAL_S),
        ]  # fmt: skip
        # The URL is known before the process exists: whoever finds the lock taken can
        # find the node, even if this process dies right after starting it.
        write_durably(self._node_file, json.dumps({"pid": None, "url": url}).encode())
        log_path = self.chain_dir / "anvil.log"
        with open(log_path, "ab") as log_file:
            process = subprocess.Popen(
                args,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                pass_fds=(owner_lock,),
            )
        write_durably(self._node_file, json.dumps({"pid": process.pid, "url": url}).encode())
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                lines = log_path.read_text(errors="replace").strip().splitlines()
                last = lines[-1] if lines else "no output"
                raise ChainError(f"the embedded chain (anvil) exited at start: {last}")
            if _rpc_chain_id(url, timeout=0.5) == self.chain_id:
                self._process = process
                if load:
                    _restore_clock(url)
                log.info("started the embedded chain at %s (state %s)", url, self.state_file)
                return url
            time.sleep(0.1)
        process.kill()
        process.wait()
        raise ChainError(f"the embedded chain (anvil) did not answer within {START_TIMEOUT_S:.0f}s")

    def _check_state_file(self) -> None:
        """Refuse a state file anvil cannot load, rather than let it fail obscurely."""
        if not self.state_file.exists():
            return
        try:
            json.loads(self.state_file.read_bytes())
        except (OSError, ValueError) as exc:
            raise ChainError(
                f"the embedded chain's state file {self.state_file} is unreadable "
                f"({type(exc).__name__}): restore it from a copy, or move it away to "
                "start a new chain"
            ) from None


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
