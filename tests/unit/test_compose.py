"""docker-compose.yml publishes the service's HTTP API and checks its health on /health (14)."""

from pathlib import Path

COMPOSE = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()


def _service(name: str) -> str:
    """The block of one service: from `  name:` to the next service or top-level key."""
    lines = COMPOSE.splitlines()
    start = lines.index(f"  {name}:")
    block = []
    for line in lines[start + 1 :]:
        if line and not line.startswith("   ") and not line.startswith("#"):
            break
        block.append(line)
    return "\n".join(block)


def test_the_service_serves_http_on_every_container_address() -> None:
    service = _service("ledighed")
    assert "command: run --kafka kafka:9092 --http 8000 --host 0.0.0.0" in service


def test_the_http_port_is_published_on_loopback_only() -> None:
    service = _service("ledighed")
    assert '- "127.0.0.1:8000:8000"' in service


def test_the_health_check_asks_health() -> None:
    service = _service("ledighed")
    check = service[service.index("healthcheck:") :]
    assert "http://127.0.0.1:8000/health" in check.split("interval:")[0]
    assert "interval:" in check and "retries:" in check
