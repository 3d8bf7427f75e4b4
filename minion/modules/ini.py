"""Read and edit ini files the way Salt's ``ini`` module does.

A file is read into ordered entries: options (``key = value``), comment and
unrecognised lines (kept under ``#commentN`` / ``#unknownN`` keys so they are
written back where they were) and sections, each holding the same kinds of
entries. Writing puts the options before the first section, one blank line
before each section header, and the separator with one space on each side
(or none with ``no_spaces``), as Salt writes it. Setting an option that is
commented out (``#key = old``) replaces that comment line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from common.atomic import write_atomic
from minion.context import Context

__all__ = ["get_ini", "get_option", "get_section", "remove_option", "remove_section",
           "set_option"]

Entries = dict[str, Any]

_HEADER = re.compile(r"^\s*\[(.+?)\]\s*$", flags=re.M)
_COMMENT = re.compile(r"^\s*(#|;)\s*(.*)")
_INDENTED = re.compile(r"(\s+)(.*)")


def _option_re(sep: str) -> re.Pattern[str]:
    return re.compile(r"(\s*)(.+?)\s*(" + re.escape(sep) + r")\s*(.*)\s*")


def _is_meta(key: str) -> bool:
    """Comment and unknown-line keys (never options)."""
    return bool(_COMMENT.match(key))


# --- pure: entries, parsing, updating, rendering -------------------------------------------


def _take_comment_place(entries: Entries, key: str, opt: re.Pattern[str]) -> None:
    """Put `key` where the first ``#key = ...`` comment is (dropping it), else at the end."""
    keys = list(entries)
    for i, name in enumerate(keys):
        if "#comment" not in name:
            continue
        match = opt.match(str(entries[name]).lstrip("#"))
        if match and match.group(2) == key:
            after = {k: entries.pop(k) for k in keys[i + 1:]}
            del entries[name]
            entries[key] = None
            entries.update(after)
            return
    entries[key] = None


def update(entries: Entries, wanted: dict[str, Any], sep: str) -> dict[str, Any]:
    """Set `wanted` (options, or sections as dicts) into `entries`; Salt's changes."""
    opt = _option_re(sep)
    changes: dict[str, Any] = {}
    for key, value in wanted.items():
        if isinstance(value, dict):
            section: Entries = {}
            update(section, value, sep)
            new: Any = section
            plain: Any = dict(section)
        else:
            new = plain = str(value)
        current = entries.get(key)
        if key not in entries:
            changes[key] = {"before": None, "after": plain}
            if not isinstance(new, dict):
                _take_comment_place(entries, key, opt)
            entries[key] = new
        elif isinstance(current, dict) and isinstance(new, dict):
            sub = update(current, new, sep)
            if sub:
                changes[key] = sub
        elif current != new:
            changes[key] = {"before": current, "after": plain}
            entries[key] = new
    return changes


def _parse_block(text: str, sep: str) -> Entries:
    """The entries of one section's (or the top's) lines."""
    entries: Entries = {}
    text = text.strip("\n")
    if not text:
        return entries
    opt = _option_re(sep)
    comments = unknowns = 1
    indent_now = ""
    for line in text.split("\n"):
        if _COMMENT.match(line):
            entries[f"#comment{comments}"] = line
            comments += 1
            continue
        indented = _INDENTED.match(line)
        if indented and entries:
            indent = indented.group(1).replace("\t", "    ")
            if indent > indent_now:
                last = list(entries)[-1]
                update(entries, {last: f"{entries[last]}\n{line}"}, sep)
                continue
        match = opt.match(line)
        if match:
            indent_now = match.group(1).replace("\t", "    ")
            update(entries, {match.group(2): match.group(4)}, sep)
            continue
        entries[f"#unknown{unknowns}"] = line
        unknowns += 1
    return entries


def parse(text: str, sep: str = "=") -> Entries:
    """A file's text as ordered entries; sections are dicts."""
    text = "\n".join(text.splitlines())
    if not text:
        return {}
    parts = _HEADER.split(text)
    entries = _parse_block(parts[0], sep)
    for i in range(1, len(parts) - 1, 2):
        update(entries, {parts[i]: _parse_block(parts[i + 1], sep)}, sep)
    return entries


def _separator(sep: str, no_spaces: bool) -> str:
    if all(c == " " for c in sep):
        return " "
    return sep.strip() if no_spaces else f" {sep.strip()} "


def _lines(entries: Entries, sep: str) -> list[str]:
    return [value if _is_meta(key) else f"{key}{sep}{value}"
            for key, value in entries.items() if not isinstance(value, dict)]


