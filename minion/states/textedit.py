"""Pure text edits behind the line-editing file states (no file system here).

Each function takes the old text and returns the new text, raising
`StateError` with a sentence a user can act on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from minion.states.filehelpers import StateError


def _compile(pattern: str, what: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise StateError(f"{what}: invalid regular expression {pattern!r}: {exc}") from None


# --- append / prepend ------------------------------------------------------------------------


def _chunk_regex(chunk: str) -> re.Pattern[str] | None:
    """Salt's whitespace-insensitive search for a chunk of lines."""
    lines = [r"\s+".join(map(re.escape, line.split())) for line in chunk.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return None
    return re.compile(r"(?m)^[ \t]*" + r"\s*".join(lines) + r"[ \t]*$")


def missing_lines(text: str, chunks: Iterable[str]) -> list[str]:
    """The lines of the chunks not yet in `text` (a chunk counts as a whole)."""
    lines: list[str] = []
    for chunk in chunks:
        regex = _chunk_regex(chunk)
        if regex is None or regex.search(text):
            continue
        lines.extend(chunk.splitlines())
    return lines


def add_lines(text: str, lines: list[str], at_start: bool) -> str:
    if not lines:
        return text
    block = "\n".join(lines) + "\n"
    if at_start:
        return block + text
    if text and not text.endswith("\n"):
        text += "\n"
    return text + block


# --- line ------------------------------------------------------------------------------------


def _matcher(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error:
        return re.compile(re.escape(pattern))


def _indented(content: str, like: str, indent: bool) -> str:
    if not indent:
        return content
    return like[: len(like) - len(like.lstrip())] + content.lstrip()


def _find_one(lines: list[str], pattern: str, what: str) -> int:
    regex = _matcher(pattern)
    found = [i for i, line in enumerate(lines) if regex.search(line)]
    if not found:
        raise StateError(f'Found no occurrences of "{what}" expression {pattern!r}')
    if len(found) > 1:
        raise StateError(f'Found more than expected occurrences in "{what}" expression')
    return found[0]


def _same(a: str, b: str) -> bool:
    return a.strip() == b.strip()


def line_edit(text: str, content: str | None, match: str | None = None, mode: str | None = None,
              location: str | None = None, before: str | None = None,
              after: str | None = None, indent: bool = True) -> str:
    """Salt's file.line: ensure, replace, insert or delete one line of `text`."""
    modes = ("ensure", "replace", "insert", "delete")
    if mode not in modes:
        raise StateError(f"Mode {mode!r} is not supported: use one of {', '.join(modes)}")
    if mode != "delete" and content is None:
        raise StateError(f"Content is required for mode {mode!r}")
    if location not in (None, "start", "end"):
        raise StateError(f"Location {location!r} is not supported: use start or end")
    lines = text.splitlines()
    if mode == "delete":
        regex = _matcher(str(match if match is not None else content))
        new = [line for line in lines if not regex.search(line)]
    elif mode == "replace":
        regex = _matcher(str(match if match is not None else content))
        new = [_indented(str(content), line, indent) if regex.search(line) else line
               for line in lines]
    elif mode == "insert":
        new = _insert(lines, str(content), location, before, after, indent)
    else:
        new = _ensure(lines, str(content), before, after, indent)
    if new == lines:
        return text
    return "\n".join(new) + "\n" if new else ""


def _insert(lines: list[str], content: str, location: str | None, before: str | None,
            after: str | None, indent: bool) -> list[str]:
    # As in Salt, a location, or both before and after, insert every time (not idempotent).
    if location == "start":
        return [content, *lines]
    if location == "end":
        return [*lines, _indented(content, lines[-1], indent) if lines else content]
    if before is None and after is None:
        raise StateError("Mode insert needs a location, or a line to insert before or after")
    if after is not None and before is not None:
        _find_one(lines, after, "after")
        b = _find_one(lines, before, "before")
        return [*lines[:b], _indented(content, lines[b], indent), *lines[b:]]
    if after is not None:
        a = _find_one(lines, after, "after")
        stop = _find_one(lines, before, "before") if before is not None else a + 2
        if any(_same(line, content) for line in lines[a + 1: stop]):
            return lines
        return [*lines[: a + 1], _indented(content, lines[a], indent), *lines[a + 1:]]
    b = _find_one(lines, str(before), "before")
    if b > 0 and _same(lines[b - 1], content):
        return lines
    return [*lines[:b], _indented(content, lines[b], indent), *lines[b:]]


def _ensure(lines: list[str], content: str, before: str | None, after: str | None,
            indent: bool) -> list[str]:
    if before is None and after is None:
        raise StateError("Wrong conditions? Unable to ensure line without knowing where to put "
                         "it before and/or after.")
    if before is None or after is None:
        return _insert(lines, content, None, before, after, indent)
    a = _find_one(lines, after, "after")
    b = _find_one(lines, before, "before")
    if b <= a:
        raise StateError('The "before" line comes before the "after" line')
    between = lines[a + 1: b]
    line = _indented(content, lines[a], indent)
    if not between:
        return [*lines[: a + 1], line, *lines[b:]]
    if len(between) == 1:
        return lines if _same(between[0], content) else [*lines[: a + 1], line, *lines[b:]]
    raise StateError('Found more than one line between boundaries "before" and "after"')


# --- blockreplace ----------------------------------------------------------------------------


def block_edit(text: str, marker_start: str, marker_end: str, content: str,
               append: bool = False, prepend: bool = False) -> str:
    """Salt's file.blockreplace: replace what is between two marker lines."""
    start, end = marker_start.strip(), marker_end.strip()
    if not start or not end:
        raise StateError("marker_start and marker_end must not be empty")
    body = content if not content or content.endswith("\n") else content + "\n"
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if start in line), None)
    if first is None:
        if not (append or prepend):
            raise StateError("Cannot edit marked block. Markers were not found in file.")
        block = f"{marker_start.rstrip()}\n{body}{marker_end.rstrip()}\n"
        if prepend:
            return block + text
        return text + ("\n" if text and not text.endswith("\n") else "") + block
    last = next((i for i in range(first + 1, len(lines)) if end in lines[i]), None)
    if last is None:
        raise StateError("Unterminated marked block. End of file reached before marker_end.")
    head = lines[first] if lines[first].endswith("\n") else lines[first] + "\n"
    return "".join([*lines[:first], head, body, *lines[last:]])


# --- comment / uncomment ---------------------------------------------------------------------


def comment_edit(text: str, regex: str, char: str) -> tuple[str, str]:
    """Comment out the lines `regex` matches (at their start); returns (text, state).

    state is ``'changed'``, ``'already'`` (only commented matches) or ``'missing'``.
    """
    pattern = _compile(regex, "regex")
    unanchored = _compile(char + regex.lstrip("^"), "regex")
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if pattern.match(line.rstrip("\r\n"))]
    if not hits:
        already = any(unanchored.match(line.lstrip()) for line in lines)
        return text, "already" if already else "missing"
    for i in hits:
        lines[i] = char + lines[i]
    return "".join(lines), "changed"


def uncomment_edit(text: str, regex: str, char: str) -> tuple[str, str]:
    """Remove the comment character before lines matching `regex`; returns (text, state)."""
    body = regex.lstrip("^")
    commented = _compile(rf"^{re.escape(char)}[ \t]*(?:{body})", "regex")
    plain = _compile(rf"^[ \t]*(?:{body})", "regex")
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if commented.match(line)]
    if not hits:
        already = any(plain.match(line) for line in lines)
        return text, "already" if already else "missing"
    for i in hits:
        lines[i] = lines[i].lstrip(char)
    return "".join(lines), "changed"
