"""Logs an operator can follow: every line of a request carries its id (also sent back in the
X-Request-Id header), and with DIRECTORY_LOG_FORMAT=json they are JSON lines."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from typing import TextIO

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_GOOD_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id(incoming: str | None) -> str:
    """The caller's X-Request-Id if it is a sane one (so that ids follow a request through proxies), else a new one."""
    return incoming if incoming and _GOOD_ID.match(incoming) else uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", REQUEST_ID.get()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class _DirectoryHandler(logging.StreamHandler):
    """The one handler the directory adds (configuring again replaces it); it writes to whatever
    ``sys.stderr`` is when a line is logged, not to the stream that was there when it was made."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(level: str, fmt: str) -> None:
    """Every log line goes to stderr with the request id: JSON lines with ``json``, else text.

    The directory's loggers log at ``level``; other libraries' loggers keep the root's level
    (warnings and worse). No thread is started: a line is written where it is logged."""
    logger = logging.getLogger("directory")
    root = logging.getLogger()
    logger.setLevel(level)
    for handler in [h for h in root.handlers if isinstance(h, _DirectoryHandler)]:
        root.removeHandler(handler)
    handler = _DirectoryHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
