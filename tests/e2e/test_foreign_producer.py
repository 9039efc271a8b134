"""Records as a producer the project did not write sends them (confluent-kafka, librdkafka),
read by the running service from the local broker: every codec, headers, tombstones and a
transactional producer's records; and records the client cannot decode, which become dead
letters while the partition reads on (issue 19)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import kafka.codec
import pytest
from confluent_kafka import Producer

from consumers.records import TOMBSTONE
from infra.reads import case_dicts
from infra.settings import Settings
from infra.store.store import Store
from tests.kafka_helpers import (
    LogCounter,
    ServiceThreads,
    counting_log,
    hours,
    read_until,
    registration,
    wait_for,
)

pytestmark = pytest.mark.kafka

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
AS_OF = date(2021, 12, 31)


def cpr_of(i: int) -> str:
    return f"0101852{i:03d}"  # born 1985-01-01


def produce(bootstrap: str, topic: str, records: list[tuple[str, Any]], **config: Any) -> None:
    """(key, message or None) pairs in one go: librdkafka batches them (compressed as
    `config` says), each with a header; None is a tombstone. Keys are hashed as the Java
    client and kafka-python hash them (README, *Producers*)."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 50,
            "partitioner": "murmur2_random",
            **config,
        }
    )
    for key, value in records:
        producer.produce(
            topic,
            key=key.encode(),
            value=None if value is None else json.dumps(value).encode(),
            headers=[("producer", b"confluent-kafka"), ("trace", None)],
        )
    assert producer.flush(30) == 0, "records left unsent"


def member(i: int, tag: str) -> list[tuple[str, Any]]:
    cpr = cpr_of(i)
    return [
        (cpr, registration(f"{tag}-{i}-reg", cpr)),
        (cpr, hours(f"{tag}-{i}-h", "2021-03", 100, cpr)),
    ]


Logged = LogCounter


@pytest.fixture
def logged() -> Iterator[Logged]:
    """The service's log lines (logger `ledighed`), by message."""
    with counting_log(logging.INFO) as handler:
        yield handler


def hours_paid(service: Any, cpr: str, settings: Settings) -> list[float]:
    return [
        c["hours_paid"]
        for c in case_dicts(service.ledighed.store, cpr, AS_OF, settings.rule_settings())
    ]


def test_every_codec_headers_tombstones_and_transactions_from_librdkafka_are_read(
    kafka_settings: Settings, tmp_path: Any, services: ServiceThreads
) -> None:
    settings = kafka_settings.model_copy(update={"db_url": f"sqlite:///{tmp_path}/codecs.db"})
    bootstrap = settings.kafka_bootstrap or ""
    topic = settings.topic_members
    for i, codec in enumerate(CODECS):
        produce(bootstrap, topic, member(i, codec), **{"compression.type": codec})
    tombstone_cpr = cpr_of(0)
    produce(bootstrap, topic, [(tombstone_cpr, None)], **{"compression.type": "lz4"})
    # A transactional producer: a committed registration, aborted hours, committed hours;
    # each transaction ends with a control record on the partition.
    tx = Producer(
        {
            "bootstrap.servers": bootstrap,
            "transactional.id": f"tx-{topic}",
            "partitioner": "murmur2_random",
        }
    )
    tx.init_transactions(30)
    cpr = cpr_of(9)
    for message_id, month, commit in (("tx-h1", "2021-03", True), ("tx-h2", "2021-04", False)):
        tx.begin_transaction()
        if month == "2021-03":
            tx.produce(topic, key=cpr.encode(), value=json.dumps(registration("tx-reg", cpr)))
        tx.produce(topic, key=cpr.encode(), value=json.dumps(hours(message_id, month, 50, cpr)))
        if commit:
            tx.commit_transaction(30)
        else:
            tx.abort_transaction(30)
    tx.begin_transaction()
    tx.produce(topic, key=cpr.encode(), value=json.dumps(hours("tx-h3", "2021-05", 70, cpr)))
    tx.commit_transaction(30)

    service = services.start(settings)
    good = 2 * len(CODECS) + 3
    wait_for(lambda: service.sink.totals.accepted == good, what="every committed record")
    wait_for(lambda: len(service.sink.totals.rejected) == 1, what="the tombstone's dead letter")
    for i, _codec in enumerate(CODECS):
        assert hours_paid(service, cpr_of(i), settings) == [100]
    # The aborted transaction's hours are not applied; the committed ones around them are.
    assert hours_paid(service, cpr, settings) == [120]
    (letter,) = service.ledighed.store.dead_letters()
    assert letter["error"] == TOMBSTONE
    where = letter["source"]
    assert where["topic"] == topic and where["offset"] is not None
    # In the DLQ: the member's key, a text naming the record (it had no value), the reason.
    (dead,) = read_until(bootstrap, f"{topic}.dlq", lambda records: len(records) >= 1)
    assert dead.key == tombstone_cpr.encode()
    assert dead.value == f"[no message: {topic}:{where['partition']}@{where['offset']}]".encode()
    assert dict(dead.headers)["error"] == TOMBSTONE.encode()
    assert service.sink.totals.accepted == good  # nothing more, nothing twice
    assert services.alive() and services.errors == []


