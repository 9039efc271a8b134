"""Every stored event class has a version, an upcaster for each step, and loads from a
sample of every version it was ever stored at (tests/releases/event_samples.json)."""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from domain.case import Case
from domain.member import Member
from infra.store.store import LedighedApplication

SAMPLES: dict[str, dict[str, str]] = json.loads(
    (Path(__file__).parents[1] / "releases" / "event_samples.json").read_text()
)


def stored_event_classes() -> list[type]:
    """The event classes the aggregates record (each aggregate's unused default `Created`
    aside: their first events are `Opened` and `Enrolled`)."""
    return [
        cls
        for aggregate in (Case, Member)
        for cls in vars(aggregate).values()
        if inspect.isclass(cls)
        and issubclass(cls, aggregate.Event)
        and cls not in (aggregate.Event, aggregate.Created)
    ]


@pytest.fixture(scope="module")
def mapper():  # type: ignore[no-untyped-def]
    app = LedighedApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app.mapper
    app.close()


@pytest.mark.parametrize("cls", stored_event_classes(), ids=lambda c: c.__qualname__)
def test_each_event_class_has_a_version_an_upcaster_per_step_and_loads_from_each_sample(
    cls: type, mapper
) -> None:  # type: ignore[no-untyped-def]
    version = cls.class_version  # type: ignore[attr-defined]
    assert isinstance(version, int) and version >= 1
    for step in range(1, version):
        assert callable(getattr(cls, f"upcast_v{step}_v{step + 1}", None)), (
            f"{cls.__qualname__} v{version} has no upcaster from v{step}"
        )
    samples = SAMPLES.get(get_topic(cls), {})
    assert sorted(samples, key=int) == [str(v) for v in range(1, version + 1)], (
        f"{cls.__qualname__}: a stored sample for every version 1..{version} "
        "(tools/event_samples.py adds one)"
    )
    fields = {f.name for f in dataclasses.fields(cls)}
    for state in samples.values():
        stored = StoredEvent(uuid4(), 2, get_topic(cls), state.encode())
        loaded = mapper.to_domain_event(stored)
        assert type(loaded) is cls
        missing = fields - set(vars(loaded))
        assert not missing, f"{cls.__qualname__}: loaded without {missing}: add an upcaster"


def test_every_topic_ever_stored_still_resolves_to_a_class() -> None:
    """A renamed or removed event class stays loadable: its old topic is registered
    (eventsourcing.utils.register_topic, in infra/store/store.py) to the class that reads it."""
    for topic in SAMPLES:
        assert inspect.isclass(resolve_topic(topic)), topic
