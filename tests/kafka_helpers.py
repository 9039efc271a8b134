"""Helpers for tests against the local broker: settings with topic names of their own."""

from __future__ import annotations

import secrets
from typing import Any

from infra.broker import default_topics, ensure_topics
from infra.settings import Settings

# Short enough for a consumer group to join fast on Tansu (see CONTRACT.md).
TEST_MAX_POLL_INTERVAL_MS = 6000
TEST_SESSION_TIMEOUT_MS = 6000
TEST_HEARTBEAT_INTERVAL_MS = 1000

TOPIC_FIELDS = (
    "topic_members",
    "topic_payments",
    "topic_addresses",
    "topic_jobnet",
    "topic_adviser",
    "topic_handovers",
)


def unique_settings(bootstrap: str, suffix: str | None = None, **overrides: Any) -> Settings:
    """Settings for `bootstrap` whose topics and consumer group carry a random suffix."""
    suffix = suffix or secrets.token_hex(4)
    defaults = Settings.model_fields
    values: dict[str, Any] = {
        field: f"{defaults[field].default}-{suffix}" for field in TOPIC_FIELDS
    }
    values.update(
        kafka_bootstrap=bootstrap,
        kafka_group=f"ledighed-test-{suffix}",
        kafka_max_poll_interval_ms=TEST_MAX_POLL_INTERVAL_MS,
        kafka_session_timeout_ms=TEST_SESSION_TIMEOUT_MS,
    )
    values.update(overrides)
    return Settings(**values)


def settings_with_topics(bootstrap: str, **overrides: Any) -> Settings:
    """`unique_settings`, with all of its topics created on the broker."""
    settings = unique_settings(bootstrap, **overrides)
    ensure_topics(bootstrap, default_topics(settings))
    return settings


def consumer_timeouts() -> dict[str, int]:
    """kafka-python consumer options that let a group join within a second or two on Tansu."""
    return {
        "max_poll_interval_ms": TEST_MAX_POLL_INTERVAL_MS,
        "session_timeout_ms": TEST_SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": TEST_HEARTBEAT_INTERVAL_MS,
    }
