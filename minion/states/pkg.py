"""Keep packages installed, up to date or removed, like Salt's ``pkg`` states.

Everything goes through the ``pkg`` execution module (apt and dpkg), so the
changes are its ``{name: {"old": version, "new": version}}``. After a change
the state reads the package database again and fails naming the packages
that did not end up as wanted.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

from common.fileroots import FileServerError, split_url
from minion.context import Context
from minion.modules.pkg import check_refresh, write_rtag
from minion.states import result

__all__ = ["installed", "latest", "mod_init", "purged", "removed"]

Wanted = dict[str, str | None]


# An empty ``pkgs`` list (a loop over an empty pillar list) is nothing to do.
NOTHING_TO_INSTALL = "No packages to install provided"


class _Error(Exception):
    """A bad argument or a failed query: the state fails with this sentence."""


def _check(answer: Any) -> Any:
    """Raise _Error for an execution function's ``ERROR: ...`` answer."""
    if isinstance(answer, str) and answer.startswith("ERROR: "):
        raise _Error(answer[len("ERROR: "):])
    return answer


def _wanted(name: str, version: Any, pkgs: Any) -> Wanted:
    """``{name: version or None}`` from Salt's name/version/pkgs arguments."""
    if pkgs is None:
        return {str(name): None if version in (None, "") else str(version)}
    if isinstance(pkgs, str | Mapping) or not isinstance(pkgs, Sequence):
        raise _Error("pkgs: expected a list, e.g. [nginx, {curl: 7.88.1-10}]")
    wanted: Wanted = {}
    for item in pkgs:
        if isinstance(item, Mapping):
            for key, ver in item.items():
                wanted[str(key)] = None if ver in (None, "") else str(ver)
        else:
            wanted[str(item)] = None
    if not wanted:
        raise _Error("pkgs: no package given")
    return wanted


def _names(name: str, pkgs: Any) -> list[str]:
    return list(_wanted(name, None, pkgs))


def _installed(ctx: Context, removed: bool = False) -> dict[str, str]:
    return dict(_check(ctx.call("pkg.list_pkgs", removed=removed)))


def _matches(current: str | None, version: str | None) -> bool:
    """Whether an installed version (None: not installed) satisfies the wanted one."""
    if not current:
        return False
    if version is None:
        return True
    wanted = version[1:] if version.startswith("=") else version
    return current == wanted or fnmatch.fnmatchcase(current, wanted)


def _desired(pkg: str, version: str | None) -> str:
    return pkg if version is None else f"{pkg}={version}"


# --- sources: local or salt:// .deb files ------------------------------------------------


def _deb_path(ctx: Context, path: str, saltenv: str) -> str:
    if not path.startswith("salt://"):
        return path
    rel, env = split_url(path, saltenv)
    try:
        return str(ctx.fileclient().cache_file(env, rel))
    except (FileServerError, RuntimeError) as exc:
        raise _Error(f"sources: {path}: {exc}") from None


def _deb_version(ctx: Context, path: str) -> str:
    answer = ctx.run(["dpkg-deb", "--field", path, "Version"])
    if answer.retcode != 0 or not answer.stdout.strip():
        why = answer.stderr.strip().splitlines() or [f"exit code {answer.retcode}"]
        raise _Error(f"sources: cannot read the version of {path}: {why[-1]}")
    return answer.stdout.strip()


def _sources(ctx: Context, sources: Any, saltenv: str) -> tuple[Wanted, dict[str, str]]:
    """({name: version in the .deb}, {name: local path}) from ``[{name: path}]``."""
    if isinstance(sources, str | Mapping) or not isinstance(sources, Sequence):
        raise _Error("sources: expected a list like [{name: /path/to/file.deb}]")
    wanted: Wanted = {}
    paths: dict[str, str] = {}
    for item in sources:
        if not isinstance(item, Mapping) or len(item) != 1:
            raise _Error(f"sources: expected one {{name: path}} per entry, got {item!r}")
        (pkg, path), = item.items()
        paths[str(pkg)] = _deb_path(ctx, str(path), saltenv)
        wanted[str(pkg)] = _deb_version(ctx, paths[str(pkg)])
    return wanted, paths


# --- holds ---------------------------------------------------------------------------------


