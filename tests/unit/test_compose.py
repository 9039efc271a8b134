"""docker-compose.yml publishes the service's HTTP API and checks its health on /health (14);
it keeps passwords in files and is a file both compose v1 and v2 accept (19, point 8)."""

import shutil
import subprocess
from pathlib import Path

import pytest

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


def test_no_top_level_name_which_compose_v1_refuses() -> None:
    assert not any(line.startswith("name:") for line in COMPOSE.splitlines())


def test_the_database_password_comes_from_files_not_the_environment() -> None:
    postgres, service = _service("postgres"), _service("ledighed")
    assert "POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password" in postgres
    assert "POSTGRES_PASSWORD:" not in postgres
    assert "LEDIGHED_DB_URL_FILE: /run/secrets/ledighed_db_url" in service
    assert "LEDIGHED_DB_URL:" not in service and "ledighed:ledighed@" not in COMPOSE


def _composes() -> list[list[str]]:
    """The compose commands installed here (v2 plugin, v1 docker-compose)."""
    found = []
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            found.append(command)
    return found


def test_compose_accepts_the_file(tmp_path: Path) -> None:
    composes = _composes()
    if not composes:
        pytest.skip(
            "neither `docker compose version` nor `docker-compose version` works here: "
            "compose is not installed, so `docker compose config` was not run"
        )
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    (tmp_path / "secrets").mkdir()
    for name in ("postgres_password", "ledighed_db_url"):
        (tmp_path / "secrets" / name).write_text("not-a-real-secret")
    for command in composes:
        result = subprocess.run(
            [*command, "-f", str(tmp_path / "docker-compose.yml"), "config", "-q"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (command, result.stderr)
