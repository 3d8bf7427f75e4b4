"""Install, remove and query packages with apt and dpkg, like Salt's ``pkg`` module.

Names and return shapes follow Salt's aptpkg: ``pkg.version`` gives a string
for one package and a dict for several, ``pkg.install``/``pkg.remove`` return
the changes ``{name: {"old": version, "new": version}}`` ('' where a package is
absent). Every command goes through ``ctx.run`` with
``DEBIAN_FRONTEND=noninteractive`` and dpkg keeping existing config files
(``--force-confold``), so tests answer them with a fake runner. A failure
sets the job's exit code and returns one line saying what went wrong.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from minion.context import Context
from minion.runner import CommandResult

__all__ = [
    "available_version",
    "hold",
    "install",
    "latest_version",
    "list_pkgs",
    "list_upgrades",
    "purge",
    "refresh_db",
    "remove",
    "unhold",
    "upgrade",
    "version",
]

ENV = {
    "DEBIAN_FRONTEND": "noninteractive",
    "APT_LISTBUGS_FRONTEND": "none",
    "APT_LISTCHANGES_FRONTEND": "none",
    "LC_ALL": "C",
}
APT_GET = [
    "apt-get", "-q", "-y",
    "-o", "DPkg::Options::=--force-confold",
    "-o", "DPkg::Options::=--force-confdef",
    "-o", "DPkg::Lock::Timeout=60",
]
QUERY_FORMAT = r"${Package}\t${Version}\t${Architecture}\t${Status}\n"
QUERY = ["dpkg-query", "--show", f"--showformat={QUERY_FORMAT}"]
NATIVE_ARCH = ["dpkg", "--print-architecture"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?$")
_VERSION = re.compile(r"^[A-Za-z0-9.+~:*-]+$")
_INST = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+)")

Changes = dict[str, dict[str, str]]


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    missing = [tool for tool in ("dpkg", "dpkg-query", "apt-get", "apt-cache")
               if shutil.which(tool) is None]
    if missing:
        return (f"{', '.join(missing)} not found: pkg manages packages with apt and dpkg "
                "(Debian and its derivatives)")
    return None


class PkgError(Exception):
    """A bad argument or a failed command, as one line for the user."""


@dataclasses.dataclass(frozen=True)
class Record:
    """One line of dpkg's database: a package and its selection and state."""

    name: str
    version: str
    arch: str
    want: str  # install, hold, deinstall, purge
    state: str  # installed, config-files, half-installed, ...


# --- reading the dpkg database -------------------------------------------------------------


def parse_query(output: str, native_arch: str) -> list[Record]:
    """Parse `dpkg-query --show` output written with QUERY_FORMAT."""
    records = []
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) != 4:
            continue
        name, version, arch, status = fields
        words = status.split()
        if len(words) != 3:
            continue
        if arch not in (native_arch, "all", ""):
            name = f"{name}:{arch}"
        records.append(Record(name, version, arch, words[0], words[2]))
    return records


def _records(ctx: Context) -> list[Record]:
    arch = ctx.run(NATIVE_ARCH, env=ENV)
    if arch.retcode != 0:
        raise PkgError(f"dpkg --print-architecture failed: {_error_line(arch)}")
    result = ctx.run(QUERY, env=ENV)
    if result.retcode != 0:
        raise PkgError(f"dpkg-query failed: {_error_line(result)}")
    return parse_query(result.stdout, arch.stdout.strip())


def _installed(ctx: Context) -> dict[str, str]:
    return {r.name: r.version for r in _records(ctx) if r.state == "installed"}


def _config_only(ctx: Context) -> dict[str, str]:
    return {r.name: r.version for r in _records(ctx) if r.state == "config-files"}


def compare(old: Mapping[str, str], new: Mapping[str, str]) -> Changes:
    """Salt's changes: ``{name: {"old": v, "new": v}}`` for every version that moved."""
    changes: Changes = {}
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name, ""), new.get(name, "")
        if before != after:
            changes[name] = {"old": before, "new": after}
    return changes


# --- arguments ---------------------------------------------------------------------------


def _check_name(name: Any) -> str:
    text = str(name)
    if not _NAME.match(text):
        raise PkgError(f"invalid package name {text!r}")
    return text


