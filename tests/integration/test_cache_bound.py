"""Issue 26: `ingest` of 100,000 distinct members grew from 144 to 694 MB, its aggregate
cache bounded only at 200,000. The cache holds at most `LEDIGHED_CACHE_AGGREGATES`
aggregates after every batch, and what it forgets is loaded again: the same store."""

from __future__ import annotations

from pathlib import Path

from infra import bootstrap
from infra.demo.demo import summary
from infra.demo.demo_data import generate_lines
from infra.settings import Settings


class CacheWatch:
    """A progress bar that writes down the cache's size after each batch."""

    def __init__(self, store: object) -> None:
        self.store, self.sizes = store, []

    def update(self, _: int) -> None:
        self.sizes.append(len(self.store._cache))  # type: ignore[attr-defined]


def test_the_aggregate_cache_stays_within_its_setting_and_changes_no_outcome(
    tmp_path: Path,
) -> None:
    lines = generate_lines(seed=26, members=80, year=2021)
    outcomes = []
    for name, bound in (("small", 7), ("default", None)):
        settings = Settings(db_url=f"sqlite:///{tmp_path}/{name}.db")
        if bound is not None:
            settings = settings.model_copy(update={"cache_aggregates": bound})
        ledighed = bootstrap.application(settings)
        try:
            watch = CacheWatch(ledighed.store)
            report = ledighed.ingest(ledighed.file_records(lines, "year"), 50, progress=watch)
            ledighed.catch_up()
            outcomes.append(summary(ledighed, report, published=0))
        finally:
            ledighed.close()
        assert len(watch.sizes) > 10
        if bound is not None:
            assert max(watch.sizes) <= bound
        else:
            assert max(watch.sizes) > 7 and Settings().cache_aggregates == 50_000
    small, default = outcomes
    assert small == default
