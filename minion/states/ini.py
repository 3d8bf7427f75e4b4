"""Options and sections in ini files, like Salt's ``ini`` states.

.. code-block:: yaml

    /etc/app/app.ini:
      ini.options_present:
        - sections:
            loglevel: info          # an option before the first section
            server:
              port: 8080

``options_present`` sets only the options given (``strict: True`` also
removes the others); ``options_absent``, ``sections_present`` and
``sections_absent`` do what their names say. Under ``test=True`` the states
report, as Salt does, one comment line per option or section and no changes.
"""

from __future__ import annotations

from typing import Any

from minion.context import Context
from minion.modules import ini
from minion.states import result

__all__ = ["options_absent", "options_present", "sections_absent", "sections_present"]

NO_ANOMALY = "No anomaly detected"
TAKE_EFFECT = "Changes take effect"


def _where(section: str) -> str:
    return f" in section {section}" if section else ""


def _predict_present(current: dict[str, Any], sections: dict[str, Any],
                     strict: bool) -> list[str]:
    """The comment lines of a test run of options_present (a line per option)."""
    lines: list[str] = []
    top = {k: v for k, v in current.items() if not isinstance(v, dict)}
    found = {k: v for k, v in current.items() if isinstance(v, dict)}
    options = {k: v for k, v in sections.items() if not isinstance(v, dict)}
    for key, value in options.items():
        same = key in top and str(top[key]) == str(value)
        lines.append(f"{'Unchanged' if same else 'Changed'} key {key}.")
    if strict:
        lines += [f"Removed key {key}." for key in sorted(set(top) - set(options))]
        declared = {k for k, v in sections.items() if isinstance(v, dict)}
        lines += [f"Removed section {name}." for name in sorted(set(found) - declared)]
    for name, body in sections.items():
        if not isinstance(body, dict):
            continue
        have = found.get(name, {})
        if strict:
            lines += [f"Deleted key {key}{_where(name)}." for key in have if key not in body]
        for key, value in body.items():
            same = key in have and str(value) == str(have[key])
            lines.append(f"{'Unchanged' if same else 'Changed'} key {key}{_where(name)}.")
    return lines


def _apply_present(entries: ini.Entries, sections: dict[str, Any], sep: str,
                   strict: bool) -> dict[str, Any]:
    """Change `entries` to have `sections`; Salt's changes."""
    current = ini.plain(entries)
    options = {k: v for k, v in sections.items() if not isinstance(v, dict)}
    changes: dict[str, Any] = ini.update(entries, options, sep)
    declared = {k: v for k, v in sections.items() if isinstance(v, dict)}
    if strict:
        for key in [k for k, v in current.items() if not isinstance(v, dict)]:
            if key not in options:
                entries.pop(key, None)
                changes[key] = {"before": current[key], "after": None}
        for name in [k for k, v in current.items() if isinstance(v, dict)]:
            if name not in declared:
                entries.pop(name, None)
                changes[name] = {"before": current[name], "after": None}
    for name, body in declared.items():
        found: dict[str, Any] = {}
        section = entries.get(name)
        if strict and isinstance(section, dict):
            for key in [k for k in current.get(name, {}) if k not in body]:
                section.pop(key, None)
                found[key] = {"before": current[name][key], "after": None}
        found.update(ini.update(entries, {name: body}, sep).get(name, {}))
        if found:
            changes[name] = found
    return changes


def options_present(ctx: Context, name: str, sections: dict[str, Any] | None = None,
                    separator: str = "=", strict: bool = False, encoding: str | None = None,
                    no_spaces: bool = False) -> dict[str, Any]:
    """Make sure options (and sections of options) are set in an ini file.

    name
        The ini file (created when missing).
    sections
        ``{section: {key: value}}``; a key with a plain value is an option
        before the first section.
    separator
        What separates keys and values (default ``=``).
    strict
        Also remove the options and sections not given.
    encoding
        The file's encoding (default UTF-8).
    no_spaces
        Write ``key=value`` instead of ``key = value`` (for the whole file).

    CLI Example:

        minion call --local state.single ini.options_present /etc/app.ini \
            sections='{main: {port: 80}}'
    """
    ret = result.new(name)
    wanted = dict(sections or {})
    try:
        entries = ini.read(name, separator, encoding)
        if ctx.test:
            lines = _predict_present(ini.plain(entries), wanted, strict)
            changed = any(not line.startswith("Unchanged") for line in lines)
            return result.done(ret, "".join(f"{line}\n" for line in lines),
                               None if changed else True)
        changes = _apply_present(entries, wanted, separator, strict)
        ini.write(name, entries, separator, encoding, no_spaces)
    except (OSError, UnicodeError, ValueError) as exc:
        return result.fail(ret, str(exc))
    ret["changes"] = {key: value for key, value in changes.items() if value}
    return result.done(ret, TAKE_EFFECT if ret["changes"] else NO_ANOMALY)


