"""What the `master` and `minion` commands share: their `--help` layout and `--version`."""

from __future__ import annotations

import argparse
import contextlib
import platform
import sys
from collections.abc import Sequence
from typing import Any

from common.version import __version__

# Defaults that say nothing to a reader: no value, a switch that is off.
_SILENT_DEFAULTS: tuple[Any, ...] = (None, False, "", [], argparse.SUPPRESS)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keep the line breaks of descriptions and examples; show each option's default.

    A default is added as "(default: X)" unless the help text already speaks
    of its default, or the default is nothing worth showing (unset, off).
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (any(default is d or default == d for d in _SILENT_DEFAULTS)
                or "default" in text.lower() or not action.option_strings):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose subcommands inherit the help layout above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def version_text(prog: str) -> str:
    """Two lines: ``<prog> <version>``, then the Python, pyzmq and libzmq versions."""
    import importlib.metadata  # here: only --version needs it

    parts = [f"Python {platform.python_version()}"]
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        parts.append(f"pyzmq {importlib.metadata.version('pyzmq')}")
    try:
        from common.transport.options import libzmq_version

        parts.append(f"libzmq {libzmq_version()}")
    except ImportError:
        parts.append("libzmq not installed")
    return f"{prog} {__version__}\n{', '.join(parts)}"


class VersionAction(argparse.Action):
    """``--version``: print `version_text` and exit 0 (versions looked up only then)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: Any = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=help or "print the version of saline and its libraries, and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        print(version_text(parser.prog.split()[0]))
        sys.stdout.flush()
        parser.exit(0)