def _selections(ctx: Context, names: list[str]) -> dict[str, str]:
    """dpkg's selection (install, hold, ...) of each installed package among `names`."""
    answer = ctx.run(["dpkg-query", "--show", "--showformat=${Package}\t${Status}\n", *names],
                     env={"LC_ALL": "C"})
    found = {}
    for line in answer.stdout.splitlines():
        pkg, _, status = line.partition("\t")
        if status.split()[:1]:
            found[pkg] = status.split()[0]
    return found


def _hold_targets(ctx: Context, names: list[str], hold: bool | None) -> list[str]:
    if hold is None:
        return []
    wants = _selections(ctx, names)
    return [pkg for pkg in names if (wants.get(pkg) == "hold") != hold]


def _apply_holds(ctx: Context, names: list[str], hold: bool,
                 changes: dict[str, Any]) -> list[str]:
    """Hold or release `names`; merge what changed into `changes`; return the failures."""
    answer = ctx.call("pkg.hold" if hold else "pkg.unhold", pkgs=names)
    if isinstance(answer, str):
        return names
    failed = []
    for pkg, entry in answer.items():
        if not entry.get("result"):
            failed.append(pkg)
        elif entry.get("changes"):
            if pkg in changes:
                changes[pkg]["hold"] = entry["changes"]["new"] == "hold"
            else:
                changes[pkg] = dict(entry["changes"])
    return failed


# --- installed -----------------------------------------------------------------------------


def _already(name: str, wanted: Wanted, single: bool) -> str:
    if single:
        version = wanted[name]
        if version is not None:
            return f"Version {version} of package '{name}' is already installed"
        return f"Package {name} is already installed"
    pinned = any(v is not None for v in wanted.values())
    return "All specified packages are already installed" + (
        " and are at the desired version" if pinned else "")


def _install(ctx: Context, targets: Wanted, paths: dict[str, str], refresh: bool,
             fromrepo: str | None) -> dict[str, Any]:
    if paths:
        sources = [{pkg: paths[pkg]} for pkg in targets]
        answer = ctx.call("pkg.install", sources=sources, refresh=refresh, fromrepo=fromrepo)
    else:
        pkgs = [pkg if ver is None else {pkg: ver} for pkg, ver in targets.items()]
        answer = ctx.call("pkg.install", pkgs=pkgs, refresh=refresh, fromrepo=fromrepo)
    if isinstance(answer, str):
        raise _Error("An error was encountered while installing package(s): "
                     + answer.removeprefix("ERROR: "))
    return dict(answer)


def _installed_report(targets: Wanted, failed: list[str], unchanged: list[str],
                      changes: dict[str, Any]) -> str:
    lines = []
    if failed:
        lines.append("The following packages failed to install/update: "
                     + ", ".join(_desired(p, targets[p]) for p in failed))
    done = [p for p in targets if p not in failed and p in changes]
    if done:
        lines.append("The following packages were installed/updated: "
                     + ", ".join(_desired(p, targets[p]) for p in done))
    if unchanged:
        lines.append("The following packages were already installed: " + ", ".join(unchanged))
    return "\n".join(lines)


def _would_install(before: dict[str, str], targets: Wanted, labels: Wanted, holds: list[str],
                   hold: bool | None) -> tuple[dict[str, Any], str]:
    """The changes and comment of installed in test mode.

    Source packages are named without the version they bring, as Salt does.
    """
    pending: dict[str, dict[str, Any]] = {
        p: {"old": before.get(p, ""), "new": v or "installed"} for p, v in targets.items()}
    comment = []
    if targets:
        comment.append("The following packages would be installed/updated: "
                       + ", ".join(_desired(p, labels[p]) for p in targets))
    if holds:
        verb = "held" if hold else "released from hold"
        comment.append(f"The following packages would be {verb}: {', '.join(holds)}")
        for pkg in holds:
            pending.setdefault(pkg, {})["hold"] = bool(hold)
    return pending, "\n".join(comment)