def _check_version(name: str, version: Any) -> str:
    text = str(version).strip()
    if text.startswith("=") and not text.startswith("=="):
        text = text[1:]
    if text[:1] in ("<", ">", "!") or text.startswith("=="):
        raise PkgError(f"{name}: version comparisons ({text!r}) are not supported; "
                       "give an exact version, e.g. 1.2-1 or 1.2*")
    if not _VERSION.match(text):
        raise PkgError(f"{name}: invalid version {text!r}")
    return text


def _targets(name: str | None, pkgs: Any, version: Any = None) -> dict[str, str | None]:
    """``{name: version or None}`` from Salt's `name`/`version`/`pkgs` arguments."""
    wanted: dict[str, str | None] = {}
    if pkgs is not None:
        if isinstance(pkgs, str | Mapping) or not isinstance(pkgs, Sequence):
            raise PkgError("pkgs: expected a list, e.g. [nginx, {curl: 7.88.1-10}]")
        for item in pkgs:
            if isinstance(item, Mapping):
                for key, ver in item.items():
                    pkg = _check_name(key)
                    wanted[pkg] = None if ver in (None, "") else _check_version(pkg, ver)
            else:
                wanted[_check_name(item)] = None
    elif name:
        pkg = _check_name(name)
        wanted[pkg] = None if version in (None, "") else _check_version(pkg, version)
    if not wanted:
        raise PkgError("no package given: pass a name or pkgs")
    return wanted


def _sources(sources: Any) -> dict[str, str]:
    """``{name: absolute path}`` from Salt's ``sources: [{name: /path/file.deb}]``."""
    if isinstance(sources, str | Mapping) or not isinstance(sources, Sequence):
        raise PkgError("sources: expected a list like [{name: /path/to/file.deb}]")
    found: dict[str, str] = {}
    for item in sources:
        if not isinstance(item, Mapping) or len(item) != 1:
            raise PkgError(f"sources: expected one {{name: path}} per entry, got {item!r}")
        (key, path), = item.items()
        text = str(path)
        if "://" in text:
            raise PkgError(f"sources: {key}: only local .deb files are supported, not {text}")
        full = os.path.abspath(text)
        if not os.path.isfile(full):
            raise PkgError(f"sources: {key}: no such file {full}")
        found[_check_name(key)] = full
    if not found:
        raise PkgError("sources: no package given")
    return found


# --- running commands --------------------------------------------------------------------


def _error_line(result: CommandResult) -> str:
    """The line of a failed command's output a user wants to read first."""
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines()]
    lines = [line for line in lines if line]
    for prefix in ("E: ", "dpkg: error", "dpkg: "):
        for line in lines:
            if line.startswith(prefix):
                return line
    if result.stderr.strip():
        return result.stderr.strip().splitlines()[-1]
    return f"exit code {result.retcode}"


def _fail(ctx: Context, fun: str, message: str) -> str:
    ctx.retcode = 1
    return f"ERROR: pkg.{fun}: {message}"


def _apt_get(ctx: Context, *args: str) -> CommandResult:
    return ctx.run([*APT_GET, *args], env=ENV)


def _change_packages(ctx: Context, fun: str, args: list[str],
                     extra: Mapping[str, str] | None = None) -> Changes | str:
    """Run apt-get `args`, return the changes, or fail naming the first error."""
    old = _installed(ctx)
    old.update(extra or {})
    result = _apt_get(ctx, *args)
    changes = compare(old, _installed(ctx))
    if result.retcode != 0:
        message = _error_line(result)
        if changes:
            message += f" (changed anyway: {', '.join(changes)})"
        return _fail(ctx, fun, message)
    return changes


def _one_or_many(names: Sequence[str], values: Mapping[str, str]) -> str | dict[str, str]:
    if len(names) == 1:
        return values.get(names[0], "")
    return {name: values.get(name, "") for name in names}


# --- public functions --------------------------------------------------------------------


def version(ctx: Context, *names: str) -> str | dict[str, str]:
    """Return the installed version of one package, or a dict for several.

    A package that is not installed has the version ''.

    names
        Package names.

    CLI Example:

        master run '*' pkg.version nginx openssl
    """
    if not names:
        return _fail(ctx, "version", "no package given")
    try:
        return _one_or_many([_check_name(n) for n in names], _installed(ctx))
    except PkgError as exc:
        return _fail(ctx, "version", str(exc))


