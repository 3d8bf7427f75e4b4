"""Install and list Python packages with a target Python's pip, like Salt's ``pip`` module.

``bin_env`` picks the pip: a virtualenv directory (its ``bin/python -m pip``),
a ``python`` executable (``-m pip``), or a ``pip`` executable. Without it,
the minion's own Python is used, as Salt uses its own.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from minion.context import Context

__all__ = ["freeze", "install", "list_", "normalize", "uninstall", "version"]

_PIP_VERSION = re.compile(r"pip (\S+)")


class PipError(Exception):
    """pip could not be found or run (one clear line)."""


def pip_argv(bin_env: str | None) -> list[str]:
    """The command that runs the chosen pip."""
    if not bin_env:
        return [os.path.normpath(sys.executable), "-m", "pip"]
    if os.path.isdir(bin_env):
        for cand in (os.path.join(bin_env, "python"), os.path.join(bin_env, "bin", "python")):
            if os.path.isfile(cand) and os.access(cand, os.X_OK):
                return [os.path.normpath(cand), "-m", "pip"]
        raise PipError(f"Could not find a pip binary in virtualenv {bin_env}")
    if os.path.isfile(bin_env) and os.access(bin_env, os.X_OK):
        if os.path.basename(bin_env).startswith("python"):
            return [bin_env, "-m", "pip"]
        return [bin_env]
    raise PipError(f"Access denied to {bin_env}, could not find a pip binary")


def _env(bin_env: str | None, env_vars: Mapping[str, Any] | None) -> dict[str, str]:
    env = {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if bin_env and os.path.isdir(bin_env):
        env["VIRTUAL_ENV"] = bin_env
    env.update({str(k): str(v) for k, v in (env_vars or {}).items()})
    return env


def _run(ctx: Context, bin_env: str | None, args: list[str], user: str | None = None,
         cwd: str | None = None, env_vars: Mapping[str, Any] | None = None) -> dict[str, Any]:
    res = ctx.run([*pip_argv(bin_env), *args], cwd=cwd, runas=user,
                  env=_env(bin_env, env_vars))
    return {"pid": res.pid, "retcode": res.retcode, "stdout": res.stdout.rstrip("\n"),
            "stderr": res.stderr.rstrip("\n")}


def normalize(ctx: Context, name: str) -> str:
    """Return a package name in PEP 503 normal form (``Foo_Bar`` -> ``foo-bar``).

    CLI Example:

        master run '*' pip.normalize Foo_Bar
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def version(ctx: Context, bin_env: str | None = None, cwd: str | None = None,
            user: str | None = None) -> str:
    """Return the version of the chosen pip.

    bin_env
        A virtualenv, python or pip path (default: the minion's Python).

    CLI Example:

        master run '*' pip.version bin_env=/opt/venv
    """
    out = _run(ctx, bin_env, ["--version"], user=user, cwd=cwd)
    match = _PIP_VERSION.match(out["stdout"])
    if out["retcode"] or not match:
        raise PipError(f"Could not run pip: {out['stderr'] or out['stdout']}".strip())
    return match.group(1)


