"""Playing JSON lines onto the upstream topics, as the a-kasse's systems would send them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from kafka import KafkaProducer

from infra.settings import Settings

# CONTRACT.md, "Default topics": which upstream system sends which type.
_TOPIC_OF_TYPE = {
    "unemployed": "topic_members",
    "notice_signup": "topic_members",
    "akasse_changed": "topic_members",
    "hours_paid": "topic_payments",
    "moved": "topic_addresses",
    "deregistered": "topic_jobnet",
    "holiday_requested": "topic_jobnet",
    "sickness_reported": "topic_jobnet",
}


def route(line: str, settings: Settings) -> tuple[str, bytes | None]:
    """The topic and key (the member's CPR) of one line; a line that is not a JSON object
    with a type goes to the members topic without a key, where the consumer rejects it."""
    try:
        message = json.loads(line)
    except ValueError:
        return settings.topic_members, None
    if not isinstance(message, dict):
        return settings.topic_members, None
    field = _TOPIC_OF_TYPE.get(str(message.get("type")), "topic_adviser")
    cpr = message.get("cpr")
    return getattr(settings, field), str(cpr).encode() if cpr else None


def play(
    lines: Iterable[str],
    settings: Settings,
    producer: KafkaProducer,
    sent: Callable[[int], None] = lambda n: None,
) -> int:
    """Send every line in order (one member's lines keep their order: same key, same
    partition) and wait until the broker has them all."""
    count = 0
    for line in lines:
        topic, key = route(line, settings)
        producer.send(topic, key=key, value=line.encode())
        count += 1
        if count % 500 == 0:
            sent(500)
    producer.flush()
    sent(count % 500)
    return count