def list_pkgs(
    ctx: Context, versions_as_list: bool = False, removed: bool = False, **kwargs: Any
) -> dict[str, Any] | str:
    """List the installed packages as ``{name: version}``.

    Packages of a foreign architecture are named ``name:arch``.

    versions_as_list
        Give each version as a one-item list, as Salt does with this option.
    removed
        List instead the packages removed but not purged (config files left).

    CLI Example:

        master run '*' pkg.list_pkgs
    """
    try:
        found = _config_only(ctx) if removed else _installed(ctx)
    except PkgError as exc:
        return _fail(ctx, "list_pkgs", str(exc))
    if versions_as_list:
        return {name: [ver] for name, ver in sorted(found.items())}
    return dict(sorted(found.items()))


def install(
    ctx: Context,
    name: str | None = None,
    pkgs: list[Any] | None = None,
    version: str | None = None,
    sources: list[Any] | None = None,
    refresh: bool = False,
    fromrepo: str | None = None,
    install_recommends: bool = True,
    **kwargs: Any,
) -> Changes | str:
    """Install packages with apt-get and return what changed.

    name
        The package to install (ignored when pkgs or sources is given).
    pkgs
        A list of packages, each a name or ``{name: version}``.
    version
        The exact version of `name` to install (apt globs like ``1.2*`` work).
    sources
        Local .deb files: ``[{name: /path/to/file.deb}]``; their dependencies
        come from the configured repositories.
    refresh
        Run apt-get update first.
    fromrepo
        Install from this release (apt-get -t).
    install_recommends
        False adds --no-install-recommends.

    CLI Example:

        master run '*' pkg.install nginx
        master run '*' pkg.install pkgs='[curl, {nginx: 1.22.1-9}]'
        master run '*' pkg.install sources='[{hello: /tmp/hello_1.0_all.deb}]'
    """
    try:
        options = [] if install_recommends else ["--no-install-recommends"]
        if sources is not None:
            if pkgs is not None:
                raise PkgError("give pkgs or sources, not both")
            args = list(_sources(sources).values())
        else:
            wanted = _targets(name, pkgs, version)
            args = [pkg if ver is None else f"{pkg}={ver}" for pkg, ver in wanted.items()]
            if any(ver is not None for ver in wanted.values()):
                options.append("--allow-downgrades")  # a pinned version may be older
        if fromrepo:
            options += ["-t", str(fromrepo)]
        if refresh:
            _update(ctx)
        return _change_packages(ctx, "install", [*options, "install", *args])
    except PkgError as exc:
        return _fail(ctx, "install", str(exc))


def _uninstall(ctx: Context, action: str, name: str | None, pkgs: list[Any] | None
               ) -> Changes | str:
    """Remove or purge the wanted packages that are there; {} when none is."""
    try:
        wanted = _targets(name, pkgs)
        records = {r.name: r for r in _records(ctx)}
        # remove: installed (or half-installed) packages; purge: also those
        # left with config files only, whose purge is a change too.
        skip = {"not-installed", "config-files"} if action == "remove" else {"not-installed"}
        targets = [pkg for pkg in wanted if pkg in records and records[pkg].state not in skip]
        if not targets:
            return {}
        leftovers = {pkg: records[pkg].version for pkg in targets
                     if records[pkg].state != "installed"}
        return _change_packages(ctx, action, [action, *targets], leftovers)
    except PkgError as exc:
        return _fail(ctx, action, str(exc))


def remove(ctx: Context, name: str | None = None, pkgs: list[Any] | None = None,
           **kwargs: Any) -> Changes | str:
    """Remove packages, keeping their config files, and return what changed.

    Packages that are not installed are skipped; nothing to do returns {}.

    name
        The package to remove (ignored when pkgs is given).
    pkgs
        A list of package names.

    CLI Example:

        master run '*' pkg.remove nginx
    """
    return _uninstall(ctx, "remove", name, pkgs)


def purge(ctx: Context, name: str | None = None, pkgs: list[Any] | None = None,
          **kwargs: Any) -> Changes | str:
    """Remove packages and their config files, and return what changed.

    A package already removed but with config files left shows its old
    version going to ''.

    name
        The package to purge (ignored when pkgs is given).
    pkgs
        A list of package names.

    CLI Example:

        master run '*' pkg.purge nginx
    """
    return _uninstall(ctx, "purge", name, pkgs)


