"""Mistakes are refused, not absorbed (issue 19, point 6): an unknown LEDIGHED_* variable is
named with the setting it was probably meant to be, `run` needs a Kafka address and a store
(or --local-broker) instead of starting the development broker, and so does the image's
default command."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra import bootstrap
from infra.cli import main

DOCKERFILE = Path(__file__).parents[2] / "Dockerfile"


@pytest.fixture(autouse=True)
def _logging_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`run` configures the process's logging: put it back for the tests after these."""
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, threading.excepthook
    for name in [n for n in os.environ if n.startswith("LEDIGHED_")]:
        monkeypatch.delenv(name)

    def no_broker() -> None:
        raise AssertionError("the development broker was started without --local-broker")

    monkeypatch.setattr(bootstrap, "local_broker", no_broker)
    yield
    root.handlers[:], threading.excepthook = handlers, hook
    root.setLevel(level)


def said(err: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in err.strip().splitlines()]


def test_a_mistyped_kafka_variable_is_named_and_run_refuses_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEDIGHED_KAFKA_BOOTSTRAPS", "kafka:9092")
    store = tmp_path / "s.db"
    assert main(["run", "--db", f"sqlite:///{store}"]) == 1
    warning, refusal = said(capsys.readouterr().err)
    assert warning["level"] == "warning"
    assert warning["msg"] == (
        "ledighed run: LEDIGHED_KAFKA_BOOTSTRAPS is not a ledighed setting and is ignored "
        "(did you mean LEDIGHED_KAFKA_BOOTSTRAP?)"
    )
    assert refusal["level"] == "error"
    assert (
        "needs a Kafka address (--kafka HOST:PORT or LEDIGHED_KAFKA_BOOTSTRAP)" in (refusal["msg"])
    )
    assert "--local-broker" in refusal["msg"] and "store" not in refusal["msg"].split(";")[0]
    assert not store.exists()  # refused before anything was opened or created


def test_run_refuses_the_default_store_and_two_brokers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEDIGHED_DB_ULR", "postgresql+psycopg://db/ledighed")
    assert main(["run", "--kafka", "127.0.0.1:9"]) == 1
    warning, refusal = said(capsys.readouterr().err)
    assert "(did you mean LEDIGHED_DB_URL?)" in warning["msg"]
    assert "needs a store (--db URL or LEDIGHED_DB_URL" in refusal["msg"]
    monkeypatch.delenv("LEDIGHED_DB_ULR")
    monkeypatch.setenv("LEDIGHED_KAFKA_BOOTSTRAP", "127.0.0.1:9")
    assert main(["run", "--local-broker"]) == 1
    (refusal,) = said(capsys.readouterr().err)
    assert "name two brokers" in refusal["msg"]
    assert list(tmp_path.iterdir()) == []  # no SQLite file, no key file


def test_the_images_default_command_needs_a_kafka_address_and_a_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DOCKERFILE.read_text()
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    command = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    assert entrypoint == ["ledighed"]
    for name, value in re.findall(r"^\s*(LEDIGHED_\w+)=(\S+)", text, re.M):
        monkeypatch.setenv(name, value)  # what the image sets, if anything
    monkeypatch.chdir(tmp_path)  # the image's working directory: nothing may land there
    assert main(command) == 1
    (refusal,) = said(capsys.readouterr().err)
    assert "needs a Kafka address" in refusal["msg"] and "and a store" in refusal["msg"]
    assert list(tmp_path.iterdir()) == []


def test_other_commands_name_an_unknown_variable_in_plain_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEDIGHED_API_TOKEN", "t=system")
    monkeypatch.setenv("LEDIGHED_DEBUG", "0")  # read by the command line itself
    assert main(["schema", "inbound"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)  # stdout stays the document alone
    assert err == (
        "ledighed schema: LEDIGHED_API_TOKEN is not a ledighed setting and is ignored "
        "(did you mean LEDIGHED_API_TOKENS?)\n"
    )
