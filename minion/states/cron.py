"""Jobs in users' crontabs, like Salt's ``cron`` state.

.. code-block:: yaml

    /usr/local/bin/backup:
      cron.present:
        - user: root
        - minute: 30
        - hour: 2
        - identifier: nightly-backup

The crontab is read with ``crontab -l -u USER`` and written back with
``crontab -u USER -``. As in Salt, managed jobs live below the line
``# Lines below here are managed by Salt, do not edit``; each may carry a
comment line ending in ``SALT_CRON_IDENTIFIER:<id>`` (the identifier is the
command when none is given), so crontabs written by Salt keep working. Lines
above that marker and other comments are left alone. ``cron.env_present`` and
``cron.env_absent`` manage ``NAME=value`` lines below the marker (before the
jobs, where Salt writes them).
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["absent", "env_absent", "env_present", "present"]

TAG = "# Lines below here are managed by Salt, do not edit"
IDENT = "SALT_CRON_IDENTIFIER"
DISABLED = "#DISABLED#"
FIELDS = ("minute", "hour", "daymonth", "month", "dayweek")
_RANDOM_RANGE = {"minute": (0, 59), "hour": (0, 23), "daymonth": (1, 28), "month": (1, 12),
                 "dayweek": (0, 6)}


@dataclasses.dataclass
class Job:
    """One managed crontab entry (a schedule or ``@special``, a command)."""

    cmd: str
    times: tuple[str, ...] = ("*", "*", "*", "*", "*")
    special: str | None = None
    comment: str | None = None
    identifier: str | None = None
    commented: bool = False

    def lines(self) -> list[str]:
        out: list[str] = []
        if self.comment is not None or self.identifier is not None:
            text = "#"
            if self.comment:
                text += " " + self.comment.rstrip().replace("\n", "\n# ")
            if self.identifier:
                text += f" {IDENT}:{self.identifier}"
            out.extend(text.split("\n"))
        when = self.special if self.special else " ".join(self.times)
        out.append(f"{DISABLED if self.commented else ''}{when} {self.cmd}")
        return out


Item = str | Job


# --- pure: parsing, matching, rendering -----------------------------------------------------


def _parse_job(line: str) -> Job | None:
    commented = line.startswith(DISABLED)
    text = line[len(DISABLED):] if commented else line
    if text.startswith("@"):
        parts = text.split(None, 1)
        return Job(parts[1].strip(), special=parts[0], commented=commented) \
            if len(parts) == 2 else None
    parts = text.split(None, 5)
    if len(parts) < 6:
        return None
    return Job(parts[5].strip(), times=tuple(parts[:5]), commented=commented)


def _read_comment(lines: list[str]) -> tuple[str | None, str | None]:
    """The comment text and identifier held by Salt's comment lines above a job."""
    texts: list[str] = []
    ident: str | None = None
    for line in lines:
        text = line.lstrip("# ")
        if IDENT in text:
            text, _, rest = text.partition(IDENT)
            text = text.rstrip()
            ident = rest[1:] or None
        texts.append(text)
    return "\n".join(texts), ident


def parse(text: str) -> list[Item]:
    """Crontab text as raw lines (kept verbatim) and the managed jobs below the tag."""
    items: list[Item] = []
    pending: list[str] = []
    managed = False
    for line in text.splitlines():
        if not managed:
            items.append(line)
            managed = line.strip() == TAG
            continue
        is_comment = line.startswith("#") and not line.startswith(DISABLED)
        if is_comment:
            pending.append(line)
            continue
        job = _parse_job(line) if line.strip() and "=" not in line.split(None, 1)[0] else None
        if job is None:
            items.extend(pending)
            items.append(line)
        else:
            if pending:
                job.comment, job.identifier = _read_comment(pending)
            items.append(job)
        pending = []
    items.extend(pending)
    return items


def render(items: list[Item]) -> str:
    """Crontab text for the items; adds the tag when there are jobs and no tag yet."""
    lines: list[str] = []
    tagged = False
    for item in items:
        if isinstance(item, Job):
            if not tagged:
                lines.append(TAG)
                tagged = True
            lines.extend(item.lines())
        else:
            lines.append(item)
            tagged = tagged or item.strip() == TAG
    return "".join(f"{line}\n" for line in lines)


def matches(job: Job, cmd: str, identifier: str) -> bool:
    """Whether `job` is the one meant by `cmd` and `identifier`, by Salt's rule.

    A job with an identifier is matched by it; one without by its command.
    """
    if job.identifier:
        return job.identifier == identifier
    return job.cmd == cmd


