"""`tastemaker chain deploy|status` through the CLI entry point, including the one-line
errors (exit code 2) for causes a user can fix."""

from __future__ import annotations

import json
import socket

import pytest
from eth_account import Account

import tastemaker.cli
from tastemaker.chain.node import find_anvil

from .test_client import ANVIL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ANVIL is None, reason="anvil is not installed (see test_client.py)"),
]


@pytest.fixture
def run(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TASTEMAKER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TASTEMAKER_CHAIN_ANVIL", str(ANVIL))
    # Register only the chain group: these tests are about it alone.
    monkeypatch.setattr(tastemaker.cli, "_register", lambda: __import__("tastemaker.cli.chain"))

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.argv", ["tastemaker", *args])
        with pytest.raises(SystemExit) as exit_info:
            tastemaker.cli.main()
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    return invoke


def test_deploy_then_status(run):
    code, out, _ = run("chain", "deploy")
    assert code == 0
    assert "auction" in out and "0x" in out
    code, out, _ = run("chain", "status")
    assert code == 0
    for word in ("chain     31337", "token", "staking", "works", "distributor", "treasury"):
        assert word in out
    code, _, err = run("chain", "deploy")
    assert code == 2
    assert "already deployed" in err and "Traceback" not in err


def test_status_before_deploy_says_what_to_do(run):
    code, out, _ = run("chain", "status")
    assert code == 0
    assert "tastemaker chain deploy" in out


def test_unreachable_node_is_one_line_exit_2(run, monkeypatch, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    key = tmp_path / "key.json"
    key.write_text(json.dumps(Account.encrypt(b"\x01" * 32, "pw", iterations=2**10)))
    monkeypatch.setenv("TASTEMAKER_CHAIN_RPC_URL", url)
    monkeypatch.setenv("TASTEMAKER_CHAIN_KEYSTORE", str(key))
    monkeypatch.setenv("TASTEMAKER_CHAIN_PASSWORD", "pw")
    code, _, err = run("chain", "status")
    assert code == 2
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert f"cannot reach the chain node at {url}" in err


def test_missing_keystore_is_named(run, monkeypatch, tmp_path):
    monkeypatch.setenv("TASTEMAKER_CHAIN_RPC_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("TASTEMAKER_CHAIN_KEYSTORE", str(tmp_path / "missing.json"))
    code, _, err = run("chain", "deploy")
    assert code == 2
    assert "keystore file not found" in err


def test_missing_password_is_named(run, monkeypatch, tmp_path):
    key = tmp_path / "key.json"
    key.write_text('{"address": "00", "crypto": {}, "version": 3}')
    monkeypatch.setenv("TASTEMAKER_CHAIN_RPC_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("TASTEMAKER_CHAIN_KEYSTORE", str(key))
    monkeypatch.delenv("TASTEMAKER_CHAIN_PASSWORD", raising=False)
    code, _, err = run("chain", "status")
    assert code == 2
    assert "TASTEMAKER_CHAIN_PASSWORD" in err


def test_anvil_lookup_prefers_the_configured_path(tmp_path):
    assert find_anvil(ANVIL, tmp_path) == ANVIL


def test_roles_propose_execute_and_veto_through_the_cli(run):
    """status shows role holders, the delay and pending operations; a parameter changes
    through propose/execute after the dev chain's delay; refusals are one line, exit 2."""
    assert run("chain", "deploy")[0] == 0
    code, out, _ = run("chain", "status")
    assert code == 0
    for word in ("OPERATOR_ROLE", "GUARDIAN_ROLE", "PROPOSER_ROLE", "MINTER_ROLE", "delay 5 s"):
        assert word in out
    code, out, _ = run("chain", "propose", "auction", "set_shares", "4000", "1000")
    assert code == 0, out
    op = out.split("scheduled ")[1].split(",")[0]
    code, _, err = run("chain", "execute", op)
    assert code == 2 and "is ready at chain time" in err and "Traceback" not in err
    code, out, _ = run("chain", "status")
    assert "auction.set_shares(4000, 1000)" in out
    code, out, err = run("chain", "execute", op, "--wait")
    assert code == 0, err
    code, _, err = run("chain", "propose", "auction", "set_shares", "9000", "2000")
    assert code == 0  # scheduling is not checked; executing the bad call is refused
    code, _, err = run("chain", "propose", "auction", "set_shares", "1")
    assert code == 2 and "takes 2 arguments" in err
    code, _, err = run("chain", "veto-root")
    assert code == 2 and "nothing to veto" in err and "Traceback" not in err
