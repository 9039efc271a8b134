"""The trial's rules (RULES.md R1 to R20) as small pure functions of dates and facts."""
