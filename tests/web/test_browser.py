"""End to end in headless Chromium: sign in, vote on several works, see the
leaderboard, bid, claim; the wallet is an injected EIP-1193 provider whose
signing and sending happen in Python with a test key (eth-account + web3)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from eth_account.messages import encode_defunct, encode_typed_data
from eth_account.signers.local import LocalAccount

from tastemaker.chain.client import dev_account
from tastemaker.rounds.service import claim_data, close_round, settle_round
from tests.web.support import BIDDER, Site, build_site, send_as_wallet

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"

# The page's `window.ethereum`: every request goes to the Python wallet below.
PROVIDER_JS = """
window.ethereum = {
  isPythonWallet: true,
  request: async ({method, params}) => {
    const answer = JSON.parse(await window.__wallet(method, JSON.stringify(params || [])));
    if (answer.error) { const e = new Error(answer.error); e.code = 4001; throw e; }
    return answer.result;
  },
};
"""


class PythonWallet:
    """A wallet holding one test key at a time, as a browser extension would."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.account: LocalAccount = site.members[1]
        self.requests: list[str] = []

    def __call__(self, method: str, params_json: str) -> str:
        self.requests.append(method)
        try:
            return json.dumps({"result": self.answer(method, json.loads(params_json))})
        except Exception as exc:  # reported to the page as a rejected request
            return json.dumps({"error": f"{type(exc).__name__}: {exc}"})

    def answer(self, method: str, params: list[Any]) -> Any:
        account, chain = self.account, self.site.chain
        if method in ("eth_requestAccounts", "eth_accounts"):
            return [account.address]
        if method == "personal_sign":
            assert params[1] == account.address
            text = bytes.fromhex(params[0][2:]).decode()
            return "0x" + bytes(account.sign_message(encode_defunct(text=text)).signature).hex()
        if method == "eth_signTypedData_v4":
            assert params[0] == account.address
            signed = account.sign_message(encode_typed_data(full_message=json.loads(params[1])))
            return "0x" + bytes(signed.signature).hex()
        if method == "eth_sendTransaction":
            return "0x" + bytes(send_as_wallet(chain, account, params[0])["transactionHash"]).hex()
        raise ValueError(f"unsupported method {method}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Works rendered at 160 px here: the screenshots double as the docs' pictures."""
    # No configured origins: the loopback address the browser uses is trusted as is.
    built = build_site(tmp_path_factory.mktemp("site") / "home", image_size=160, origins=[])
    yield built
    built.close()


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(site.app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser_page(server: str, site: Site):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    wallet = PythonWallet(site)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.expose_function("__wallet", wallet)
        context.add_init_script(PROVIDER_JS)
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page, wallet
        context.close()
        browser.close()


def _shot(page, tmp_path: Path, name: str) -> None:
    """Screenshot into the test's tmp dir; refresh docs/images when asked (or missing),
    so an ordinary test run leaves the working tree clean."""
    path = tmp_path / f"web-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one
    docs = DOCS_IMAGES / f"web-{name}.png"
    if os.environ.get("TASTEMAKER_UPDATE_DOC_IMAGES") or not docs.exists():
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, docs)


def _sign_in(page, server: str, wallet: PythonWallet, account: LocalAccount, path: str) -> None:
    wallet.account = account
    page.goto(server + path)
    if page.locator("#sign-out").count():
        page.click("#sign-out")
        page.wait_for_selector("#sign-in")
    page.click("#sign-in")
    page.wait_for_selector(f"#member[data-address='{account.address}']")


def test_sign_in_vote_leaderboard_bid_and_claim_in_chromium(
    browser_page, server: str, site: Site, tmp_path: Path
) -> None:
    page, wallet = browser_page
    member = site.members[1]
    _sign_in(page, server, wallet, member, "/vote")
    assert "personal_sign" in wallet.requests

    # Vote on several works: keyboard up, button down, keyboard up after changing VP.
    image = page.locator("#work")
    page.wait_for_function("document.getElementById('work').dataset.work")
    voted = []
    for i, action in enumerate(["ArrowUp", "down", "k", "ArrowUp"]):
        work = image.get_attribute("data-work")
        voted.append(work)
        page.fill("#amount", str(10 + i))
        page.locator("#amount").blur()
        if action == "down":
            page.click("#vote-down")
        else:
            page.keyboard.press(action)
        page.wait_for_function(f"document.getElementById('voted').textContent === '{i + 1}'")
        assert "Vote accepted" in page.inner_text("#status")
    assert len(set(voted)) == 4
    assert page.inner_text("#remaining") == str(100 - (10 + 11 + 12 + 13))
    assert wallet.requests.count("eth_signTypedData_v4") == 4
    _shot(page, tmp_path, "vote")

    # The leaderboard (the test round closes within the hour: the final day).
    page.goto(server + "/round")
    rows = page.locator("#leaderboard tbody tr")
    assert rows.count() == 8
    top_image = rows.first.locator("img").get_attribute("src")
    assert voted[3] in top_image  # 13 VP up over 8 pool works: the top score
    _shot(page, tmp_path, "round")

    # Close the round (the operator's step), then bid from another member's wallet.
    assert close_round(site.ctx, site.round, force=True) == "auction"
    bidder = dev_account(BIDDER)
    _sign_in(page, server, wallet, bidder, "/auction")
    page.fill("#bid-amount", "0.5")
    page.click("#bid")
    page.wait_for_selector("#bids li strong:has-text('0.5000 ETH')")
    assert bidder.address[:6] in page.inner_text("#bids")
    token = site.chain.auction(int(page.get_attribute("#live-auction", "data-token")))
    assert token.bidder == bidder.address and token.amount == 5 * 10**17
    _shot(page, tmp_path, "auction")

    # The auction ends and settles; the voter claims their share.
    site.chain.advance_time(3700)
    assert settle_round(site.ctx, site.round) == "settled"
    _sign_in(page, server, wallet, member, "/rewards")
    claimable = page.inner_text("#claimable")
    assert claimable != "0.0000 ETH"
    _shot(page, tmp_path, "rewards")
    page.click("#claim")
    page.wait_for_selector("#claimable:has-text('0.0000 ETH')")
    claim = claim_data(site.ctx, member.address)
    assert claim is not None and site.chain.claimed(claim.index) == claim.cumulative
    assert wallet.requests.count("eth_sendTransaction") == 2

    page.goto(server + "/taste")
    assert page.locator("svg.plot").count() == 4
    _shot(page, tmp_path, "taste")
    page.goto(server + "/gallery")
    assert page.locator(f"#round-{site.round} a.print").count() == 1
    _shot(page, tmp_path, "gallery")
    page.goto(server + "/auction")
    assert page.locator("#settled tbody tr").count() == 1