def _wanted_times(times: dict[str, str], old: Job | None) -> tuple[str, ...]:
    """The schedule fields, with ``random`` kept from `old` or drawn once."""
    out: list[str] = []
    for i, field in enumerate(FIELDS):
        value = times[field]
        if value == "random":
            if old is not None and not old.special:
                value = old.times[i]
            else:
                low, high = _RANDOM_RANGE[field]
                value = str(random.randint(low, high))
        out.append(value)
    return tuple(out)


def _merge(old: Job | None, want: Job) -> Job:
    """The job to write: `want`, keeping the old comment when none is asked for."""
    if old is not None and want.comment is None:
        return dataclasses.replace(want, comment=old.comment)
    return want


# --- thin I/O through the context's runner ---------------------------------------------------


class CrontabError(Exception):
    """crontab is missing or refused to read or write."""


MISSING = 127  # what a runner reports when the command cannot be started


def read_crontab(ctx: Context, user: str) -> str:
    res = ctx.run(["crontab", "-l", "-u", user])
    if res.retcode == 0:
        return str(res.stdout)
    if res.retcode == MISSING:
        raise CrontabError("the crontab command is not available: install cron "
                           f"({res.stderr.strip()})")
    if "no crontab for" in res.stderr.lower():
        return ""
    raise CrontabError(f"crontab -l -u {user} failed: {res.stderr.strip() or res.retcode}")


def write_crontab(ctx: Context, user: str, text: str) -> None:
    res = ctx.run(["crontab", "-u", user, "-"], stdin=text)
    if res.retcode == 0:
        return
    if res.retcode == MISSING:
        raise CrontabError("the crontab command is not available: install cron")
    raise CrontabError(f"crontab -u {user} - failed: {res.stderr.strip() or res.retcode}")


# --- states ----------------------------------------------------------------------------------


def present(ctx: Context, name: str, user: str = "root", minute: Any = "*", hour: Any = "*",
            daymonth: Any = "*", month: Any = "*", dayweek: Any = "*",
            comment: str | None = None, commented: bool = False,
            identifier: str | None = None, special: str | None = None) -> dict[str, Any]:
    """Ensure a job runs `name` for `user` at the given times.

    name
        The command.
    user
        Whose crontab (default root).
    minute, hour, daymonth, month, dayweek
        The schedule (default ``*``); ``random`` picks a value once and keeps it.
    comment
        A comment line written above the job.
    commented
        Keep the job in the crontab, disabled (``#DISABLED#``).
    identifier
        Names the job, so its command can change; defaults to the command.
    special
        ``@reboot``, ``@daily``, ... instead of the five fields.

    CLI Example:

        minion call state.single cron.present name='/usr/bin/backup' hour=2 minute=30
    """
    name = name.strip()
    ident = str(identifier) if identifier else name
    ret = result.new(name)
    try:
        items = parse(read_crontab(ctx, user))
    except CrontabError as exc:
        return result.fail(ret, str(exc))
    found = {i: it for i, it in enumerate(items)
             if isinstance(it, Job) and matches(it, name, ident)}
    old = next(iter(found.values()), None)
    times = {f: str(v).lower() for f, v in zip(FIELDS, (minute, hour, daymonth, month, dayweek),
                                               strict=True)}
    want = _merge(old, Job(name, _wanted_times(times, old), special or None, comment,
                           ident, bool(commented)))
    if old == want and len(found) == 1:
        return result.done(ret, f"Cron {name} already present")
    verb = "updated" if old is not None else "added"
    if ctx.test:
        ret["changes"] = {user: name}
        return result.done(ret, f"Cron {name} is set to be {verb}", None)
    if old is None:
        items.append(want)
    else:
        # The first matching job becomes the wanted one; duplicates go.
        first = min(found)
        items = [want if i == first else it for i, it in enumerate(items)
                 if i == first or i not in found]
    try:
        write_crontab(ctx, user, render(items))
    except CrontabError as exc:
        return result.fail(ret, f"Cron {name} for user {user} failed to commit with error\n{exc}")
    ret["changes"] = {user: name}
    if old is None:
        return result.done(ret, f"Cron {name} added to {user}'s crontab")
    return result.done(ret, f"Cron {name} updated")