def installed(
    ctx: Context,
    name: str,
    version: str | None = None,
    pkgs: list[Any] | None = None,
    sources: list[Any] | None = None,
    refresh: bool | None = None,
    hold: bool | None = None,
    fromrepo: str | None = None,
    saltenv: str = "base",
    **kwargs: Any,
) -> dict[str, Any]:
    """Make sure packages are installed (at a version, when one is given).

    name
        The package (ignored when pkgs or sources is given).
    version
        The version of `name` to install; a glob like ``1.2*`` matches too.
    pkgs
        A list of packages, each a name or ``{name: version}``.
    sources
        .deb files as ``[{name: path}]``; a path may be ``salt://...``.
    refresh
        Run apt-get update before installing (only when something is installed).
        Unset, the first pkg state of a run that installs something refreshes,
        the others do not (as in Salt); False never refreshes.
    hold
        True holds the packages at their version, False releases them.
    fromrepo
        Install from this release (apt-get -t).
    saltenv
        The file server environment of salt:// sources.

    CLI Example:

        minion call --local state.single pkg.installed nginx
    """
    ret = result.new(name)
    if isinstance(pkgs, list) and not pkgs:
        return result.done(ret, NOTHING_TO_INSTALL)
    refresh = check_refresh(ctx.opts, refresh)
    try:
        paths: dict[str, str] = {}
        if sources is not None:
            wanted, paths = _sources(ctx, sources, saltenv)
        else:
            wanted = _wanted(name, version, pkgs)
        before = _installed(ctx)
        targets = {p: v for p, v in wanted.items() if not _matches(before.get(p), v)}
        holds = _hold_targets(ctx, list(wanted), hold)
        if not targets and not holds:
            single = pkgs is None and sources is None
            shown: Wanted = {p: None for p in wanted} if paths else wanted
            return result.done(ret, _already(name, shown, single))
        labels = {p: None if paths else v for p, v in targets.items()}
        pending, comment = _would_install(before, targets, labels, holds, hold)
        if (r := result.pending(ctx, ret, pending, comment)):
            return r
        changes = _install(ctx, targets, paths, refresh, fromrepo) if targets else {}
        after = _installed(ctx)
    except _Error as exc:
        return result.fail(ret, str(exc))
    failed = [p for p, v in targets.items() if not _matches(after.get(p), v)]
    if holds:
        failed += [p for p in _apply_holds(ctx, holds, bool(hold), changes) if p not in failed]
    ret["changes"] = changes
    unchanged = [p for p in wanted if p not in targets]
    comment = _installed_report(labels, failed, unchanged, changes)
    if holds:
        verb = "held" if hold else "released from hold"
        comment += f"\nThe following packages were {verb}: {', '.join(holds)}"
    return result.done(ret, comment.strip(), not failed)


# --- latest --------------------------------------------------------------------------------


def _by_name(names: list[str], answer: Any) -> dict[str, str]:
    if isinstance(answer, Mapping):
        return {n: str(answer.get(n, "")) for n in names}
    return {names[0]: str(answer)}


def _up_to_date_note(up_to_date: list[str], current: dict[str, str], tense: str) -> str:
    listed = ", ".join(f"{p} ({current[p]})" for p in sorted(up_to_date))
    return f"The following packages {tense} already up-to-date: {listed}"