def options_absent(ctx: Context, name: str, sections: dict[str, Any] | None = None,
                   separator: str = "=", encoding: str | None = None) -> dict[str, Any]:
    """Make sure options are not set in an ini file.

    name
        The ini file.
    sections
        ``{section: [key, ...]}`` to remove keys from a section.
    separator
        What separates keys and values (default ``=``).

    CLI Example:

        minion call --local state.single ini.options_absent /etc/app.ini sections='{main: [port]}'
    """
    ret = result.new(name)
    wanted = dict(sections or {})
    try:
        entries = ini.read(name, separator, encoding)
    except (OSError, UnicodeError, ValueError) as exc:
        return result.fail(ret, str(exc))
    if ctx.test:
        return _predict_absent(ret, entries, wanted)
    touched = False
    for section, keys in wanted.items():
        for key in keys or []:
            holder = entries.get(section)
            value = (holder if isinstance(holder, dict) else entries).pop(key, None)
            touched = True
            if not value:
                continue
            ret["changes"].setdefault(section, {})[key] = value
            if not isinstance(keys, list):
                ret["changes"][section] = value
            ret["comment"] = TAKE_EFFECT
    if touched:
        try:
            ini.write(name, entries, separator, encoding)
        except OSError as exc:
            return result.fail(ret, str(exc))
    return result.done(ret, ret["comment"] or NO_ANOMALY)


def _predict_absent(ret: dict[str, Any], entries: ini.Entries,
                    wanted: dict[str, Any]) -> dict[str, Any]:
    lines: list[str] = []
    changed = False
    for section, keys in wanted.items():
        if isinstance(keys, list):
            found = entries.get(section)
            have = ini.plain(found) if isinstance(found, dict) else {}
            for key in keys:
                if not have.get(key):
                    lines.append(f"Key {key}{_where(section)} does not exist.")
                    continue
                lines.append(f"Deleted key {key}{_where(section)}.")
                changed = True
        elif not entries.get(section):
            lines.append(f"Key {section} does not exist.")
        else:
            lines.append(f"Deleted key {section}.")
            changed = True
    comment = "".join(f"{line}\n" for line in lines) or "No changes detected."
    return result.done(ret, comment, None if changed else True)


def sections_present(ctx: Context, name: str, sections: Any = None, separator: str = "=",
                     encoding: str | None = None) -> dict[str, Any]:
    """Make sure sections exist in an ini file (empty ones are created; options are left alone).

    name
        The ini file (created when missing).
    sections
        A list of section names (or a mapping: only its keys are used).

    CLI Example:

        minion call --local state.single ini.sections_present /etc/app.ini sections='[main]'
    """
    ret = result.new(name)
    try:
        entries = ini.read(name, separator, encoding)
        if ctx.test:
            lines = [f"Section unchanged {s}." if s in entries else f"Created new section {s}."
                     for s in sections or []]
            changed = any(s not in entries for s in sections or [])
            comment = "".join(f"{line}\n" for line in lines) or "No changes detected."
            return result.done(ret, comment, None if changed else True)
        ret["changes"] = ini.update(entries, {s: {} for s in sections or []}, separator)
        ini.write(name, entries, separator, encoding)
    except (OSError, UnicodeError, ValueError) as exc:
        return result.fail(ret, str(exc))
    return result.done(ret, TAKE_EFFECT if ret["changes"] else NO_ANOMALY)


def sections_absent(ctx: Context, name: str, sections: Any = None, separator: str = "=",
                    encoding: str | None = None) -> dict[str, Any]:
    """Make sure sections (and all their options) are not in an ini file.

    name
        The ini file.
    sections
        A list of section names.

    CLI Example:

        minion call --local state.single ini.sections_absent /etc/app.ini sections='[old]'
    """
    ret = result.new(name)
    try:
        entries = ini.read(name, separator, encoding)
        if ctx.test:
            lines = [f"Deleted section {s}." if s in entries else f"Section {s} does not exist."
                     for s in sections or []]
            changed = any(s in entries for s in sections or [])
            comment = "".join(f"{line}\n" for line in lines) or "No changes detected."
            return result.done(ret, comment, None if changed else True)
        for section in sections or []:
            if section not in entries:
                continue
            found = entries.pop(section)
            ini.write(name, entries, separator, encoding)
            gone = ini.plain(found) if isinstance(found, dict) else {}
            # Salt reports only sections that held options.
            if gone:
                ret["changes"][section] = gone
    except (OSError, UnicodeError, ValueError) as exc:
        return result.fail(ret, str(exc))
    return result.done(ret, TAKE_EFFECT if ret["changes"] else NO_ANOMALY)
