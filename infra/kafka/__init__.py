"""The Kafka adapters: the handover publisher (and the dead-letter topics) and the local
broker for development and tests. The inbound consumer is in consumers/."""
