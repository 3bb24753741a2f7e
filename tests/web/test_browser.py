"""End to end in headless Chromium: choose a wallet, sign in, vote on several works,
see the leaderboard, bid, claim. Wallets are injected EIP-6963 announced EIP-1193
providers whose signing and sending happen in Python with the test's own keys
(eth-account + web3); a legacy `window.ethereum` wallet signs in too."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_account.signers.local import LocalAccount

from tastemaker.rounds.service import claim_data, close_round, settle_round
from tastemaker.web import siwe
from tests.web.support import ETHER, Site, build_site, send_as_wallet

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

# Two injected wallets announce themselves by EIP-6963, as browser extensions do; each
# is an EIP-1193 provider whose requests go to the Python wallets below. "Key Wallet"
# holds the test's keys; "Other Wallet" refuses everything, so choosing wrong fails.
ANNOUNCE_JS = """
(() => {
  const provider = (name) => ({
    request: async ({method, params}) => {
      const answer = JSON.parse(await window.__wallet(name, method, JSON.stringify(params || [])));
      const {error} = answer;
      if (error) throw Object.assign(new Error(error.message), {code: error.code});
      return answer.result;
    },
    on() {}, removeListener() {},
  });
  const icon = "data:image/svg+xml;base64," + btoa('<svg xmlns="http://www.w3.org/2000/svg"/>');
  const wallets = [
    {info: {uuid: "0b5d5a4c-1111-4a6e-9f00-000000000001", name: "Key Wallet", icon,
            rdns: "org.tastemaker.test.key"}, provider: provider("key")},
    {info: {uuid: "0b5d5a4c-2222-4a6e-9f00-000000000002", name: "Other Wallet", icon,
            rdns: "org.example.other"}, provider: provider("other")},
  ];
  const announce = () => {
    for (const detail of wallets) {
      const event = new CustomEvent("eip6963:announceProvider", {detail: Object.freeze(detail)});
      window.dispatchEvent(event);
    }
  };
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();
"""
# A legacy wallet: `window.ethereum` only, no announcement.
LEGACY_JS = """
window.ethereum = {
  request: async ({method, params}) => {
    const answer = JSON.parse(await window.__wallet("key", method, JSON.stringify(params || [])));
    const {error} = answer;
    if (error) throw Object.assign(new Error(error.message), {code: error.code});
    return answer.result;
  },
};
"""
# The test's own keys (not the embedded chain's DEV keys), staked before the round opens.
MEMBER = Account.from_key("0x" + "7e57" * 16)
BIDDER_KEY = Account.from_key("0x" + "b1d0" * 16)
WALLET_STAKE = 100 * ETHER


class WalletError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class PythonWallet:
    """A wallet holding one key at a time, as a browser extension would. It starts on
    mainnet and knows no other chain until the page asks it to add one."""

    def __init__(self, site: Site, chain_id: int = 1) -> None:
        self.site = site
        self.account: LocalAccount = MEMBER
        self.chain_id = chain_id
        self.known = {1, chain_id}
        self.requests: list[str] = []
        self.refused: list[str] = []

    def __call__(self, name: str, method: str, params_json: str) -> str:
        if name != "key":
            self.refused.append(method)
            return json.dumps({"error": {"code": 4001, "message": "Other Wallet: rejected"}})
        self.requests.append(method)
        try:
            return json.dumps({"result": self.answer(method, json.loads(params_json))})
        except WalletError as exc:
            return json.dumps({"error": {"code": exc.code, "message": str(exc)}})
        except Exception as exc:  # reported to the page as a rejected request
            return json.dumps({"error": {"code": 4001, "message": f"{type(exc).__name__}: {exc}"}})

    def answer(self, method: str, params: list[Any]) -> Any:
        account, chain = self.account, self.site.chain
        if method in ("eth_requestAccounts", "eth_accounts"):
            return [account.address]
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "wallet_switchEthereumChain":
            wanted = int(params[0]["chainId"], 16)
            if wanted not in self.known:
                raise WalletError(4902, f"Unrecognized chain ID {params[0]['chainId']}")
            self.chain_id = wanted
            return None
        if method == "wallet_addEthereumChain":
            spec = params[0]
            assert spec["rpcUrls"] == [chain.rpc_url] and spec["nativeCurrency"]["decimals"] == 18
            self.known.add(int(spec["chainId"], 16))
            self.chain_id = int(spec["chainId"], 16)  # as MetaMask: add, then switch
            return None
        if self.chain_id != chain.chain_id:
            raise WalletError(4901, f"the wallet is on chain {self.chain_id}")
        if method == "personal_sign":
            assert params[1] == account.address
            text = bytes.fromhex(params[0][2:]).decode()
            # What a wallet's sign-in screen needs: the message parses as EIP-4361.
            assert siwe.parse(text).address == account.address
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
    built = build_site(
        tmp_path_factory.mktemp("site") / "home",
        image_size=160,
        wallets=[(MEMBER, WALLET_STAKE), (BIDDER_KEY, 0)],
        origins=[],
    )
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


@contextmanager
def _browser(server: str, wallet: PythonWallet, script: str) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.expose_function("__wallet", wallet)
        context.add_init_script(script)
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture
def browser_page(server: str, site: Site):
    wallet = PythonWallet(site)
    with _browser(server, wallet, ANNOUNCE_JS) as page:
        yield page, wallet


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
    # Two wallets announced: the page asks which one.
    page.click("#wallet-chooser button[data-rdns='org.tastemaker.test.key']")
    page.wait_for_selector(f"#member[data-address='{account.address}']")


def test_sign_in_vote_leaderboard_bid_and_claim_in_chromium(
    browser_page, server: str, site: Site, tmp_path: Path
) -> None:
    page, wallet = browser_page
    member = MEMBER
    page.goto(server + "/vote")
    page.click("#sign-in")
    choices = page.locator("#wallet-chooser button.wallet-choice")
    assert choices.all_inner_texts() == ["Key Wallet", "Other Wallet"]
    choices.first.click()
    page.wait_for_selector(f"#member[data-address='{member.address}']")
    # The wallet was on mainnet and did not know the site's chain: switch, add, switch.
    switching = [m for m in wallet.requests if m.startswith("wallet_")]
    assert switching == ["wallet_switchEthereumChain", "wallet_addEthereumChain"]
    assert wallet.chain_id == site.chain.chain_id
    assert "personal_sign" in wallet.requests and wallet.refused == []

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
    bidder = BIDDER_KEY
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


def test_a_legacy_window_ethereum_wallet_signs_in_without_a_chooser(
    server: str, site: Site
) -> None:
    wallet = PythonWallet(site, chain_id=site.chain.chain_id)
    with _browser(server, wallet, LEGACY_JS) as page:
        page.goto(server + "/round")
        page.click("#sign-in")
        page.wait_for_selector(f"#member[data-address='{MEMBER.address}']")
        assert page.locator("#wallet-chooser").count() == 0
        assert not any(m.startswith("wallet_") for m in wallet.requests)  # already on chain


def test_the_api_docs_render_with_every_outside_host_blocked(server: str, site: Site) -> None:
    outside: list[str] = []

    def only_local(route) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with _browser(server, PythonWallet(site), "") as page:
        page.route("**/*", only_local)
        page.goto(server + "/api/docs")
        page.wait_for_selector(".opblock-summary-path[data-path='/api/auth/verify']")
        assert page.locator(".opblock").count() > 10
    assert outside == []
