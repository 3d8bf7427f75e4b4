"""Keep APT source entries configured or removed, like Salt's ``pkgrepo`` on Debian.

.. code-block:: yaml

    local-repo:
      pkgrepo.managed:
        - name: deb [signed-by=/etc/apt/keyrings/local.gpg] https://repo.example.com stable main
        - file: /etc/apt/sources.list.d/local.list
        - key_url: salt://keys/local.asc
        - require_in:
          - pkg: myapp

`name` is the whole source line. An entry matching its type, URI, dist and
a component is compared field by field (Salt's ``comps``, ``disabled``,
``line``, ``architectures``, ``signedby``...) and rewritten only when one
differs; ``changes`` names those fields with ``old`` and ``new``.
"""

from __future__ import annotations

import os
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["absent", "managed"]

_TEST_TAIL = (" This may cause pkg states to behave differently than stated if this action "
              "is repeated without test=True, due to the differences in the configured "
              "repositories.")
FIELDS = ("comps", "disabled", "dist", "type", "uri", "line", "architectures", "signedby")


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _wanted(ctx: Context, name: str, comps: str | None, architectures: str | None,
            disabled: bool, file: str | None) -> dict[str, Any]:
    """The entry as it should be (Salt's expanded repo definition)."""
    want: dict[str, Any] = ctx.call("aptrepo.split_line", name)
    if comps:
        want["comps"] = [c.strip() for c in comps.split(",")]
    if architectures:
        want["architectures"] = [a.strip() for a in architectures.split(",")]
    want["disabled"] = disabled
    want["file"] = file or "/etc/apt/sources.list"
    words = name.strip().split()
    if comps:
        words = words[:len(words) - len(ctx.call("aptrepo.split_line", name)["comps"])]
        words += want["comps"]
    want["line"] = ("# " if disabled else "") + " ".join(words)
    return want


def _differs(key: str, want: Any, have: Any) -> bool:
    if key == "comps":
        return sorted(want) != sorted(have)
    if key == "architectures":
        return bool(want) and set(want) != set(have)
    if key == "line":
        if want.startswith("#"):
            return False
        mine, theirs = want.split(), have.partition(" #")[0].split()
        return mine[:3] != theirs[:3] or sorted(mine[3:]) != sorted(theirs[3:])
    return str(want) != str(have)


def _stale_lines(path: str | None, name: str) -> bool:
    if not path or not os.path.isfile(path):
        return False
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [line.strip() for line in f]
    return any(line and not line.startswith("#") and line != name.strip() for line in lines)


def managed(
    ctx: Context,
    name: str,
    file: str | None = None,
    comps: str | None = None,
    architectures: str | None = None,
    enabled: bool | None = None,
    disabled: bool | None = None,
    key_url: str | None = None,
    aptkey: bool = True,
    clean_file: bool = False,
    refresh: bool = True,
    refresh_db: bool | None = None,
    comments: str | list[str] | None = None,
    humanname: str | None = None,
    dist: str | None = None,
    saltenv: str = "base",
) -> dict[str, Any]:
    """Make sure the APT source line `name` is configured.

    name
        The whole line, e.g. ``deb [trusted=yes] file:/srv/repo ./``.
    file
        The file holding it (default /etc/apt/sources.list).
    comps, architectures
        Comma-separated lists replacing those of the line.
    enabled, disabled
        Write the entry active (default) or commented out.
    key_url
        The signing key (salt://, http(s) or a path): written to the line's
        ``signed-by`` keyring, else added with apt-key.
    aptkey
        False: never use apt-key (the line must then have ``signed-by``).
    clean_file
        Empty `file` first when it holds other entries.
    refresh, refresh_db
        Run ``apt-get update`` after a change (default True).
    comments
        A comment written after the line.
    humanname, dist
        Accepted for Salt formulas; not used on Debian.

    CLI Example:

        minion call --local state.single pkgrepo.managed 'deb [trusted=yes] file:/srv/repo ./'
    """
    ret = {**result.new(name), "result": None}
    if enabled is not None and disabled is not None:
        return result.fail(ret, "Only one of enabled/disabled is allowed")
    off = _truthy(disabled) if disabled is not None else (
        not _truthy(enabled) if enabled is not None else False)
    try:
        pre = ctx.call("aptrepo.get_repo", name)
        want = _wanted(ctx, name, comps, architectures, off, file)
    except Exception as exc:
        return result.fail(ret, f"Failed to examine repo '{name}': {exc}")
    reconfigure = bool(pre) and clean_file and _stale_lines(file, name)
    if pre and not reconfigure and not any(_differs(k, want[k], pre[k]) for k in FIELDS):
        return result.done(ret, f"Package repo '{name}' already configured")
    if ctx.test:
        if pre:
            ret["changes"] = {k: {"new": want[k], "old": pre.get(k)} for k in FIELDS
                              if want[k] != pre.get(k)}
        else:
            ret["changes"] = {"repo": name}
        return result.done(ret, f"Package repo '{name}' would be configured." + _TEST_TAIL,
                           None)
    try:
        ctx.call("aptrepo.mod_repo", name, file=file, comps=comps, architectures=architectures,
                 disabled=off, comments=comments, key_url=key_url, aptkey=aptkey,
                 clean_file=bool(clean_file and file),
                 refresh=refresh if refresh_db is None else refresh_db, saltenv=saltenv)
    except Exception as exc:
        return result.fail(ret, f"Failed to configure repo '{name}': {exc}")
    try:
        post = ctx.call("aptrepo.get_repo", name)
    except Exception as exc:
        return result.fail(ret, f"Failed to confirm config of repo '{name}': {exc}")
    if pre:
        ret["changes"] = {k: {"new": post.get(k), "old": pre.get(k)} for k in FIELDS
                          if post.get(k) != pre.get(k)}
    else:
        ret["changes"] = {"repo": name}
    return result.done(ret, f"Configured package repo '{name}'")


def absent(ctx: Context, name: str, refresh: bool = True) -> dict[str, Any]:
    """Make sure the APT source line `name` is not configured.

    name
        The whole line, as it was configured (architectures must match too).

    CLI Example:

        minion call --local state.single pkgrepo.absent 'deb [trusted=yes] file:/srv/repo ./'
    """
    ret = {**result.new(name), "result": None}
    try:
        repo = ctx.call("aptrepo.get_repo", name)
    except Exception as exc:
        return result.fail(ret, f"Failed to configure repo '{name}': {exc}")
    wanted_arch = set(ctx.call("aptrepo.split_line", name)["architectures"])
    if not repo or wanted_arch != set(repo["architectures"]):
        return result.done(ret, f"Package repo {name} is absent")
    if ctx.test:
        return result.done(ret, f"Package repo '{name}' will be removed." + _TEST_TAIL, None)
    try:
        ctx.call("aptrepo.del_repo", name, refresh=refresh)
    except Exception as exc:
        return result.fail(ret, str(exc))
    ret["changes"]["repo"] = name
    return result.done(ret, f"Removed repo {name}")
