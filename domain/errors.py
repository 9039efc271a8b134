"""The one domain error: a message the rules refuse, with a reason a person can read."""

from __future__ import annotations

from dataclasses import dataclass


class Rejected(Exception):
    """The message breaks a rule of the trial or of the data; it goes to the dead letters.

    `field` names the message's field at fault and `rule` the rule id that refuses it (None
    for a refusal of the data rather than of a rule), both as data, never read from the
    reason's words. `waits_for` names what a later message could bring that would let it
    apply (the member's registration, a holiday request): such a message is parked on the
    member, not rejected, and applied when that arrives (arrival order across topics must
    not change results).
    """

    def __init__(
        self,
        reason: str,
        field: str | None = None,
        waits_for: str | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.waits_for = waits_for
        self.rule = rule


@dataclass(frozen=True)
class Refusal:
    """A rule's refusal of a message: which rule, why in words, and which field is at fault."""

    rule: str
    reason: str
    field: str

    def rejected(self) -> Rejected:
        """The refusal as the error that sends the message to the dead letters."""
        return Rejected(self.reason, self.field, rule=self.rule)
