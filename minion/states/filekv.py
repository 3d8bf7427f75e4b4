"""`file.keyvalue`: set ``key<separator>value`` lines in a configuration file.

The change report is Salt's own line list (``- old line`` / ``+ new line``),
not a unified diff, and a test run repeats it in the comment.
"""

from __future__ import annotations

import os
from typing import Any

from minion.context import Context
from minion.states import result
from minion.states.filehelpers import StateError, state, write_atomic


def _wanted(key: Any, value: Any, key_values: Any) -> dict[str, Any]:
    if key is not None and value is not None:
        if isinstance(key_values, dict):
            raise StateError("file.keyvalue can not combine key_values with key and value")
        return {str(key): value}
    if not isinstance(key_values, dict) or not key_values:
        why = "is empty" if not key_values else "is not a dictionary"
        raise StateError(f"file.keyvalue key and value not supplied and key_values {why}")
    return {str(k): v for k, v in key_values.items()}


class _Edit:
    """One pass over the file's lines: the new lines, the report, and how many changed."""

    def __init__(self, wanted: dict[str, Any], separator: str, uncomment: str | None,
                 count: int, key_ignore_case: bool, value_ignore_case: bool) -> None:
        self.wanted, self.separator, self.uncomment = wanted, separator, uncomment or ""
        self.left = dict.fromkeys(wanted, count)
        self.key_case, self.value_case = key_ignore_case, value_ignore_case
        self.content: list[str] = []
        self.diff: list[str] = []
        self.changes = 0

    def line(self, line: str) -> None:
        bare = line.lstrip(self.uncomment) if self.uncomment else line
        commented = len(bare) < len(line)
        probe = bare.lower() if self.key_case else bare
        for key, value in self.wanted.items():
            want_key = key.lower() if self.key_case else key
            if not probe.startswith(want_key):
                continue
            have_key, sep, have_value = (bare if commented else line).partition(self.separator)
            if sep != self.separator:
                continue
            if (have_key.lower() if self.key_case else have_key) != want_key:
                continue
            self._matched(line, key, value, have_key, sep, have_value, commented)
            return
        self.content.append(line)

    def _matched(self, line: str, key: str, value: Any, have_key: str, sep: str,
                 have_value: str, commented: bool) -> None:
        old, new = have_value.strip(), str(value).strip()
        if self.value_case:
            old, new = old.lower(), new.lower()
        same = old == new
        rewrite = False
        if commented:
            rewrite = self.left[key] > 0
            same = True if not same and not rewrite else same
        elif self.left[key] == 0:
            rewrite = True  # one occurrence too many: it goes
        if not same or rewrite:
            self.diff.append(f"- {line}")
            line = ""
            if self.left[key] != 0:
                line = f"{have_key}{sep}{value}{os.linesep}"
                note = "" if isinstance(value, str) else f" (from {type(value).__name__} type)"
                self.diff.append(f"+ {line.rstrip()}{note}{os.linesep}" if note else f"+ {line}")
            self.changes += 1
        if self.left[key] > 0:
            self.left[key] -= 1
        if line:
            self.content.append(line)

    def add_missing(self, at_start: bool) -> None:
        added = [f"{key}{self.separator}{value}{os.linesep}" for key, value in self.wanted.items()
                 if self.left[key] > 0]
        if not added:
            return
        self.changes += len(added)
        if at_start:
            self.diff[0:0] = [f"  <SOF>{os.linesep}"] + [f"+ {line}" for line in reversed(added)]
            self.content[0:0] = list(reversed(added))
        else:
            self.diff += [f"- <EOF>{os.linesep}", *[f"+ {line}" for line in added],
                          f"+ <EOF>{os.linesep}"]
            self.content += added


@state
def keyvalue(
    ctx: Context, name: str, key: Any = None, value: Any = None, key_values: Any = None,
    separator: str = "=", append_if_not_found: bool = False,
    prepend_if_not_found: bool = False, search_only: bool = False, show_changes: bool = True,
    ignore_if_missing: bool = False, count: int = 1, uncomment: str | None = None,
    key_ignore_case: bool = False, value_ignore_case: bool = False,
    create_if_missing: bool = False,
) -> dict[str, Any]:
    """Make a file set keys to values, one ``key<separator>value`` line each.

    name
        Absolute path of the file.
    key, value
        One key and its value; or key_values, a mapping of several.
    separator
        Between key and value (default ``=``).
    uncomment
        Characters to strip from the start of a commented-out line so its
        key counts (e.g. ``#``).
    count
        How many occurrences of a key to keep (later ones are removed);
        -1 for all.
    append_if_not_found / prepend_if_not_found
        Add missing keys at the end / start.
    key_ignore_case, value_ignore_case
        Compare keys / values without case.
    ignore_if_missing, create_if_missing
        A missing file is fine / is created.

    CLI Example:

        minion call state.single file.keyvalue /etc/ssh/sshd_config key=PermitRootLogin \\
            value=no separator=' ' uncomment='#'
    """
    ret: dict[str, Any] = {"name": name, "changes": {}, "result": None, "comment": ""}
    path = os.path.expanduser(str(name))
    wanted = _wanted(key, value, key_values)
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.readlines()
    except FileNotFoundError:
        if not create_if_missing:
            return result.done(ret, f"unable to open {name}", bool(ignore_if_missing))
        append_if_not_found, lines = True, []
    except OSError:
        return result.done(ret, f"unable to open {name}", bool(ignore_if_missing))
    edit = _Edit(wanted, separator, uncomment, int(count), key_ignore_case, value_ignore_case)
    for line in lines:
        edit.line(line)
    if append_if_not_found or prepend_if_not_found:
        edit.add_missing(at_start=not append_if_not_found)
    if not edit.changes:
        return result.done(ret, "")
    report = "".join(edit.diff)
    if ctx.test:
        comment = f"File {name} is set to be changed ({edit.changes} lines)"
        if show_changes:
            ret["changes"]["diff"] = report
            comment += "\nPredicted diff:\n\r\t\t" + "\r\t\t".join(edit.diff)
        ret["comment"] = comment
        return ret
    if show_changes:
        ret["changes"]["diff"] = report
    write_atomic(path, "".join(edit.content).encode(), 0o644)
    return result.done(ret, f"Changed {edit.changes} lines")