def parse_update(output: str) -> dict[str, bool | None]:
    """Salt's refresh_db answer from apt-get update: True fetched, None unchanged, False failed."""
    repos: dict[str, bool | None] = {}
    for line in output.splitlines():
        cols = line.split()
        if len(cols) < 2:
            continue
        ident = " ".join(cols[1:])
        if cols[0].startswith("Get:"):
            repos[re.sub(r" \[[^]]+B\]$", "", ident)] = True
        elif cols[0].startswith("Hit:"):
            repos[ident] = None
        elif cols[0].startswith(("Ign:", "Err:")):
            repos[ident] = False
    return repos


# Salt's "refresh tag": pkg states write it at the first pkg.installed/latest of a
# state run; while it exists, pkg states with refresh unset refresh the lists.
# Any apt-get update removes it, so a run refreshes at most once by default.
RTAG = "pkg_refresh"


def rtag_path(opts: Mapping[str, Any]) -> Path | None:
    """Where the refresh tag lives (the minion's cachedir), None without one."""
    cachedir = opts.get("cachedir")
    return Path(cachedir, RTAG) if cachedir else None


def write_rtag(opts: Mapping[str, Any]) -> None:
    """Ask the next pkg state with refresh unset to refresh the package lists."""
    path = rtag_path(opts)
    if path is not None and not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        except OSError:
            pass  # no refresh then, as in Salt (it only logs a warning)


def check_refresh(opts: Mapping[str, Any], refresh: Any) -> bool:
    """Salt's rule: refresh when asked, or when unset (None) and the tag exists."""
    if refresh is None:
        path = rtag_path(opts)
        return path is not None and path.is_file()
    return _true(refresh)


def _true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


def _update(ctx: Context, failhard: bool = False) -> dict[str, bool | None]:
    path = rtag_path(ctx.opts)
    if path is not None:
        path.unlink(missing_ok=True)
    result = _apt_get(ctx, "update")
    if result.retcode != 0:
        raise PkgError(f"apt-get update failed: {_error_line(result)}")
    errors = [line.strip() for line in result.stdout.splitlines() if line.startswith("Err:")]
    if failhard and errors:
        raise PkgError(f"apt-get update failed: {errors[0]}")
    return parse_update(result.stdout)


def refresh_db(ctx: Context, failhard: bool = False, **kwargs: Any) -> dict[str, Any] | str:
    """Update the package lists (apt-get update).

    Returns ``{repository: True}`` for lists fetched, None for lists unchanged,
    False for lists that failed.

    failhard
        Fail the job when any repository failed, not only when apt-get does.

    CLI Example:

        master run '*' pkg.refresh_db
    """
    try:
        return _update(ctx, failhard)
    except PkgError as exc:
        return _fail(ctx, "refresh_db", str(exc))


def parse_policy(output: str) -> dict[str, tuple[str, str]]:
    """``{name: (installed, candidate)}`` from `apt-cache policy`, '' for (none)."""
    found: dict[str, tuple[str, str]] = {}
    current = ""
    for line in output.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            current = line[:-1]
            found[current] = ("", "")
            continue
        key, _, value = line.strip().partition(": ")
        value = "" if value == "(none)" else value.strip()
        if current and key == "Installed":
            found[current] = (value, found[current][1])
        elif current and key == "Candidate":
            found[current] = (found[current][0], value)
    return found


def latest_version(ctx: Context, *names: str, refresh: bool = False,
                   **kwargs: Any) -> str | dict[str, str]:
    """Return the version apt would install, '' if it is installed already.

    One name gives a string, several a dict. Unknown packages give ''.

    names
        Package names.
    refresh
        Run apt-get update first (default False: use the current lists).

    CLI Example:

        master run '*' pkg.latest_version nginx
    """
    try:
        checked = [_check_name(n) for n in names]
        if not checked:
            raise PkgError("no package given")
        if refresh:
            _update(ctx)
    except PkgError as exc:
        return _fail(ctx, "latest_version", str(exc))
    result = ctx.run(["apt-cache", "-q", "policy", *checked], env=ENV)
    if result.retcode != 0:
        return _fail(ctx, "latest_version", _error_line(result))
    policy = parse_policy(result.stdout)
    latest = {name: cand for name, (inst, cand) in policy.items() if cand and cand != inst}
    return _one_or_many(checked, latest)


def available_version(ctx: Context, *names: str, refresh: bool = False,
                      **kwargs: Any) -> str | dict[str, str]:
    """Return the version apt would install, '' if installed (pkg.latest_version).

    CLI Example:

        master run '*' pkg.available_version nginx
    """
    return latest_version(ctx, *names, refresh=refresh)


