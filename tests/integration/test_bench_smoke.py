"""The benchmark runs end to end on a tiny year (figures only checked to be positive)."""

from __future__ import annotations

import re

from tools import bench


def test_bench_runs_on_a_tiny_year(capsys):
    assert bench.main(["--members", "30", "--single-save-sample", "50", "--skip-postgres"]) == 0
    out = capsys.readouterr().out

    assert "== SQLite ==" in out
    assert "PostgreSQL: skipped" in out
    rows = {}
    for path in ("batched", "one save() per message", "raw floor"):
        line = next(line for line in out.splitlines() if line.startswith(path))
        rows[path] = [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*\.?\d*", line)]
    # batched and one-save(): messages, events, seconds, messages/s, events/s (after the path's
    # own digits, e.g. "2000 msgs/tx"); the floor: rows, seconds, rows/s.
    for path, count in (("batched", 5), ("one save() per message", 5), ("raw floor", 3)):
        figures = rows[path][-count:]
        assert len(figures) == count, (path, figures)
        # seconds print with two decimals and can round to 0.00 on a tiny year
        assert all(n >= 0 for n in figures) and figures[-1] > 0, (path, figures)
    assert rows["one save() per message"][-5] == 50  # the sample's messages

    reads = re.findall(r"median (\d+\.\d+) ms\s+p95 (\d+\.\d+) ms", out)
    assert len(reads) == 2
    assert all(float(n) > 0 for pair in reads for n in pair)
    verdict = re.search(r"SQLite: batched is (\d+\.\d+)x the one-save\(\) path", out)
    assert verdict is not None and float(verdict.group(1)) > 0
