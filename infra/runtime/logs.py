"""Logs as JSON lines on stderr: one object a line, with the record's extra fields; every
logger (uvicorn's, the Kafka client's, Python's warnings) through the same formatter."""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from infra.failures import describe

# uvicorn's `color_message` is its message again with terminal colours.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}

LOUD = ("ledighed", "uvicorn")
"""Loggers whose INFO lines an operator reads (the service's, the HTTP server's start and
stop); every other library (kafka's every connection, alembic's every step) says only its
warnings and errors."""


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(level: int = logging.INFO) -> None:
    """The root logger writes JSON lines to stderr (uvicorn runs with `log_config=None`, so
    its loggers propagate here); idempotent."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    # Another stderr handler would say each line twice (a test runner's capture stays).
    others = [h for h in root.handlers if type(h) is not logging.StreamHandler]
    root.handlers[:] = [*others, handler]
    root.setLevel(logging.WARNING)
    for name in ("ledighed", "uvicorn", "uvicorn.error", "uvicorn.access", "kafka", "alembic"):
        named = logging.getLogger(name)
        named.handlers[:] = []
        named.propagate = True
        named.setLevel(logging.NOTSET)
    for name in LOUD:
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(True)
    threading.excepthook = _thread_died


def _thread_died(args: Any) -> None:
    # No traceback: it could show SQL with CPR numbers bound (LEDIGHED_DEBUG=1 in the CLI).
    logging.getLogger("ledighed.thread").error(
        "a thread stopped on an error",
        extra={
            "thread_name": getattr(args.thread, "name", None),
            "error": describe(args.exc_value),
        },
    )
