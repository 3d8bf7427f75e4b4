"""Keep Python packages installed or removed with a target Python's pip, like Salt's ``pip``.

.. code-block:: yaml

    requests:
      pip.installed:
        - name: requests >= 2.31, < 3
        - bin_env: /opt/app/venv

Installed versions come from ``pip list``; a package whose installed version
satisfies its specifiers is left alone (unless ``upgrade``, which always asks
pip, or ``force_reinstall``). Changes are keyed ``name==version`` as in Salt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["installed", "removed"]

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*\(?([^;)]*)\)?\s*(;.*)?$")
_SPEC = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*([A-Za-z0-9.*+!_-]+)\s*$")
_VERSION = re.compile(r"^(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)"
                      r"[-_.]?(\d*))?(?:[-_.]?(?:post|rev|r)[-_.]?(\d*))?(?:[-_.]?dev[-_.]?(\d*))?"
                      r"(?:\+.*)?$", re.IGNORECASE)
VCS = ("git+", "svn+", "hg+", "bzr+")


# --- pure: requirements and versions ----------------------------------------------------------


def parse_requirement(pkg: str) -> tuple[str, list[tuple[str, str]]] | str:
    """``(prefix, [(op, version)])`` for a requirement; ``("", [])`` for a URL/VCS; or an error."""
    if pkg.startswith(VCS) or "://" in pkg or pkg.startswith(("/", ".")):
        return "", []
    match = _REQ.match(pkg)
    if not match:
        if "=" in pkg and "==" not in pkg:
            return (f"Invalid version specification in package {pkg}. '=' is not supported, "
                    "use '==' instead.")
        return f"pip raised an exception while parsing '{pkg}': invalid requirement"
    specs = []
    for part in (p for p in match.group(3).split(",") if p.strip()):
        spec = _SPEC.match(part)
        if not spec:
            if "=" in part and "==" not in part and not re.search(r"[<>!~]=", part):
                return (f"Invalid version specification in package {pkg}. '=' is not "
                        "supported, use '==' instead.")
            return f"pip raised an exception while parsing '{pkg}': bad specifier {part!r}"
        specs.append((spec.group(1), spec.group(2)))
    return re.sub(r"[^A-Za-z0-9.]+", "-", match.group(1)), specs


def version_key(text: str) -> tuple[Any, ...]:
    """A sort key for a PEP 440 version (release, pre, post, dev); unparseable sorts first."""
    m = _VERSION.match(text.strip().lstrip("vV"))
    if not m:
        return (-1, (), (0,), (), (0,))
    epoch, release, pre_l, pre_n, post, dev = m.groups()
    nums = [int(x) for x in release.split(".")]
    while len(nums) > 1 and nums[-1] == 0:
        nums.pop()
    rank = {"a": 0, "alpha": 0, "b": 1, "beta": 1}.get((pre_l or "").lower(), 2)
    pre = (rank, int(pre_n or 0)) if pre_l else ((3, 0) if dev is None or post else (-1, 0))
    post_k = (int(post or 0),) if post is not None else (-1,)
    dev_k = (int(dev or 0),) if dev is not None else (1 << 30,)
    return (int(epoch or 0), tuple(nums), pre, post_k, dev_k)


def _release(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", text.split("+")[0])]


def fulfills(version: str, specs: Sequence[tuple[str, str]]) -> bool:
    """Whether `version` satisfies every ``(op, version)`` specifier."""
    have = version_key(version)
    for op, want in specs:
        if op == "===":
            ok = version == want
        elif want.endswith(".*") and op in ("==", "!="):
            prefix = _release(want[:-2])
            ok = _release(version)[:len(prefix)] == prefix
            ok = ok if op == "==" else not ok
        elif op == "~=":
            parts = _release(want)
            ok = have >= version_key(want) and _release(version)[:len(parts) - 1] == parts[:-1]
        else:
            other = version_key(want)
            ok = {"==": have == other, "!=": have != other, "<=": have <= other,
                  ">=": have >= other, "<": have < other, ">": have > other}[op]
        if not ok:
            return False
    return True


# --- the states -------------------------------------------------------------------------------


def _lookup(pip_list: dict[str, str], prefix: str) -> str | None:
    low = prefix.lower()
    return next((v for k, v in pip_list.items() if k.lower() == low), None)


def _wanted(pkgs: list[str]) -> tuple[list[tuple[str, str, list[tuple[str, str]]]], list[str]]:
    details, errors = [], []
    for pkg in pkgs:
        parsed = parse_requirement(pkg)
        if isinstance(parsed, str):
            errors.append(parsed)
        else:
            details.append((parsed[0], pkg, parsed[1]))
    return details, errors


def installed(
    ctx: Context,
    name: str,
    pkgs: list[Any] | None = None,
    requirements: str | None = None,
    bin_env: str | None = None,
    pip_bin: str | None = None,
    upgrade: bool = False,
    force_reinstall: bool = False,
    ignore_installed: bool = False,
    user: str | None = None,
    cwd: str | None = None,
    env_vars: dict[str, Any] | None = None,
    index_url: str | None = None,
    extra_index_url: str | None = None,
    no_index: bool = False,
    find_links: str | list[str] | None = None,
    no_deps: bool = False,
    pre_releases: bool = False,
    no_cache_dir: bool = False,
    extra_args: list[Any] | None = None,
    target: str | None = None,
    proxy: str | None = None,
    timeout: int | None = None,
    trusted_host: str | None = None,
) -> dict[str, Any]:
    """Make sure Python packages are installed with a target Python's pip.

    name
        A requirement (``requests``, ``requests==2.31.0``, ``requests>=2,<3``).
    pkgs
        Several requirements (then `name` only names the state).
    requirements
        A requirements file (always handed to pip; not checked beforehand).
    bin_env
        A virtualenv directory, a python or a pip executable (default: the
        minion's Python).
    upgrade, force_reinstall, ignore_installed
        As pip's flags; ``upgrade`` always runs pip.
    user, cwd, env_vars
        Run pip as this user, in this directory, with these environment variables.
    index_url, extra_index_url, no_index, find_links, no_deps, pre_releases,
    no_cache_dir, extra_args, target, proxy, timeout, trusted_host
        Passed on to ``pip install``.

    CLI Example:

        minion call --local state.single pip.installed requests==2.31.0 bin_env=/opt/venv
    """
    bin_env = bin_env or pip_bin
    if pkgs is not None and not isinstance(pkgs, list):
        return result.fail(result.new(name), "pkgs argument must be formatted as a list")
    wanted = [p if isinstance(p, str) else " ".join(map(str, next(iter(p.items()))))
              for p in (pkgs or [name])]
    ret = {**result.new(";".join(wanted)), "result": None}
    try:
        ctx.call("pip.version", bin_env)
    except Exception as exc:
        return result.fail(ret, f"Error installing '{name}': {exc}")
    if user and not ctx.call("user.info", user):
        return result.fail(ret, f"User {user} does not exist")
    options = {"upgrade": upgrade, "force_reinstall": force_reinstall,
               "ignore_installed": ignore_installed, "index_url": index_url,
               "extra_index_url": extra_index_url, "no_index": no_index,
               "find_links": find_links, "no_deps": no_deps, "pre_releases": pre_releases,
               "no_cache_dir": no_cache_dir, "extra_args": extra_args, "target": target,
               "proxy": proxy, "timeout": timeout, "trusted_host": trusted_host}
    if requirements:
        if ctx.test:
            return result.done(ret, f"Requirements file '{requirements}' will be processed.",
                               None)
        return _install_requirements(ctx, ret, requirements, bin_env, user, cwd, env_vars,
                                     options)
    details, errors = _wanted(wanted)
    if errors:
        return result.fail(ret, "\n".join(errors))
    try:
        pip_list = ctx.call("pip.list", bin_env=bin_env, user=user, cwd=cwd, env_vars=env_vars)
    except Exception:
        pip_list = {}
    targets, already = [], []
    for prefix, pkg, specs in details:
        have = _lookup(pip_list, prefix) if prefix and not ignore_installed else None
        if (have is not None and not force_reinstall and not upgrade
                and fulfills(have, specs)):
            already.append(f"Python package {pkg} was already installed")
            continue
        targets.append((prefix, pkg))
        if ctx.test:
            msg = (f"Python package {pkg} is set to be installed" if len(details) == 1 else
                   "Python package(s) set to be installed:" + "".join(
                       "\n" + d[1] for d in details))
            return result.done(ret, msg, None)
    if not targets:
        last = "All specified packages are already installed" + (
            " and up-to-date" if upgrade else "")
        return result.done(ret, "\n".join([*already, last]))
    out = ctx.call("pip.install", pkgs=[pkg for _, pkg in targets], bin_env=bin_env, user=user,
                   cwd=cwd, env_vars=env_vars, **options)
    lead = "".join(f"{line}\n" for line in already)
    if out.get("retcode", 1) != 0:
        names = ", ".join(pkg for _, pkg in targets)
        return result.fail(ret, f"{lead}Failed to install packages: {names}. Error: "
                                f"{out.get('stdout', '')} {out.get('stderr', '')}")
    kept = _already_satisfied(ctx, out.get("stdout", ""))
    missing = []
    for prefix, pkg in targets:
        if not prefix:
            ret["changes"][f"{pkg}==???"] = "Installed"
            continue
        found = ctx.call("pip.list", prefix, bin_env, user=user, cwd=cwd, env_vars=env_vars)
        version = _lookup(found, prefix)
        if not found:
            missing.append(f"There was no error installing package '{pkg}' although it does "
                           "not show when calling 'pip.freeze'.")
        elif version is not None and ctx.call("pip.normalize", prefix) not in kept:
            ret["changes"][f"{prefix}=={version}"] = "Installed"
    tail = "\n".join(missing) if missing else "All packages were successfully installed"
    return result.done(ret, lead + tail)


def _already_satisfied(ctx: Context, stdout: str) -> set[str]:
    kept = set()
    for line in stdout.splitlines():
        if line.startswith(("Requirement already satisfied: ",
                            "Requirement already up-to-date: ")):
            word = line.split(":", 1)[1].split()[0]
            kept.add(ctx.call("pip.normalize", re.split(r"[=!<>~@]", word)[0]))
    return kept


def _install_requirements(ctx: Context, ret: dict[str, Any], requirements: str,
                          bin_env: str | None, user: str | None, cwd: str | None,
                          env_vars: dict[str, Any] | None,
                          options: dict[str, Any]) -> dict[str, Any]:
    out = ctx.call("pip.install", requirements=requirements, bin_env=bin_env, user=user,
                   cwd=cwd, env_vars=env_vars, **options)
    if out.get("retcode", 1) != 0:
        return result.fail(ret, f'Unable to process requirements file "{requirements}" '
                                f"Error: {out.get('stdout', '')} {out.get('stderr', '')}")
    quiet = ("Requirement already satisfied", "Requirement already up-to-date",
             "Requirement not upgraded", "Collecting", "Cloning", "Cleaning up...",
             "Looking in indexes")
    if any(not line.strip().startswith(quiet) for line in out.get("stdout", "").split("\n")):
        ret["changes"]["requirements"] = True
        return result.done(ret, f"Successfully processed requirements file {requirements}.")
    return result.done(ret, "Requirements were already installed.")


def removed(ctx: Context, name: str, requirements: str | None = None,
            bin_env: str | None = None, user: str | None = None,
            cwd: str | None = None) -> dict[str, Any]:
    """Make sure a Python package is not installed.

    name
        The package (as ``pip list`` names it).
    bin_env
        A virtualenv directory, a python or a pip executable.

    CLI Example:

        minion call --local state.single pip.removed requests bin_env=/opt/venv
    """
    ret = {**result.new(name), "result": None}
    try:
        pip_list = ctx.call("pip.list", bin_env=bin_env, user=user, cwd=cwd)
    except Exception as exc:
        return result.fail(ret, f"Error uninstalling '{name}': {exc}")
    if name not in pip_list:
        return result.done(ret, "Package is not installed.")
    if ctx.test:
        return result.done(ret, f"Package {name} is set to be removed", None)
    if ctx.call("pip.uninstall", pkgs=name, requirements=requirements, bin_env=bin_env,
                user=user, cwd=cwd):
        ret["changes"][name] = "Removed"
        return result.done(ret, "Package was successfully removed.")
    return result.fail(ret, "Could not remove package.")