CORRUPTING_PRODUCER = """
import sys
import kafka.record.default_records as records
from kafka import KafkaProducer

crc = records.calc_crc32c
records.calc_crc32c = lambda data: crc(data) ^ 1  # every batch's CRC one bit off
producer = KafkaProducer(bootstrap_servers=sys.argv[1], acks="all", linger_ms=50)
for value in sys.argv[4:]:
    producer.send(sys.argv[2], key=sys.argv[3].encode(), value=value.encode())
producer.flush(30)
"""


def produce_corrupt(bootstrap: str, topic: str, key: str, values: list[Any]) -> None:
    """One batch whose CRC is wrong, as a disk or a broker could corrupt one: Tansu keeps
    what it is sent, so the consumer gets the bad bytes (Apache Kafka would refuse the
    produce, CORRUPT_MESSAGE). A process of its own, so that the fault stays there."""
    subprocess.run(
        [sys.executable, "-c", CORRUPTING_PRODUCER, bootstrap, topic, key]
        + [json.dumps(v) for v in values],
        check=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("cause", "says"),
    [
        ("codec", ("UnsupportedCodecError", "zstd")),
        ("corrupt", ("CorruptRecordError", "crc check")),
    ],
)
def test_records_the_client_cannot_decode_are_dead_letters_and_the_partition_reads_on(
    kafka_settings: Settings,
    tmp_path: Any,
    services: ServiceThreads,
    logged: Logged,
    monkeypatch: pytest.MonkeyPatch,
    cause: str,
    says: tuple[str, str],
) -> None:
    """Between readable records, three the client cannot decode: a zstd batch read by a
    kafka-python without zstd here (any codec it lacks, a newer one: the broker's real
    bytes, the client's real error), or a batch whose CRC is wrong."""
    settings = kafka_settings.model_copy(update={"db_url": f"sqlite:///{tmp_path}/bad.db"})
    bootstrap = settings.kafka_bootstrap or ""
    topic = settings.topic_payments
    cpr = cpr_of(20)
    produce(bootstrap, topic, [(cpr, registration("u-reg", cpr))])
    bad = [hours(f"u-b{n}", f"2021-0{n}", 10, cpr) for n in (3, 4, 5)]
    if cause == "codec":
        monkeypatch.setattr(kafka.codec, "has_zstd", lambda: False)
        produce(bootstrap, topic, [(cpr, m) for m in bad], **{"compression.type": "zstd"})
    else:
        produce_corrupt(bootstrap, topic, cpr, bad)
    produce(bootstrap, topic, [(cpr, hours("u-after", "2021-06", 20, cpr))])

    service = services.start(settings)
    wait_for(lambda: service.sink.totals.accepted == 2, what="the readable records")
    letters = service.ledighed.store.dead_letters()
    assert [letter["source"]["offset"] for letter in letters] == [1, 2, 3]
    partition = letters[0]["source"]["partition"]
    for letter in letters:
        assert letter["source"]["topic"] == topic and letter["source"]["partition"] == partition
        assert all(part in letter["error"] for part in says), letter["error"]
        assert letter["error"].startswith("the record could not be read from Kafka (")
    assert hours_paid(service, cpr, settings) == [20]
    skipped = "records could not be read from Kafka; kept as dead letters and skipped"
    assert logged.seen[skipped] == 1
    stored = service.ledighed.stored_offsets(settings.kafka_group, [(topic, partition)])
    assert stored == {(topic, partition): 5}
    assert services.alive() and services.errors == []


def test_ledighed_run_reads_every_codec_and_keeps_running(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    """`ledighed run` as a process: librdkafka's lz4 record made it exit 1 on every start."""
    from tests.e2e.test_kafka_failures import ServiceProcess

    db_url = f"sqlite:///{tmp_path}/run.db"
    bootstrap = kafka_settings.kafka_bootstrap or ""
    for i, codec in enumerate(CODECS):
        produce(
            bootstrap,
            kafka_settings.topic_jobnet,
            member(30 + i, f"run-{codec}"),
            **{"compression.type": codec},
        )
    service = ServiceProcess(kafka_settings, db_url, tmp_path / "run.log", 50)
    store = None
    try:
        service.start()

        def applied() -> bool:
            nonlocal store
            if store is None:
                if not (tmp_path / "run.db").exists():
                    return False
                store = Store(db_url)
            return all(store.cases_of(cpr_of(30 + i)) for i in range(len(CODECS)))

        service.wait(applied, 60, "every codec's member")
        assert service.alive()
        assert service.terminate() == 0, service.log_tail()
    finally:
        service.cleanup()
        if store is not None:
            store.close()
    store = Store(db_url)
    try:
        for i in range(len(CODECS)):
            (case,) = store.cases_of(cpr_of(30 + i))
            assert [p.hours for p in case.facts.payments] == [100]
        assert store.dead_letters() == []
    finally:
        store.close()
