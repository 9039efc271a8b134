"""The one domain error: a message the rules refuse, with a reason a person can read."""

from __future__ import annotations


class Rejected(Exception):
    """The message breaks a rule of the trial or of the data; it goes to the dead letters."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
