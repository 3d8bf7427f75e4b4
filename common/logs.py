"""Logging set-up for the daemons: stderr plus a 0600 log file."""

from __future__ import annotations

import logging
import os
from pathlib import Path

FORMAT = "%(asctime)s [%(levelname)-7s] %(name)s: %(message)s"


def setup(level: str, log_file: str | None = None) -> None:
    """Log at `level` to stderr and, if given, to `log_file`."""
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
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        handlers.append(logging.FileHandler(path))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
