"""Settings from the environment (LEDIGHED_*) and the command line's matching options."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.params import Settings as RuleSettings
from domain.untrusted import DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_NESTING, Limits

DEFAULT_DB_URL = "sqlite:///ledighed.db"

OTHER_VARIABLES = frozenset(
    {
        "LEDIGHED_DEBUG",  # the command line: tracebacks (infra/cli.py)
        # Read by the tests and tools/, never by the service.
        "LEDIGHED_UPDATE_GOLDEN",
        "LEDIGHED_SKIP_BROWSER",
        "LEDIGHED_SKIP_POSTGRES",
        "LEDIGHED_SKIP_KAFKA",
        "LEDIGHED_TEST_PG_URL",
        "LEDIGHED_UI_SCREENSHOTS",
        "LEDIGHED_API_FIGURES",
        "LEDIGHED_ERASURE_FIGURES",
        "LEDIGHED_BENCH_SKIP_IDS",
        "LEDIGHED_BENCH_PG",
    }
)
"""LEDIGHED_* variables that are not settings but are read on purpose elsewhere."""


class Settings(BaseSettings):
    """Where the store is, where Kafka is, and the fund's rule settings."""

    model_config = SettingsConfigDict(env_prefix="LEDIGHED_")

    db_url: str = DEFAULT_DB_URL
    # The store URL read from a file (the `_FILE` convention of docker and Kubernetes secrets,
    # e.g. /run/secrets/ledighed_db_url), so that its password is in no environment variable.
    db_url_file: str | None = None
    kafka_bootstrap: str | None = None
    kafka_group: str = "ledighed"
    kafka_max_poll_interval_ms: int = 300_000
    kafka_session_timeout_ms: int = 45_000
    # The inbound topics (CONTRACT.md); a consumer accepts any message type on any of them.
    topic_members: str = "akasse.members"
    topic_payments: str = "payments.hours"
    topic_addresses: str = "cpr.addresses"
    topic_jobnet: str = "jobnet.events"
    topic_adviser: str = "adviser.actions"
    topic_handovers: str = "jobcenter.handovers"
    # R8: payment months ("YYYY-MM") whose hours do not count, e.g. "2020-03,2020-04".
    frozen_months: str = ""
    batch_size: int = 2000
    # The calendar's day for every command and the service (YYYY-MM-DD; default the machine's
    # date): the trial's years replayed through the service as they happened, so that R16
    # and the daily tick go by the replayed day (the demo and the Kafka tests set it).
    today: date | None = None
    # A parked message (README: across topics) is given up on after this many days.
    park_days: int = 30
    # Aggregates (members and cases) kept in memory between batches, so that a long ingest
    # loads each once; the least recently used go beyond it. About 3 KB each: the default
    # bounds a process's cache near 150 MB however many members pass through it.
    cache_aggregates: int = Field(50_000, ge=0)
    # One inbound message's limits (a file's line, a Kafka record, an HTTP body): a message
    # beyond them is rejected with the reason, never decoded.
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_nesting: int = DEFAULT_MAX_NESTING
    # The HTTP API's bearer tokens (infra/http/api_auth.py): "token=role[:name],…", and/or a file
    # of such lines.
    api_tokens: str = ""
    api_tokens_file: str | None = None
    # The HTTP API's limits (README: HTTP API, limits). A posted message is a few hundred
    # bytes and one level deep; the larger allowances only leave room for long notes.
    api_max_body_bytes: int = Field(65_536, ge=1)
    api_max_depth: int = Field(8, ge=1)
    # Seconds a request may take to arrive whole (headers and body), and a connection may
    # stay idle between requests.
    api_request_timeout_s: float = Field(10.0, gt=0)
    api_keep_alive_s: int = Field(5, ge=1)
    # The most rows one page of /handovers or /access-log returns (also the default page).
    api_max_page: int = Field(1000, ge=1)
    # Each token's requests: a bucket of `burst` refilled at `rate_per_s`; empty: 429.
    api_rate_per_s: float = Field(20.0, gt=0)
    api_rate_burst: int = Field(100, ge=1)
    # Keys kept outside the database (infra/store/secrets.py): a JSON file (a mounted secret
    # too), beside a SQLite store or in the user's config dir when unset, checked against the
    # store's fingerprints (infra/store/key_check.py); `chain_key` overrides the chain's key.
    secrets_file: str | None = None
    chain_key: str | None = None
    # Days a dead letter whose member cannot be told stays readable (its own key is then
    # deleted by `erase`, `tick` and `dead-letters expire`).
    dead_letter_retention_days: int = Field(90, ge=1)
    # The pages under /ui/ (infra/ui): the key that signs their session cookies (default: a
    # random one per process, so a restart signs everyone out) and how long a session lasts.
    ui_session_key: str | None = None
    ui_session_hours: float = Field(8.0, gt=0)

    @property
    def inbound_topics(self) -> list[str]:
        return [
            self.topic_members,
            self.topic_payments,
            self.topic_addresses,
            self.topic_jobnet,
            self.topic_adviser,
        ]

    @model_validator(mode="after")
    def _db_url_from_file(self) -> Settings:
        if self.db_url_file is None:
            return self
        if "db_url" in self.model_fields_set:
            raise ValueError("give LEDIGHED_DB_URL or LEDIGHED_DB_URL_FILE, not both")
        try:
            url = Path(self.db_url_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ValueError(
                f"LEDIGHED_DB_URL_FILE {self.db_url_file}: {error.strerror or error}"
            ) from None
        if not url:
            raise ValueError(f"LEDIGHED_DB_URL_FILE {self.db_url_file} is empty")
        self.db_url = url
        return self

    @field_validator("frozen_months")
    @classmethod
    def _months(cls, value: str) -> str:
        for month in filter(None, (v.strip() for v in value.split(","))):
            date.fromisoformat(month + "-01")
        return value

    @field_validator("max_message_bytes", "max_nesting")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    def limits(self) -> Limits:
        """How big and how deep one inbound message may be."""
        return Limits(max_message_bytes=self.max_message_bytes, max_nesting=self.max_nesting)

    def rule_settings(self) -> RuleSettings:
        months = filter(None, (v.strip() for v in self.frozen_months.split(",")))
        return RuleSettings(
            frozen_months=frozenset(date.fromisoformat(m + "-01") for m in months),
            park_days=self.park_days,
        )


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One sentence for each LEDIGHED_* variable that no setting reads (pydantic-settings
    ignores them: a typo would silently leave the default), with the closest known name."""
    known = {f"LEDIGHED_{name.upper()}" for name in Settings.model_fields} | OTHER_VARIABLES
    said = []
    for name in sorted(environ):
        if not name.upper().startswith("LEDIGHED_") or name.upper() in known:
            continue
        # Compared without the prefix, which every name shares.
        close = difflib.get_close_matches(name.upper()[9:], sorted(k[9:] for k in known), n=1)
        hint = f" (did you mean LEDIGHED_{close[0]}?)" if close else ""
        said.append(f"{name} is not a ledighed setting and is ignored{hint}")
    return said
