"""Collect one stored event of every topic from stores written by a release, as samples.

    python tools/event_samples.py OUT.json STORE.db [STORE.db ...]

OUT.json maps each event topic to its stored state by class version; the upgrade tests
load every sample with the current event classes (an upcaster per version step).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path


def main() -> int:
    out, *stores = sys.argv[1:]
    path = Path(out)
    samples: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
    for store in stores:
        with sqlite3.connect(store) as conn:
            rows = conn.execute(
                "SELECT topic, state FROM ledighed_events WHERE id IN "
                "(SELECT MAX(id) FROM ledighed_events GROUP BY topic)"
            )
            for topic, state in rows:
                text = bytes(state).decode()
                version = str(json.loads(text).get("class_version", 1))
                samples.setdefault(topic, {}).setdefault(version, text)
    path.write_text(json.dumps(samples, indent=1, sort_keys=True) + "\n")
    print(f"{sum(len(v) for v in samples.values())} samples of {len(samples)} topics in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
