"""Text works on the site: the work API's media fields, the text served as text, and
every page showing it as escaped readable type (never markup, never an image)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tastemaker.generate.submissions import import_submissions
from tastemaker.rounds.service import close_round, open_round
from tastemaker.rounds.settings import RoundSettings
from tastemaker.web import create_app
from tastemaker.web.settings import WebSettings
from tests.rounds.scenario import staked_context
from tests.web import test_browser
from tests.web.support import ETHER, STAKES, Clock, Site, siwe_sign_in, vote

pytestmark = pytest.mark.slow
# The browser fixtures of test_browser.py, over this module's ``site`` of text works.
browser_page, server = test_browser.browser_page, test_browser.server
HOSTILE = '<script>alert("pwned")</script> & <b>bold</b> claims'
JOKES = [HOSTILE] + [f"Joke {i}: a {w} walks into a bar. The bartender sighs." for i, w in
                     enumerate(["horse", "neutron", "pun", "pirate", "duck", "skeleton",
                                "penguin", "mime", "ghost", "robot", "cat"])]  # fmt: skip


def build_text_site(home: Path, monkeypatch: pytest.MonkeyPatch, **web) -> Site:
    source = home.parent / "jokes.jsonl"
    source.parent.mkdir(parents=True, exist_ok=True)
    import json

    source.write_text(
        "\n".join(json.dumps({"item_id": f"j{i}", "text": t}) for i, t in enumerate(JOKES))
    )
    import_submissions(source, home.parent / "imported")
    monkeypatch.setenv("TASTEMAKER_SUBMISSIONS_DIR", str(home.parent / "imported"))
    settings = RoundSettings(candidates=12, new_works=12, pool_size=12, voting_seconds=3600)
    ctx, members = staked_context(home, STAKES, settings)
    ctx.engine_name = "submissions"
    number = open_round(ctx)
    clock = Clock()
    web = {"origins": ["http://testserver"]} | web
    app = create_app(ctx, WebSettings(secret_key="test-secret", print_size=96, **web), now=clock)
    return Site(ctx, app, clock, members, number)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        built = build_text_site(tmp_path_factory.mktemp("text") / "home", monkeypatch, origins=[])
        yield built
        built.close()


def _hostile_work(client: TestClient, number: int) -> dict:
    pool = client.get(f"/api/rounds/{number}/pool", params={"limit": 50}).json()["items"]
    texts = {w["content_hash"]: client.get(w["media_url"]).text for w in pool}
    assert len(pool) == len(JOKES) and set(texts.values()) == set(JOKES)
    return next(w for w in pool if texts[w["content_hash"]] == HOSTILE)


# Runs first: the API test below closes the round.
def test_voting_on_a_text_work_in_chromium(browser_page, server: str, site: Site, tmp_path) -> None:
    from tests.web.test_browser import _shot, _sign_in

    page, wallet = browser_page
    _sign_in(page, server, wallet, site.members[2], "/vote")
    page.wait_for_function("document.getElementById('work-text').textContent.length > 5")
    assert page.locator("#work").is_hidden() and page.locator("#work-text").is_visible()
    shown = page.inner_text("#work-text")
    assert shown in JOKES
    page.keyboard.press("ArrowUp")
    page.wait_for_function("document.getElementById('voted').textContent !== '0'")
    page.wait_for_function(
        f"document.getElementById('work-text').textContent !== {shown!r}"
        " && document.getElementById('work-text').textContent !== '…'"
    )
    assert page.inner_text("#work-text") in JOKES
    assert page.evaluate("document.querySelectorAll('#work-text *').length") == 0  # text only
    _shot(page, tmp_path, "vote-text")


def test_text_works_in_the_api_and_on_every_page(site: Site) -> None:
    with TestClient(site.app, base_url="http://127.0.0.1") as client:
        work = _hostile_work(client, site.round)
        assert work["media_type"] == "text/plain" and work["size"] == 0
        media = client.get(work["media_url"])
        assert media.headers["content-type"] == "text/plain; charset=utf-8"
        image = client.get(work["image_url"])
        assert image.status_code == 404 and image.json()["code"] == "not_an_image"
        assert client.get(f"/api/works/{work['content_hash']}/print").status_code == 404

        siwe_sign_in(client, site.members[1])
        response = vote(client, site.members[1], site.round, work["content_hash"], 1, 30 * ETHER)
        assert response.status_code == 200, response.text
        nxt = client.post(f"/api/rounds/{site.round}/next").json()["work"]
        assert nxt["media_type"] == "text/plain" and nxt["media_url"].endswith("/media")

        page = client.get("/round").text  # the live leaderboard, as short excerpts
        assert "&lt;script&gt;" in page and "<script>alert" not in page
        assert close_round(site.ctx, site.round, force=True) == "auction"
        for path in ("/auction", "/gallery", "/round"):
            html = client.get(path).text
            assert "<script>alert" not in html, path
            assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html, path
        gallery = client.get("/gallery").text
        assert 'class="text-work"' in gallery and "Print-size render" not in gallery
