"""The Kafka benchmark runs end to end on a tiny year (figures only checked to be positive)."""

from __future__ import annotations

import re

import pytest

from tools import bench_kafka

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

NUMBER = r"\d[\d,]*(?:\.\d+)?"


def _figures(out: str, path: str) -> list[float]:
    line = next(line for line in out.splitlines() if line.startswith(path))
    # after the path's own words: records, events/rows, polls, seconds, in poll(), records/s,
    # events/s
    return [float(n.replace(",", "")) for n in re.findall(NUMBER, line.split(")", 1)[1])]


def test_bench_kafka_runs_on_a_tiny_year(kafka_broker, postgres_url, capsys):
    argv = ["--members", "20", "--kafka", kafka_broker.bootstrap, "--pg-url", postgres_url]
    # goal 6 at one low rate for two seconds: a year of about 30 members through `ledighed run`
    argv += ["--latency-rates", "200", "--latency-seconds", "2"]
    assert bench_kafka.main(argv) == 0
    out = capsys.readouterr().out

    assert "PostgreSQL" in out
    produced = re.search(rf"({NUMBER}) records produced", out)
    assert produced is not None
    total = float(produced.group(1).replace(",", ""))
    assert total > 0
    for path in ("service (InboundConsumer + StoreSink)", "baseline (kafka-python + Core"):
        figures = _figures(out, path)
        assert len(figures) == 7, (path, figures)
        records, events, polls, seconds, polling, per_s, events_per_s = figures
        assert records == total, (path, figures)
        assert events > 0 and polls > 0 and per_s > 0 and events_per_s > 0, (path, figures)
        # seconds print with two decimals and can round to 0.00 on a tiny year
        assert seconds >= 0 and polling >= 0, (path, figures)
    assert "group join before it is excluded" in out
    verdict = re.search(r"service / baseline: (\d+\.\d+)x records/s \(aim ≥ 0\.5x\)", out)
    assert verdict is not None and float(verdict.group(1)) > 0
    latency = re.search(
        rf"200 records/s asked \(({NUMBER}) kept up\), ({NUMBER}) records: ({NUMBER}) handovers "
        rf"decided by a record, p50 ({NUMBER}) ms, p99 ({NUMBER}) ms",
        out,
    )
    assert latency is not None, out
    kept_up, records, handovers, p50, p99 = (float(g.replace(",", "")) for g in latency.groups())
    assert kept_up > 0 and records > 0 and handovers > 0 and 0 < p50 <= p99, latency.groups()
