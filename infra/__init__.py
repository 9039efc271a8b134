"""Wiring: settings, the event store, Kafka, the local broker and the command line."""