def parse_simulation(output: str) -> dict[str, str]:
    """``{name: new version}`` from the ``Inst`` lines of ``apt-get --simulate``."""
    found = {}
    for line in output.splitlines():
        match = _INST.match(line)
        if match:
            found[match.group(1)] = match.group(3)
    return found


def list_upgrades(ctx: Context, refresh: bool = False, dist_upgrade: bool = True,
                  **kwargs: Any) -> dict[str, str] | str:
    """List the packages an upgrade would change, as ``{name: new version}``.

    refresh
        Run apt-get update first (default False: use the current lists).
    dist_upgrade
        Simulate dist-upgrade (may add or remove packages) rather than upgrade.

    CLI Example:

        master run '*' pkg.list_upgrades
    """
    try:
        if refresh:
            _update(ctx)
    except PkgError as exc:
        return _fail(ctx, "list_upgrades", str(exc))
    action = "dist-upgrade" if dist_upgrade else "upgrade"
    result = ctx.run(["apt-get", "-q", "--simulate", action], env=ENV)
    if result.retcode != 0:
        return _fail(ctx, "list_upgrades", _error_line(result))
    return parse_simulation(result.stdout)


def upgrade(ctx: Context, refresh: bool = False, dist_upgrade: bool = False,
            **kwargs: Any) -> Changes | str:
    """Upgrade every package that can be, and return what changed.

    refresh
        Run apt-get update first.
    dist_upgrade
        Run dist-upgrade (may add or remove packages) instead of upgrade.

    CLI Example:

        master run '*' pkg.upgrade refresh=true
    """
    action = "dist-upgrade" if dist_upgrade else "upgrade"
    try:
        if refresh:
            _update(ctx)
        return _change_packages(ctx, "upgrade", [action])
    except PkgError as exc:
        return _fail(ctx, "upgrade", str(exc))


def _set_selection(ctx: Context, fun: str, name: str | None, pkgs: list[Any] | None,
                   to: str) -> dict[str, Any] | str:
    """Mark packages `to` (hold or install) with dpkg --set-selections."""
    try:
        wanted = list(_targets(name, pkgs))
        records = {r.name: r for r in _records(ctx)}
    except PkgError as exc:
        return _fail(ctx, fun, str(exc))
    held = to == "hold"
    ret: dict[str, Any] = {}
    change = []
    for pkg in wanted:
        record = records.get(pkg)
        entry: dict[str, Any] = {"name": pkg, "changes": {}, "result": True}
        if record is None or record.state == "not-installed":
            entry.update(result=False, comment=f"Package {pkg} is not installed.")
            ctx.retcode = 1
        elif (record.want == "hold") == held:
            entry["comment"] = (f"Package {pkg} is already set to be held." if held
                                else f"Package {pkg} is already set not to be held.")
        else:
            change.append(pkg)
            entry["changes"] = {"old": record.want, "new": to}
            entry["comment"] = (f"Package {pkg} is now being held." if held
                                else f"Package {pkg} is no longer being held.")
        ret[pkg] = entry
    if change:
        lines = "".join(f"{pkg} {to}\n" for pkg in change)
        result = ctx.run(["dpkg", "--set-selections"], stdin=lines, env=ENV)
        if result.retcode != 0:
            return _fail(ctx, fun, _error_line(result))
    return ret


def hold(ctx: Context, name: str | None = None, pkgs: list[Any] | None = None,
         **kwargs: Any) -> dict[str, Any] | str:
    """Hold packages at their installed version (dpkg selection ``hold``).

    Returns, per package, Salt's ``{name, changes, result, comment}``.

    name
        The package to hold (ignored when pkgs is given).
    pkgs
        A list of package names.

    CLI Example:

        master run '*' pkg.hold nginx
    """
    return _set_selection(ctx, "hold", name, pkgs, "hold")


def unhold(ctx: Context, name: str | None = None, pkgs: list[Any] | None = None,
           **kwargs: Any) -> dict[str, Any] | str:
    """Let held packages be upgraded again (dpkg selection ``install``).

    Returns, per package, Salt's ``{name, changes, result, comment}``.

    name
        The package to release (ignored when pkgs is given).
    pkgs
        A list of package names.

    CLI Example:

        master run '*' pkg.unhold nginx
    """
    return _set_selection(ctx, "unhold", name, pkgs, "install")
