"""The embedded node under crashes: what the client saw confirmed survives SIGKILL, a
stalled node is waited for and never doubled, a bad state file is named."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tastemaker.chain.client import ChainClient
from tastemaker.chain.errors import ChainError
from tastemaker.chain.node import EmbeddedNode, find_anvil
from tastemaker.chain.settings import ChainSettings
from tests.rounds.test_crash import _anvils

ANVIL = find_anvil(None, Path("/nonexistent"))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ANVIL is None, reason="anvil is not installed (make install)"),
]
SOMEONE = "0x" + "11" * 20


def _connect(home: Path) -> ChainClient:
    return ChainClient.connect(ChainSettings(home=home, anvil=ANVIL))


def _wait_gone(home: Path) -> None:
    deadline = time.monotonic() + 10
    while _anvils(home) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _anvils(home)


def test_a_confirmed_change_survives_a_sigkill_of_the_node(tmp_path):
    home = tmp_path / "home"
    client = _connect(home)
    client.fund(SOMEONE, 123)  # returns once the change is in state.json
    os.kill(client.node.pid, signal.SIGKILL)  # at once: well inside anvil's own interval
    _wait_gone(home)
    client.close()
    with _connect(home) as again:
        assert again.node.owns_process
        assert again.balance(SOMEONE) == 123


def test_a_stalled_node_is_waited_for_not_doubled(tmp_path):
    home = tmp_path / "home"
    with _connect(home) as first:
        pid = first.node.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            found: list[str] = []
            second = EmbeddedNode(home / "chain", ANVIL)
            waiter = threading.Thread(target=lambda: found.append(second.start()))
            waiter.start()
            time.sleep(1.5)  # longer than the old one-second liveness probe
            assert waiter.is_alive() and _anvils(home) == [pid]
        finally:
            os.kill(pid, signal.SIGCONT)
        waiter.join(30)
        assert found == [first.node.url] and not second.owns_process
        assert _anvils(home) == [pid]


def test_the_lock_goes_with_the_node(tmp_path):
    home = tmp_path / "home"
    client = _connect(home)
    node = EmbeddedNode(home / "chain", ANVIL)
    assert node.running()
    os.kill(client.node.pid, signal.SIGKILL)
    _wait_gone(home)
    assert not node.running()  # the kernel released the flock with the process
    client.close()


def test_an_unreadable_state_file_is_named(tmp_path):
    home = tmp_path / "home"
    with _connect(home) as client:
        client.fund(SOMEONE, 1)
    state = home / "chain" / "state.json"
    state.write_text('{"block": {"num')  # what a kill during a non-atomic write leaves
    with pytest.raises(ChainError, match=r"state file .*state.json is unreadable"):
        _connect(home)


def test_chain_time_stays_monotonic_across_a_restart(tmp_path):
    home = tmp_path / "home"
    with _connect(home) as client:
        advanced = client.advance_time(10 * 86_400)
    with _connect(home) as client:
        client.mine()
        assert client.block_timestamp() > advanced


def test_a_batch_writes_the_state_once_at_its_end(tmp_path):
    home = tmp_path / "home"
    with _connect(home) as client:
        client.fund(SOMEONE, 1)
        state = client.node.state_file
        written = state.stat().st_mtime_ns
        with client.batch():
            client.fund(SOMEONE, 2)
            client.fund(SOMEONE, 3)
            assert state.stat().st_mtime_ns == written
        assert state.stat().st_mtime_ns > written
        os.kill(client.node.pid, signal.SIGKILL)
        _wait_gone(home)
    with _connect(home) as again:
        assert again.balance(SOMEONE) == 3