def list_(ctx: Context, prefix: str | None = None, bin_env: str | None = None,
          user: str | None = None, cwd: str | None = None,
          env_vars: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Return the installed packages as ``{name: version}``.

    prefix
        Only names starting with this (case-insensitive).
    bin_env
        A virtualenv, python or pip path.

    CLI Example:

        master run '*' pip.list bin_env=/opt/venv
    """
    out = _run(ctx, bin_env, ["list", "--format=json", "--disable-pip-version-check"],
               user=user, cwd=cwd, env_vars=env_vars)
    if out["retcode"]:
        raise PipError(out["stderr"] or f"pip list failed ({out['retcode']})")
    try:
        pkgs = json.loads(out["stdout"])
    except ValueError:
        raise PipError("Invalid JSON from pip list") from None
    low = (prefix or "").lower()
    return {p["name"]: p["version"] for p in pkgs if p["name"].lower().startswith(low)}


def freeze(ctx: Context, bin_env: str | None = None, user: str | None = None,
           cwd: str | None = None, env_vars: Mapping[str, Any] | None = None) -> list[str]:
    """Return ``pip freeze`` lines (``name==version``), pip, setuptools and wheel included.

    CLI Example:

        master run '*' pip.freeze bin_env=/opt/venv
    """
    out = _run(ctx, bin_env, ["freeze", "--all"], user=user, cwd=cwd, env_vars=env_vars)
    if out["retcode"]:
        raise PipError(out["stderr"] or f"pip freeze failed ({out['retcode']})")
    return [line for line in out["stdout"].splitlines() if line.strip()]


def _words(value: str | Sequence[str] | None) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [w.strip() for w in value.split(",") if w.strip()]
    return [str(w) for w in value]


def _install_args(kwargs: Mapping[str, Any]) -> list[str]:
    args: list[str] = []
    flags = {"upgrade": "--upgrade", "force_reinstall": "--force-reinstall",
             "ignore_installed": "--ignore-installed", "no_index": "--no-index",
             "no_deps": "--no-deps", "pre_releases": "--pre", "no_cache_dir": "--no-cache-dir"}
    for key, flag in flags.items():
        if kwargs.get(key):
            args.append(flag)
    for key, flag in (("index_url", "--index-url"), ("extra_index_url", "--extra-index-url"),
                      ("find_links", "--find-links"), ("target", "--target"),
                      ("trusted_host", "--trusted-host"), ("proxy", "--proxy"),
                      ("timeout", "--timeout")):
        for value in _words(kwargs.get(key)) if key == "find_links" else (
                [kwargs[key]] if kwargs.get(key) else []):
            args += [flag, str(value)]
    for req in _words(kwargs.get("requirements")):
        args += ["--requirement", req]
    extra = kwargs.get("extra_args") or []
    for item in extra:
        if isinstance(item, Mapping):
            for key, value in item.items():
                args += [str(key)] + ([] if value is None else [str(value)])
        else:
            args.append(str(item))
    return args


def install(ctx: Context, pkgs: str | Sequence[str] | None = None,
            requirements: str | Sequence[str] | None = None, bin_env: str | None = None,
            user: str | None = None, cwd: str | None = None,
            env_vars: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """Install packages with pip; return ``{retcode, stdout, stderr, pid}``.

    pkgs
        Requirement strings (a list, or comma separated), e.g. ``requests==2.31.0``.
    requirements
        Requirement files.
    bin_env
        A virtualenv, python or pip path.
    upgrade, force_reinstall, ignore_installed, no_index, no_deps, pre_releases, no_cache_dir
        pip's flags of the same names.
    index_url, extra_index_url, find_links, target, trusted_host, proxy, timeout
        pip's options of the same names.
    extra_args
        More arguments: a list of strings or ``{option: value}``.

    CLI Example:

        master run '*' pip.install requests==2.31.0 bin_env=/opt/venv
    """
    names = _words(pkgs)
    if not names and not _words(requirements):
        raise PipError("No packages or requirements given to install")
    args = ["install", *_install_args({**kwargs, "requirements": requirements}), *names]
    out = _run(ctx, bin_env, args, user=user, cwd=cwd, env_vars=env_vars)
    if out["retcode"]:
        ctx.retcode = out["retcode"]
    return out


def uninstall(ctx: Context, pkgs: str | Sequence[str] | None = None,
              requirements: str | Sequence[str] | None = None, bin_env: str | None = None,
              user: str | None = None, cwd: str | None = None,
              env_vars: Mapping[str, Any] | None = None) -> bool:
    """Uninstall packages with pip; True when pip succeeded.

    pkgs
        Package names (a list, or comma separated).
    requirements
        Requirement files naming what to remove.
    bin_env
        A virtualenv, python or pip path.

    CLI Example:

        master run '*' pip.uninstall requests bin_env=/opt/venv
    """
    args = ["uninstall", "--yes"]
    for req in _words(requirements):
        args += ["--requirement", req]
    out = _run(ctx, bin_env, [*args, *_words(pkgs)], user=user, cwd=cwd, env_vars=env_vars)
    if out["retcode"]:
        ctx.retcode = out["retcode"]
        return False
    return True
