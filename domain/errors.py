"""The one domain error: a message the rules refuse, with a reason a person can read."""

from __future__ import annotations


class Rejected(Exception):
    """The message breaks a rule of the trial or of the data; it goes to the dead letters.

    `waits_for` names what a later message could bring that would let it apply (the
    member's registration, a holiday request): such a message is parked on the member,
    not rejected, and applied when that arrives (arrival order across topics must not
    change results).
    """

    def __init__(self, reason: str, field: str | None = None, waits_for: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.waits_for = waits_for