def render(entries: Entries, sep: str = "=", no_spaces: bool = False) -> str:
    """The text Salt writes for `entries`."""
    shown = _separator(sep, no_spaces)
    chunks = [line + "\n" for line in _lines(entries, shown)]
    for name, section in entries.items():
        if isinstance(section, dict):
            chunks.append(f"\n[{name}]\n")
            chunks += [line + "\n" for line in _lines(section, shown)]
    if chunks:
        chunks[0] = chunks[0].lstrip("\n")
    return "".join(chunks)


def plain(entries: Entries) -> dict[str, Any]:
    """Entries without comment and unknown lines (what get_ini shows)."""
    return {key: plain(value) if isinstance(value, dict) else value
            for key, value in entries.items() if not _is_meta(key)}


# --- thin I/O ------------------------------------------------------------------------------


def _check(file_name: str) -> Path:
    if not file_name or "\0" in file_name:
        raise ValueError(f"invalid file name {file_name!r}")
    return Path(os.path.expanduser(file_name))


def read(file_name: str, sep: str = "=", encoding: str | None = None) -> Entries:
    """The entries of `file_name` (none when it does not exist)."""
    path = _check(file_name)
    if not path.exists():
        return {}
    return parse(path.read_text(encoding=encoding or "utf-8"), sep)


def write(file_name: str, entries: Entries, sep: str = "=", encoding: str | None = None,
          no_spaces: bool = False) -> None:
    """Write `entries` back (a new file is 0644, an existing one keeps its mode)."""
    path = _check(file_name)
    data = render(entries, sep, no_spaces).encode(encoding or "utf-8")
    if path.exists() and path.read_bytes() == data:
        return
    write_atomic(path, data, 0o644)


# --- execution functions -------------------------------------------------------------------


def set_option(ctx: Context, file_name: str, sections: dict[str, Any] | None = None,
               separator: str = "=", encoding: str | None = None,
               no_spaces: bool = False) -> dict[str, Any]:
    """Set options (and sections, as mappings) in an ini file; return what changed.

    file_name
        The ini file (created if missing).
    sections
        ``{section: {key: value}}``; a key with a plain value is an option
        before the first section.
    separator
        What separates keys and values (default ``=``).
    no_spaces
        Write ``key=value`` instead of ``key = value`` (for every option).

    CLI Example:

        master run '*' ini.set_option /etc/app.ini '{main: {port: 8080}}'
    """
    entries = read(file_name, separator, encoding)
    changes = update(entries, dict(sections or {}), separator)
    write(file_name, entries, separator, encoding, no_spaces)
    return changes


def get_option(ctx: Context, file_name: str, section: str | None, option: str,
               separator: str = "=", encoding: str | None = None) -> Any:
    """Return an option's value (None when it is not set).

    section
        The section, or empty for an option before the first section.

    CLI Example:

        master run '*' ini.get_option /etc/app.ini main port
    """
    entries = read(file_name, separator, encoding)
    if section:
        found = entries.get(section)
        return found.get(option) if isinstance(found, dict) else None
    return entries.get(option)


def remove_option(ctx: Context, file_name: str, section: str | None, option: str,
                  separator: str = "=", encoding: str | None = None) -> Any:
    """Remove an option; return the value it had (None when it was not there).

    CLI Example:

        master run '*' ini.remove_option /etc/app.ini main port
    """
    entries = read(file_name, separator, encoding)
    holder = entries.get(section) if section else None
    value = (holder if isinstance(holder, dict) else entries).pop(option, None)
    write(file_name, entries, separator, encoding)
    return value


def get_section(ctx: Context, file_name: str, section: str, separator: str = "=",
                encoding: str | None = None) -> dict[str, Any]:
    """Return a section's options ({} when there is no such section).

    CLI Example:

        master run '*' ini.get_section /etc/app.ini main
    """
    found = read(file_name, separator, encoding).get(section)
    return plain(found) if isinstance(found, dict) else {}


def remove_section(ctx: Context, file_name: str, section: str, separator: str = "=",
                   encoding: str | None = None) -> dict[str, Any] | None:
    """Remove a section; return its options (None when there was no such section).

    CLI Example:

        master run '*' ini.remove_section /etc/app.ini old
    """
    entries = read(file_name, separator, encoding)
    if section not in entries:
        return None
    found = entries.pop(section)
    write(file_name, entries, separator, encoding)
    return plain(found) if isinstance(found, dict) else {}


def get_ini(ctx: Context, file_name: str, separator: str = "=",
            encoding: str | None = None) -> dict[str, Any]:
    """Return the whole file as ``{option: value, section: {option: value}}``.

    CLI Example:

        master run '*' ini.get_ini /etc/app.ini
    """
    return plain(read(file_name, separator, encoding))