def absent(ctx: Context, name: str, user: str = "root", identifier: str | None = None,
           special: str | None = None) -> dict[str, Any]:
    """Ensure no job of `user` runs `name` (or carries `identifier`).

    name
        The command.
    user
        Whose crontab (default root).
    identifier
        The job's identifier; defaults to the command.
    special
        Only remove the ``@special`` job of this kind.

    CLI Example:

        minion call state.single cron.absent name='/usr/bin/backup'
    """
    name = name.strip()
    ident = str(identifier) if identifier else name
    ret = result.new(name)
    try:
        items = parse(read_crontab(ctx, user))
    except CrontabError as exc:
        return result.fail(ret, str(exc))
    keep = [it for it in items if not (isinstance(it, Job) and matches(it, name, ident)
                                       and (special is None or it.special == special))]
    if len(keep) == len(items):
        return result.done(ret, f"Cron {name} already absent")
    if ctx.test:
        ret["changes"] = {user: name}
        return result.done(ret, f"Cron {name} is set to be removed", None)
    try:
        write_crontab(ctx, user, render(keep))
    except CrontabError as exc:
        return result.fail(ret, f"Cron {name} for user {user} failed to commit with error\n{exc}")
    ret["changes"] = {user: name}
    return result.done(ret, f"Cron {name} removed from {user}'s crontab")


# --- environment lines (NAME=value below the marker) ----------------------------------------


def _env_name(item: Item) -> str | None:
    if isinstance(item, Job) or "=" not in item or item.lstrip().startswith("#"):
        return None
    head = item.split("=", 1)[0]
    return head if head and " " not in head else None


def _managed_start(items: list[Item]) -> int | None:
    for i, item in enumerate(items):
        if isinstance(item, str) and item.strip() == TAG:
            return i + 1
    return None


def env_lines(items: list[Item]) -> dict[str, tuple[int, str]]:
    """``{name: (index, value)}`` of the managed environment lines."""
    start = _managed_start(items)
    found: dict[str, tuple[int, str]] = {}
    for i in range(start if start is not None else len(items), len(items)):
        name = _env_name(items[i])
        if name is not None:
            found[name] = (i, str(items[i]).split("=", 1)[1])
    return found


def set_env(items: list[Item], name: str, value: str) -> list[Item]:
    """Items with ``name=value`` as the last managed environment line (the marker added)."""
    out = [it for i, it in enumerate(items) if i != env_lines(items).get(name, (-1, ""))[0]]
    start = _managed_start(out)
    if start is None:
        return [*out, TAG, f"{name}={value}"]
    last = max([i for i, _ in env_lines(out).values()], default=start - 1)
    return [*out[:last + 1], f"{name}={value}", *out[last + 1:]]


def env_present(ctx: Context, name: str, value: Any = None, user: str = "root") -> dict[str, Any]:
    """Make sure an environment line ``NAME=value`` is in a user's crontab.

    name
        The variable.
    value
        Its value (empty when not given).
    user
        Whose crontab (default root).

    CLI Example:

        minion call state.single cron.env_present MAILTO value=ops@example.com
    """
    ret = result.new(name)
    wanted = "" if value is None else str(value)
    if "\n" in wanted or "\n" in name or "=" in name or not name.strip():
        return result.fail(ret, f"Invalid cron env {name!r}")
    try:
        items = parse(read_crontab(ctx, user))
    except CrontabError as exc:
        return result.fail(ret, str(exc))
    have = env_lines(items).get(name)
    if have is not None and have[1] == wanted:
        return result.done(ret, f"Cron env {name} already present")
    if ctx.test:
        verb = "added" if have is None else "updated"
        return result.done(ret, f"Cron env {name} is set to be {verb}", None)
    try:
        write_crontab(ctx, user, render(set_env(items, name, wanted)))
    except CrontabError as exc:
        return result.fail(ret, f"Cron env {name} for user {user} failed to commit with "
                                f"error \n{exc}")
    ret["changes"] = {user: name}
    if have is None:
        return result.done(ret, f"Cron env {name} added to {user}'s crontab")
    return result.done(ret, f"Cron env {name} updated")


def env_absent(ctx: Context, name: str, user: str = "root") -> dict[str, Any]:
    """Make sure an environment line for `name` is not in a user's crontab.

    CLI Example:

        minion call state.single cron.env_absent MAILTO
    """
    name = name.strip()
    ret = result.new(name)
    try:
        items = parse(read_crontab(ctx, user))
    except CrontabError as exc:
        return result.fail(ret, str(exc))
    have = env_lines(items).get(name)
    if have is None:
        return result.done(ret, f"Cron env {name} is absent" if ctx.test
                           else f"Cron env {name} already absent")
    if ctx.test:
        return result.done(ret, f"Cron env {name} is set to be removed", None)
    try:
        write_crontab(ctx, user, render([it for i, it in enumerate(items) if i != have[0]]))
    except CrontabError as exc:
        return result.fail(ret, f"Cron env {name} for user {user} failed to commit with "
                                f"error {exc}")
    ret["changes"] = {user: name}
    return result.done(ret, f"Cron env {name} removed from {user}'s crontab")
