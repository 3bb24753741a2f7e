"""Facts the docs state that the code decides: they must agree."""

from __future__ import annotations

import re
from pathlib import Path

from tastemaker.chain.client import dev_account
from tastemaker.chain.deployment import DEV_TREASURY

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_each_decision_record_is_titled_with_its_own_number() -> None:
    for path in sorted((DOCS / "decisions").glob("*.md")):
        number = path.name.split("-", 1)[0]
        title = path.read_text().splitlines()[0]
        assert title.startswith(f"# {number}: "), f"{path.name} is titled {title!r}"


def test_the_chain_docs_name_the_dev_treasury_the_deployment_uses() -> None:
    text = " ".join((DOCS / "chain.md").read_text().split())
    named = re.search(r"the treasury is development account (\d+) \(`(0x[0-9a-fA-F]{40})`", text)
    assert named, "docs/chain.md does not say which account is the dev treasury"
    assert int(named.group(1)) == DEV_TREASURY
    assert named.group(2) == dev_account(DEV_TREASURY).address
