"""The local broker: it starts, makes topics, round-trips a record and survives a pause."""

from __future__ import annotations

import os
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

from infra.kafka.broker import BrokerError, LocalBroker, default_topics, ensure_topics
from infra.settings import Settings
from tests.kafka_helpers import consumer_timeouts, unique_settings

pytestmark = pytest.mark.kafka


def _producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=10_000,
        delivery_timeout_ms=30_000,
    )


def _consume_one(bootstrap: str, topic: str, group: str, within_s: float = 15.0):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **consumer_timeouts(),
    )
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                if records:
                    record = records[0]
                    consumer.commit()
                    tp = TopicPartition(record.topic, record.partition)
                    return record, consumer.committed(tp)
        pytest.fail(f"nothing consumed from {topic} within {within_s:g} s")
    finally:
        consumer.close()


def test_default_topics_follow_the_settings():
    topics = default_topics(Settings(topic_members="m", topic_handovers="h"))

    assert topics["m"] == 3
    assert topics["m.dlq"] == 1
    assert topics["h"] == 3
    assert topics["adviser.actions.dlq"] == 1
    assert len(topics) == 11
    assert "h.dlq" not in topics


def test_topics_are_created_with_their_partitions(kafka_broker):
    settings = unique_settings(kafka_broker.bootstrap)
    wanted = default_topics(settings)

    ensure_topics(kafka_broker.bootstrap, wanted)
    ensure_topics(kafka_broker.bootstrap, wanted)  # again: nothing to do, no error

    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    try:
        assert set(wanted) <= set(admin.list_topics())
        described = admin.describe_topics(list(wanted))
    finally:
        admin.close()
    assert {t["name"]: len(t["partitions"]) for t in described} == wanted


def test_a_record_with_headers_goes_round_trip(kafka_settings, kafka_broker):
    topic = kafka_settings.topic_members
    headers = [("error", b"bad date"), ("source_offset", b"7")]
    producer = _producer(kafka_broker.bootstrap)
    try:
        sent = producer.send(
            topic, key=b"0101901234", value=b'{"message_id": "m1"}', headers=headers
        ).get(timeout=10)
    finally:
        producer.close()

    record, committed = _consume_one(kafka_broker.bootstrap, topic, kafka_settings.kafka_group)

    assert (record.partition, record.offset) == (sent.partition, sent.offset)
    assert record.key == b"0101901234"
    assert record.value == b'{"message_id": "m1"}'
    assert list(record.headers) == headers
    assert committed == record.offset + 1


def test_a_produce_during_a_pause_succeeds_after_resume(kafka_settings, kafka_broker):
    topic = kafka_settings.topic_payments
    producer = _producer(kafka_broker.bootstrap)
    try:
        producer.send(topic, key=b"k", value=b"before").get(timeout=10)  # connected, metadata
        kafka_broker.pause()
        try:
            future = producer.send(topic, key=b"k", value=b"during")
            time.sleep(0.5)
            assert not future.is_done  # the broker is frozen: no acknowledgement
        finally:
            kafka_broker.resume()
        during = future.get(timeout=15)
    finally:
        producer.close()

    consumer = KafkaConsumer(bootstrap_servers=kafka_broker.bootstrap, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, during.partition)
        consumer.assign([tp])
        consumer.seek(tp, during.offset)
        records = []
        deadline = time.monotonic() + 10
        while not records and time.monotonic() < deadline:
            records = consumer.poll(timeout_ms=500).get(tp, [])
    finally:
        consumer.close()
    assert [r.value for r in records][:1] == [b"during"]


def test_a_broker_of_its_own_starts_and_stops():
    with LocalBroker() as broker:
        host, port = broker.bootstrap.split(":")
        assert host == "127.0.0.1"
        assert int(port) > 0
        assert broker.running
        pid = broker.pid
        log = broker.log_path
        assert log is not None
        assert log.exists()
    assert not broker.running
    assert not log.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_broker_that_will_not_start_says_why(monkeypatch, tmp_path):
    fake = tmp_path / "tansu"
    fake.write_text("#!/bin/sh\necho 'cannot bind: address in use' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CALF_TANSU_BIN", str(fake))

    with pytest.raises(BrokerError, match=r"exited with code 3[\s\S]*cannot bind"):
        LocalBroker(start_timeout_s=5).start()
