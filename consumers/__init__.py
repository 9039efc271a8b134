"""Kafka in: run inbound records through the application service, batch by batch."""
