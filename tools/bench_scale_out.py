"""Goal 3 of issue 9: one instance against two on the same backlog, one consumer group, one
PostgreSQL store. Each instance is a process of its own running the service's consumer
and sink (`InboundConsumer`, `StoreSink`); the figure is the records of the backlog over
the time from the first records polled by any instance to the last batch applied by any.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from kafka import KafkaConsumer

IDLE_S = 8.0  # an instance stops after this long with no records, once it has had some
START_WAIT_S = 90.0  # or with none at all (the other instance took every partition)


def worker(settings_json: str, url: str) -> int:
    """One instance: poll and apply until idle; prints what it did as one JSON line."""
    from consumers.inbound import InboundConsumer
    from infra import bootstrap as compose
    from infra.runtime.service import StoreSink
    from infra.settings import Settings

    settings = Settings(**json.loads(settings_json))
    ledighed = compose.application(settings.model_copy(update={"db_url": url}))
    sink = StoreSink(ledighed, ledighed.settings)
    consumer = compose.kafka_consumer(settings, settings.kafka_bootstrap or "")
    inbound = InboundConsumer(
        cast(KafkaConsumer, consumer), sink, settings.inbound_topics, settings.batch_size
    )
    first = last = None
    started = idle_since = time.time()
    try:
        while True:
            n = inbound.poll_once(timeout_ms=500)
            now = time.time()
            if n:
                first = first if first is not None else now
                last, idle_since = now, now
            elif now - idle_since > (IDLE_S if first is not None else START_WAIT_S):
                break
    finally:
        inbound.close()
        ledighed.close()
    totals = sink.totals
    handled = totals.accepted + totals.duplicates + len(totals.rejected)
    print(json.dumps({"first": first, "last": last, "handled": handled, "started": started}))
    return 0


def measure(instances: int, settings: Any, url: str, total: int) -> dict[str, float]:
    """`instances` processes in one fresh consumer group on the fresh store at `url`."""
    from infra import bootstrap as compose

    compose.store(url).close()  # made once, before the instances race to open it
    group = settings.model_copy(update={"kafka_group": f"scale-{secrets.token_hex(4)}"})
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tools.bench_scale_out",
                "--worker",
                group.model_dump_json(),
                url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        for _ in range(instances)
    ]
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=1800)
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    handled = sum(r["handled"] for r in results)
    if handled != total:
        raise RuntimeError(f"{instances} instance(s): {handled:,} handled, {total:,} produced")
    firsts = [r["first"] for r in results if r["first"] is not None]
    seconds = max(r["last"] for r in results if r["last"] is not None) - min(firsts)
    return {"seconds": seconds, "records_per_s": total / seconds, "busy": len(firsts)}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--worker":
        return worker(args[1], args[2])
    from infra.demo.demo_data import generate_lines
    from infra.kafka.broker import default_topics, ensure_topics
    from tools.bench import DEFAULT_PG_URL, postgres_target
    from tools.bench_kafka import bench_settings, cluster, produce

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--batch-size", type=int, default=2000)
    options = parser.parse_args(args)
    lines = generate_lines(seed=2021, members=options.members)
    with cluster(None) as bootstrap:
        settings = bench_settings(bootstrap, options.batch_size)
        ensure_topics(bootstrap, default_topics(settings))
        total = sum(produce(bootstrap, settings, lines).values())
        target = postgres_target(options.pg_url)
        runs = {}
        for instances in (1, 2):
            print(f"{instances} instance(s) ...", file=sys.stderr, flush=True)
            with target(f"scale-{instances}") as url:
                runs[instances] = measure(instances, settings, url, total)
    print(f"== scale-out: {total:,} records, PostgreSQL, {os.cpu_count()} cores ==")
    for instances, run in runs.items():
        print(
            f"{instances} instance(s): {run['seconds']:.1f} s, {run['records_per_s']:,.0f} "
            f"records/s ({run['busy']:.0f} got records)"
        )
    ratio = runs[2]["records_per_s"] / runs[1]["records_per_s"]
    print(f"two instances / one: {ratio:.2f}x (aim ≥ 1.6x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
