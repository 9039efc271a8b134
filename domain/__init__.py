"""The trial's rules, the case aggregate and the inbound contract: pure, no I/O."""
