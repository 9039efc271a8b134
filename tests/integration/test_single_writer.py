"""A SQLite file takes one service: a second `ledighed run` is refused at once, with who
holds the store, instead of failing later with "database is locked"."""

from __future__ import annotations

import pytest

from infra.cli import main
from infra.store.writer_lock import SecondWriter, lock_path, single_writer


def test_a_second_run_on_one_sqlite_file_is_refused_with_who_holds_it(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    with single_writer(url, who="ledighed run"):
        # Refused before the (absent) broker at the address is tried.
        assert main(["run", "--db", url, "--kafka", "127.0.0.1:9"]) == 1
        err = capsys.readouterr().err
        assert "ledighed run (pid " in err and "already writes to the SQLite store" in err
        assert "PostgreSQL" in err and "database is locked" not in err
        with pytest.raises(SecondWriter), single_writer(url):
            pass
    with single_writer(url):  # released: the next one takes it
        pass


def test_postgresql_and_memory_stores_take_no_lock() -> None:
    assert lock_path("postgresql://postgres@127.0.0.1/x") is None
    assert lock_path("sqlite://") is None
    assert lock_path("sqlite:///:memory:") is None
    assert str(lock_path("sqlite:////srv/ledighed.db")) == "/srv/ledighed.db.writer.lock"
