"""Everything `ledighed run` and `ledighed serve` say on stderr is one JSON object a line,
uvicorn's and the Kafka client's lines included (issue 19, point 5), read from real
processes; and `run --local-broker` is how the development broker is asked for (point 6)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from infra.settings import Settings
from tests.e2e.test_kafka_failures import LEDIGHED, ServiceProcess, _service_env
from tests.kafka_helpers import produce, registration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line parsed; a line that is not one JSON object fails the test with it."""
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines and all(isinstance(line, dict) for line in lines)
    assert all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)
    return lines


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_every_stderr_line_of_serve_is_one_json_object(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDIGHED_")}
    argv = [str(LEDIGHED), "serve", "--db", f"sqlite:///{tmp_path}/s.db", "--port", str(port)]
    with subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        try:
            base = f"http://127.0.0.1:{port}"
            while not answers(f"{base}/health"):
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert httpx.get(f"{base}/no-such-page").status_code == 404
            assert httpx.get(f"{base}/worklist").status_code == 401
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    # uvicorn shuts down gracefully, then raises the signal it caught again (its way).
    assert proc.returncode in (0, -signal.SIGTERM)
    lines = json_lines(err.decode())
    loggers = {line["logger"] for line in lines}
    assert "uvicorn.error" in loggers and "ledighed.api" in loggers
    assert any(line["msg"].startswith("Finished server process") for line in lines)
    assert any("no API tokens" in line["msg"] for line in lines)


@pytest.mark.kafka
def test_every_stderr_line_of_run_is_one_json_object_and_metrics_parse(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    settings = kafka_settings
    port = free_port()
    service = ServiceProcess(settings, f"sqlite:///{tmp_path}/r.db", tmp_path / "run.log", 50)
    service.argv += ["--http", str(port)]
    base = f"http://127.0.0.1:{port}"
    service.start()
    try:
        service.wait(lambda: "partitions assigned" in service.log_tail(200), 60, "assignment")
        produce(settings, settings.topic_members, [registration("log-1", "0101901234"), b"{"])

        def scraped() -> dict[str, Any]:
            text = httpx.get(f"{base}/metrics", timeout=5).text
            return {f.name: f for f in text_string_to_metric_families(text)}

        def both_in() -> bool:
            found = scraped()
            open_letters = {
                s.labels["source"]: s.value for s in found["ledighed_dead_letters_open"].samples
            }
            return (
                open_letters.get(settings.topic_members) == 1
                and "ledighed_consumer_lag" in found
                and found["ledighed_events_stored"].samples[0].value > 0
            )

        service.wait(both_in, 60, "message and dead letter in /metrics")
        found = scraped()
        assert found["ledighed_service_messages"].type == "counter"
        assert "process_cpu_seconds" in found
        assert service.terminate() == 0
    finally:
        service.cleanup()
    lines = json_lines(service.log.read_text())
    loggers = {line["logger"] for line in lines}
    assert {"ledighed.service", "uvicorn.error"} <= loggers
    assert not any("local development broker" in line["msg"] for line in lines)


@pytest.mark.kafka
def test_run_with_local_broker_starts_the_development_broker_and_says_so(
    tmp_path: Path,
) -> None:
    env = _service_env(Settings(), 50)
    argv = [str(LEDIGHED), "run", "--local-broker", "--db", f"sqlite:///{tmp_path}/d.db"]
    log = tmp_path / "local.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    service = ServiceProcess(Settings(), "", log, 50)
    service.proc = proc
    try:
        service.wait(lambda: "service started" in log.read_text(), 90, "start")
        assert service.terminate() == 0
    finally:
        service.cleanup()
    lines = json_lines(log.read_text())
    started = next(line for line in lines if "local development broker" in line["msg"])
    assert started["level"] == "warning" and started["kafka"].startswith("127.0.0.1:")
