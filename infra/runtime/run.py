"""Starting the service: the cluster named in the settings, or a local broker started here."""

from __future__ import annotations

import logging

from kafka.errors import KafkaTimeoutError

from infra import bootstrap as compose
from infra.bootstrap import BOOTSTRAP_TIMEOUT_MS
from infra.runtime import logs
from infra.runtime.service import Service
from infra.settings import Settings

log = logging.getLogger("ledighed.service")


def run_service(
    settings: Settings, http: tuple[str, int] | None = None, local_broker: bool = False
) -> int:
    """Run until SIGTERM/SIGINT; then finish the batch in hand and return 0. With `http`
    (host, port), the HTTP API runs on a thread beside it, with the service's numbers."""
    refuse_defaults(settings, local_broker)
    if http is not None:  # a bad token list stops the start here, before any broker runs
        from infra.http.api_auth import load_tokens

        load_tokens(settings.api_tokens, settings.api_tokens_file)
    compose.check_keys(settings.db_url)  # a missing or wrong key file: refused, nothing made
    logs.configure()
    # One service a SQLite file (refused here, before a broker starts); PostgreSQL: many.
    with compose.single_writer(settings.db_url):
        return _run_service(settings, http, local_broker)


def refuse_defaults(settings: Settings, local_broker: bool) -> None:
    """The service runs on what it was given, never on a development default: a Kafka
    address and a store named (a mistyped variable would otherwise leave the in-memory
    broker, or a SQLite file inside a container, running and healthy). `--local-broker`
    asks for the development set-up: a broker started here and the default store."""
    if local_broker:
        if settings.kafka_bootstrap:
            raise ValueError(
                "--local-broker and LEDIGHED_KAFKA_BOOTSTRAP name two brokers: give one"
            )
        return
    missing = []
    if not settings.kafka_bootstrap:
        missing.append("a Kafka address (--kafka HOST:PORT or LEDIGHED_KAFKA_BOOTSTRAP)")
    if "db_url" not in settings.model_fields_set:
        missing.append("a store (--db URL or LEDIGHED_DB_URL, e.g. postgresql+psycopg://...)")
    if missing:
        raise ValueError(
            f"the service needs {' and '.join(missing)}; "
            "--local-broker runs it on a development broker on this machine instead"
        )


def _run_service(settings: Settings, http: tuple[str, int] | None, local_broker: bool) -> int:
    broker = None
    bootstrap = settings.kafka_bootstrap or ""
    if local_broker:
        if "kafka_max_poll_interval_ms" not in settings.model_fields_set:
            # The local broker needs a short interval for a group to finish joining.
            settings = settings.model_copy(
                update={"kafka_max_poll_interval_ms": 10_000, "kafka_session_timeout_ms": 10_000}
            )
        broker = compose.local_broker().start()
        bootstrap = broker.bootstrap
        compose.create_topics(settings, bootstrap)
        log.warning(
            "started a local development broker (--local-broker); produce to it there",
            extra={"kafka": bootstrap, "pid": broker.pid},
        )
    try:
        try:
            service = Service(settings, bootstrap)
        except KafkaTimeoutError:
            raise ConnectionError(
                f"no Kafka broker answers at {bootstrap} "
                f"(waited {BOOTSTRAP_TIMEOUT_MS // 1000} s; --kafka or LEDIGHED_KAFKA_BOOTSTRAP)"
            ) from None
        service.install_signal_handlers()
        api = None
        if http is not None:
            from infra.http.serve import ApiThread

            api = ApiThread(settings, *http, service_status=service.live_status).start()
        try:
            service.run()
        finally:
            if api is not None:
                api.stop()
    finally:
        if broker is not None:
            broker.stop()
    return 0
