"""`make bench-scale` runs end to end at a tiny scale on SQLite: the table's shape, no timings."""

from __future__ import annotations

import re
from pathlib import Path

from tools import bench_scale


def test_bench_scale_prints_its_table_at_a_tiny_scale(tmp_path: Path, capsys) -> None:
    argv = ["--members", "40", "--baseline-members", "20", "--chunk", "10"]
    argv += ["--reads", "4", "--advisers", "2", "--members-per-adviser", "2"]
    assert bench_scale.main([*argv, "--sqlite", str(tmp_path)]) == 0
    out = capsys.readouterr().out

    assert re.search(r"^== bench-scale: .*\(SQLite, \d+ cores\) ==$", out, re.M)
    counted = r"members: 40 \(baseline 20\); events stored: ([\d,]+) \(baseline ([\d,]+)"
    counts = re.search(counted, out)
    assert counts is not None
    full, base = (int(n.replace(",", "")) for n in counts.groups())
    assert full > base > 0
    assert re.search(r"fill: [\d,]+ messages generated in .* ingested in .* messages/s", out)
    rows = {
        "case read (`ledighed case`'s read) p99": r"ms \(p50 .*x baseline .* \(p50 .* ms\)",
        "GET /cases/{cpr} in-process p99": r"ms \(p50 .*x baseline .* \(p50 .* ms\)",
        "one adviser's worklist p99": r"ms \(p50 .*x baseline .* \(p50 .* ms\)",
        "tick over every open case": r"s, [\d,]+ SQL statements, [\d,]+ exits",
        "projection rebuild (progress bar)": r"s, [\d,]+ events/s",
        "whole worklist p50 (context)": r"ms at baseline\)",
    }
    lines = out.splitlines()
    for name, figures in rows.items():
        line = next(line for line in lines if line.startswith(name))
        assert re.search(figures, line), line
        assert re.search(r"\s(yes|NO|-)$", line), line
