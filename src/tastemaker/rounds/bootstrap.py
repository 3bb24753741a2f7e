"""Wire the round service to the configured database, chain, media store and policy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tastemaker.chain.client import ChainClient
from tastemaker.chain.settings import ChainSettings
from tastemaker.errors import UsageError
from tastemaker.generate.backends import get_backend
from tastemaker.rounds.curation import Curator, RandomCurator
from tastemaker.rounds.service import RoundContext
from tastemaker.rounds.settings import RoundSettings
from tastemaker.settings import Settings, get_settings
from tastemaker.store.db import Database
from tastemaker.store.media import MediaStore


def make_curator(name: str, settings: Settings) -> Curator:
    curators: dict[str, Callable[[], Curator]] = {"random": RandomCurator}
    try:
        from tastemaker.taste.policy import TasteCurator
    except ImportError:  # the taste extra is optional
        pass
    else:
        curators["taste"] = lambda: TasteCurator(settings.home / "taste")
    if name not in curators:
        raise UsageError(f"unknown curator {name!r}; known: {', '.join(sorted(curators))}")
    return curators[name]()


@contextmanager
def round_context(
    settings: Settings | None = None,
    round_settings: RoundSettings | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[RoundContext]:
    """A context over the deployment's adapters; closes them (and the embedded node)."""
    settings = settings or get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(settings.db_url)
    chain = ChainClient.connect(ChainSettings(home=settings.home))
    try:
        chain.check_deployment()
        yield RoundContext(
            db=db,
            chain=chain,
            media=MediaStore(settings.media_dir),
            settings=round_settings or RoundSettings(),
            curator=make_curator(settings.curator, settings),
            home=settings.home,
            engine_name=settings.engine,
            backend=get_backend(settings.generate_backend, settings.ray_address),
            on_progress=on_progress,
        )
    finally:
        db.dispose()
        chain.close()
