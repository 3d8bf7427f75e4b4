"""Write messages to the minion's log, e.g. from a template while debugging it.

Each function logs its message at one level through saline's logger and
returns True, so ``{% do salt['log.debug'](value) %}`` works in jinja.
"""

from __future__ import annotations

import logging
from typing import Any

from minion.context import Context

__all__ = ["critical", "debug", "error", "exception", "info", "warning"]

log = logging.getLogger(__name__)


def debug(ctx: Context, message: Any) -> bool:
    """Log the message at level DEBUG.

    CLI Example:

        master run '*' log.debug 'value seen'
    """
    log.debug(message)
    return True


def info(ctx: Context, message: Any) -> bool:
    """Log the message at level INFO.

    CLI Example:

        master run '*' log.info 'value seen'
    """
    log.info(message)
    return True


def warning(ctx: Context, message: Any) -> bool:
    """Log the message at level WARNING.

    CLI Example:

        master run '*' log.warning 'deprecated pillar key used'
    """
    log.warning(message)
    return True


def error(ctx: Context, message: Any) -> bool:
    """Log the message at level ERROR.

    CLI Example:

        master run '*' log.error 'something is wrong'
    """
    log.error(message)
    return True


def critical(ctx: Context, message: Any) -> bool:
    """Log the message at level CRITICAL.

    CLI Example:

        master run '*' log.critical 'something is very wrong'
    """
    log.critical(message)
    return True


def exception(ctx: Context, message: Any) -> bool:
    """Log the message at level ERROR, with the traceback being handled, if any.

    CLI Example:

        master run '*' log.exception 'failed'
    """
    log.exception(message)
    return True