def latest(
    ctx: Context,
    name: str,
    pkgs: list[Any] | None = None,
    refresh: bool | None = None,
    fromrepo: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Make sure packages are installed at the newest version apt offers.

    name
        The package (ignored when pkgs is given).
    pkgs
        A list of package names.
    refresh
        Run apt-get update first. Unset, only the first pkg state of a run
        refreshes (as in Salt); False never refreshes.
    fromrepo
        Install from this release (apt-get -t).

    CLI Example:

        minion call --local state.single pkg.latest openssl refresh=True
    """
    ret = result.new(name)
    if isinstance(pkgs, list) and not pkgs:
        return result.done(ret, NOTHING_TO_INSTALL)
    try:
        names = _names(name, pkgs)
        newest = _by_name(names, _check(ctx.call("pkg.latest_version", *names,
                                                 refresh=check_refresh(ctx.opts, refresh))))
        current = _by_name(names, _check(ctx.call("pkg.version", *names)))
    except _Error as exc:
        return result.fail(ret, str(exc))
    unknown = [p for p in names if not newest[p] and not current[p]]
    if unknown:
        return result.fail(ret, " ".join(f"No information found for '{p}'." for p in unknown))
    targets = {p: newest[p] for p in names if newest[p]}
    up_to_date = [p for p in names if p not in targets]
    if not targets:
        return result.done(ret, _up_to_date_note(up_to_date, current, "are"))
    notes = [f"The following packages would be installed/upgraded: {', '.join(sorted(targets))}"]
    if up_to_date:
        notes.append(_up_to_date_note(up_to_date, current, "are"))
    pending = {p: {"old": current[p], "new": v} for p, v in targets.items()}
    if (r := result.pending(ctx, ret, pending, "\n".join(notes))):
        return r
    answer = ctx.call("pkg.install", pkgs=list(targets), fromrepo=fromrepo)
    if isinstance(answer, str):
        return result.fail(ret, "An error was encountered while installing package(s): "
                                + answer.removeprefix("ERROR: "))
    ret["changes"] = answer
    failed = sorted(p for p, v in targets.items() if answer.get(p, {}).get("new") != v)
    notes = []
    if failed:
        notes.append(f"The following packages failed to update: {', '.join(failed)}")
    if len(failed) < len(targets):
        done = sorted(p for p in targets if p not in failed)
        notes.append(f"The following packages were successfully installed/upgraded: "
                     f"{', '.join(done)}")
    if up_to_date:
        notes.append(_up_to_date_note(up_to_date, current, "were"))
    return result.done(ret, " ".join(notes), not failed)


def mod_init(ctx: Context, low: Mapping[str, Any]) -> bool:
    """Called by the engine before the first pkg state of a run: a pkg.installed or
    pkg.latest there sets the refresh tag, so the first of them with refresh unset
    updates the package lists (Salt's rule)."""
    if low.get("fun") in ("installed", "latest"):
        write_rtag(ctx.opts)
        return True
    return False


# --- removed and purged --------------------------------------------------------------------


def _uninstall(ctx: Context, action: str, name: str, version: str | None,
               pkgs: Any) -> dict[str, Any]:
    ret = result.new(name)
    try:
        wanted = _wanted(name, version, pkgs)
        present = _installed(ctx)
        if action == "purge":
            present = {**_installed(ctx, removed=True), **present}
    except _Error as exc:
        return result.fail(ret, str(exc))
    targets = [p for p, v in wanted.items() if _matches(present.get(p), v)]
    if not targets:
        extra = " or partially installed" if action == "purge" else ""
        return result.done(ret, f"None of the targeted packages are installed{extra}")
    pending = {p: {"old": present[p], "new": ""} for p in targets}
    comment = f"The following packages will be {action}d: {', '.join(targets)}."
    if (r := result.pending(ctx, ret, pending, comment)):
        return r
    answer = ctx.call(f"pkg.{action}", pkgs=targets)
    if isinstance(answer, str):
        return result.fail(ret, answer.removeprefix("ERROR: "))
    ret["changes"] = answer
    try:
        left = _installed(ctx)
        if action == "purge":
            left.update(_installed(ctx, removed=True))
    except _Error as exc:
        return result.fail(ret, str(exc))
    failed = sorted(p for p in targets if p in left)
    if failed:
        return result.fail(ret, f"The following packages failed to {action}: {', '.join(failed)}.")
    skipped = sorted(p for p in wanted if p not in targets)
    if skipped:
        return result.done(ret, f"The following packages were not installed: "
                                f"{', '.join(skipped)} The following packages were "
                                f"{action}d: {', '.join(targets)}.")
    return result.done(ret, f"All targeted packages were {action}d.")


def removed(ctx: Context, name: str, version: str | None = None, pkgs: list[Any] | None = None,
            **kwargs: Any) -> dict[str, Any]:
    """Make sure packages are not installed (their config files may stay).

    name
        The package (ignored when pkgs is given).
    version
        Remove only when this version (or glob) is the installed one.
    pkgs
        A list of package names.

    CLI Example:

        minion call --local state.single pkg.removed telnet
    """
    return _uninstall(ctx, "remove", name, version, pkgs)


def purged(ctx: Context, name: str, version: str | None = None, pkgs: list[Any] | None = None,
           **kwargs: Any) -> dict[str, Any]:
    """Make sure packages and their config files are gone.

    name
        The package (ignored when pkgs is given).
    version
        Purge only when this version (or glob) is the installed one.
    pkgs
        A list of package names.

    CLI Example:

        minion call --local state.single pkg.purged telnet
    """
    return _uninstall(ctx, "purge", name, version, pkgs)
