"""The API tests' figures for the README: requests by role, endpoint and answer; largest body."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

REQUESTS: Counter[tuple[str, str, int]] = Counter()
LARGEST_ACCEPTED = [0]
_CPR = re.compile(r"/[0-9]{6}-?[0-9]{4}")


def counting(client: Any, roles_by_token: dict[str, str]) -> Any:
    """The client, counting each answer by the caller's role and the endpoint."""

    def count(response: httpx.Response) -> None:
        request = response.request
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        endpoint = f"{request.method} {_CPR.sub('/{cpr}', request.url.path)}"
        REQUESTS[(roles_by_token.get(token, "none"), endpoint, response.status_code)] += 1
        if request.method == "POST" and response.status_code == 200:
            LARGEST_ACCEPTED[0] = max(LARGEST_ACCEPTED[0], len(request.content))

    client.event_hooks = {"request": [], "response": [count]}
    return client


def dump() -> None:
    """Add this module's figures to the file LEDIGHED_API_FIGURES names (if it does)."""
    where = os.environ.get("LEDIGHED_API_FIGURES")
    if not where:
        return
    path = Path(where)
    old = json.loads(path.read_text()) if path.exists() else {"requests": [], "largest": 0}
    tally = Counter({tuple(k): n for *k, n in old["requests"]})
    tally.update(REQUESTS)
    rows = [[*key, n] for key, n in sorted(tally.items())]
    largest = max(old["largest"], LARGEST_ACCEPTED[0])
    path.write_text(json.dumps({"requests": rows, "largest": largest}, indent=1))
    REQUESTS.clear()
