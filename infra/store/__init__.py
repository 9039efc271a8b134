"""The store adapter: the event store and its unit of work, the recorder with bulk writes,
the hash chain, the project's tables and their Alembic migrations, the access log."""
