"""Logging set-up for the daemons: stderr plus a 0600 log file, as text or JSON lines.

With ``log_format: json`` every record is one JSON object per line, for log
aggregators: ``time``, ``level``, ``logger``, ``message`` and, when known,
``jid``, ``minion`` and ``fun`` (plus ``exc`` for a traceback). The job
fields come from the record's ``extra`` or from `bind`, which sets them for
the current asyncio task or thread (and what it starts).

The log file is created 0600 and reopened on SIGHUP (`reopen_on_hup`), so
logrotate can move it away without copytruncate.
"""

from __future__ import annotations

import contextvars
import datetime
import io
import json
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # every CLI command imports this module: asyncio costs ~15 ms
    import asyncio

FORMAT = "%(asctime)s [%(levelname)-7s] %(name)s: %(message)s"
FORMATS = ("text", "json")
JOB_FIELDS = ("jid", "minion", "fun")

_job: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "saline_log_job", default=None)


def bind(**fields: Any) -> None:
    """Name the job, minion or function the current task is working for, for JSON logs.

    Example: ``logs.bind(jid=job.jid, fun=job.fun)`` in the task running the job.
    """
    current = dict(_job.get() or {})
    current.update({k: str(v) for k, v in fields.items() if k in JOB_FIELDS and v is not None})
    _job.set(current)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, job fields."""

    def __init__(self, defaults: dict[str, str] | None = None) -> None:
        super().__init__()
        self.defaults = defaults or {}

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
        out: dict[str, Any] = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        bound = _job.get() or {}
        for key in JOB_FIELDS:
            value = getattr(record, key, None) or bound.get(key) or self.defaults.get(key)
            if value is not None:
                out[key] = str(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        # default=str: a message argument that is no JSON type still logs.
        return json.dumps(out, ensure_ascii=False, default=str)


def formatter(log_format: str = "text", minion_id: str | None = None) -> logging.Formatter:
    """The formatter for `log_format`; `minion_id` is put on every JSON line of a minion."""
    if log_format == "json":
        return JsonFormatter({"minion": minion_id} if minion_id else None)
    return logging.Formatter(FORMAT)


def setup(level: str, log_file: str | None = None, log_format: str = "text",
          minion_id: str | None = None) -> None:
    """Log at `level` to stderr and, if given, to `log_file`, as text or JSON lines."""
    root = logging.getLogger()
    root.handlers.clear()
    if level == "quiet":
        root.setLevel(logging.CRITICAL + 1)
        return
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handlers.append(PrivateFileHandler(path))
    for handler in handlers:
        handler.setFormatter(formatter(log_format, minion_id))
        root.addHandler(handler)


class PrivateFileHandler(logging.FileHandler):
    """A log file only its owner can read, that can be reopened after a rotation."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)

    def reopen(self) -> None:
        """Close the file and open the path again (a new file if it was moved away)."""
        self.acquire()
        try:
            old, self.stream = self.stream, self._open()
        finally:
            self.release()
        if old is not None:
            old.close()


def reopen() -> None:
    """Reopen the log file, e.g. after logrotate renamed it; a failure is logged, not raised."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrivateFileHandler):
            try:
                handler.reopen()
            except OSError as exc:
                logging.getLogger(__name__).error("cannot reopen the log file: %s", exc)
                continue
            logging.getLogger(__name__).info("log file reopened")


def reopen_on_hup(loop: asyncio.AbstractEventLoop) -> None:
    """Reopen the log file whenever the daemon gets SIGHUP (instead of dying)."""
    loop.add_signal_handler(signal.SIGHUP, reopen)


def drop_console() -> None:
    """Stop logging to stderr (a daemon in the background logs to its file only)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler:
            root.removeHandler(handler)
