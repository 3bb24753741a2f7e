"""`tastemaker serve`'s preparation steps, and the command itself on a fresh home."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tastemaker.web.serve import DEV_ROUND, serve_round_settings

pytestmark = pytest.mark.slow


def test_dev_round_settings_are_small_unless_the_environment_says_otherwise(monkeypatch) -> None:
    assert serve_round_settings(True).candidates == DEV_ROUND["candidates"]
    monkeypatch.setenv("TASTEMAKER_ROUND_CANDIDATES", "40")
    chosen = serve_round_settings(True)
    assert chosen.candidates == 40 and chosen.new_works == DEV_ROUND["new_works"]
    assert serve_round_settings(False).new_works == 350  # a real network: the defaults


def test_serve_deploys_opens_round_one_and_answers(tmp_path: Path) -> None:
    port = 18000 + os.getpid() % 1000
    env = os.environ | {
        "TASTEMAKER_HOME": str(tmp_path / "home"),
        "TASTEMAKER_ROUND_CANDIDATES": "12",
        "TASTEMAKER_ROUND_NEW_WORKS": "6",
        "TASTEMAKER_ROUND_IMAGE_SIZE": "32",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "tastemaker", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                current = httpx.get(f"http://127.0.0.1:{port}/api/rounds/current", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.5)
        assert current.status_code == 200
        assert current.json()["number"] == 1 and current.json()["state"] == "voting"
        wallets = httpx.get(f"http://127.0.0.1:{port}/api/dev/wallets").json()["items"]
        assert all(int(w["vp"]) > 0 for w in wallets)
        assert httpx.get(f"http://127.0.0.1:{port}/vote").status_code == 200
        message = httpx.post(
            f"http://127.0.0.1:{port}/api/auth/message", json={"address": wallets[0]["address"]}
        )
        assert message.json()["message"].startswith(f"127.0.0.1:{port} wants you to sign in")
        # SIGTERM (systemd, docker stop) stops the server *and* the node it started.
        node = json.loads((tmp_path / "home" / "chain" / "node.json").read_text())["pid"]
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        deadline = time.monotonic() + 30
        while _alive(node) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(node), "serve left its anvil running after SIGTERM"
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.split(")")[-1].split()[0] != "Z"  # a zombie has exited


def test_a_port_in_use_is_refused_before_anything_changes(tmp_path: Path) -> None:
    import socket

    home = tmp_path / "home"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tastemaker", "serve", "--port", str(port)],
            env=os.environ | {"TASTEMAKER_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert not home.exists()  # no database, no chain, no round


def test_an_unknown_host_is_a_clear_error() -> None:
    from tastemaker.errors import UsageError
    from tastemaker.web.serve import check_port

    with pytest.raises(UsageError, match=r"cannot listen on no-such-host\.invalid"):
        check_port("no-such-host.invalid", 8000)
