"""Fixtures for the titanoboa contract tests."""

from __future__ import annotations

import boa
import pytest

from .support import System, deploy_system, new_account, start_auction


@pytest.fixture
def system() -> System:
    with boa.env.anchor():
        yield deploy_system()


@pytest.fixture
def funded():
    """``funded(name, wei=10**22)``: a new account holding ``wei``."""
    return new_account


@pytest.fixture
def auctioned(system: System) -> int:
    """A work minted to the auction house with its auction started."""
    return start_auction(system)
