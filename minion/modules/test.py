"""Functions for checking that a minion answers and how it handles arguments."""

from __future__ import annotations

import os
import platform
import secrets
import string
import time
from typing import Any

from common.version import __version__
from minion.context import Context

__all__ = [
    "arg",
    "echo",
    "exception",
    "false_",
    "fib",
    "kwarg",
    "outputter",
    "ping",
    "provider",
    "rand_str",
    "retcode",
    "sleep",
    "true_",
    "version",
    "versions_report",
]

# Distribution names of the libraries saline depends on, keyed as reported.
_LIBRARIES = {
    "pyzmq": "pyzmq",
    "pynacl": "PyNaCl",
    "msgpack": "msgpack",
    "jinja2": "Jinja2",
    "pyyaml": "PyYAML",
    "psutil": "psutil",
}


def ping(ctx: Context) -> bool:
    """Answer True, to show that the minion is up and taking jobs.

    CLI Example:

        master run '*' test.ping
    """
    return True


def echo(ctx: Context, text: str) -> str:
    """Return the text it was given.

    text
        Any string; it comes back unchanged.

    CLI Example:

        master run '*' test.echo 'hello world'
    """
    return text


# Salt's file names for the modules whose file is not named as the module.
_PROVIDERS = {
    "cmd": "cmdmod",
    "user": "useradd",
    "group": "groupadd",
    "log": "logmod",
    "sys": "sysmod",
    "ini": "ini_manage",
    "debconf": "debconfmod",
}
_PKG_PROVIDERS = {
    "Debian": "aptpkg", "RedHat": "yumpkg", "Suse": "zypperpkg", "Arch": "pacmanpkg",
    "Alpine": "apkpkg", "Gentoo": "ebuildpkg",
}
_SERVICE_PROVIDERS = {
    "Debian": "debian_service", "RedHat": "rh_service", "Gentoo": "gentoo_service",
    "Alpine": "gentoo_service", "Suse": "rh_service",
}


def provider(ctx: Context, module: str) -> str:
    """Return the name Salt gives the implementation of a module on this host.

    Formulas branch on it, e.g. ``test.provider('service')`` is
    ``systemd_service`` on a host booted with systemd and ``debian_service``
    on a Debian host without it; ``pkg`` is ``aptpkg`` on Debian. A module
    this minion does not have gives an empty string.

    CLI Example:

        master run '*' test.provider service
    """
    if not any(name.startswith(f"{module}.") for name in ctx.registry.functions):
        return ""
    family = str(ctx.grains.get("os_family", ""))
    if module == "pkg":
        return _PKG_PROVIDERS.get(family, "pkg")
    if module == "service":
        if os.path.isdir("/run/systemd/system"):
            return "systemd_service"
        return _SERVICE_PROVIDERS.get(family, "service")
    return _PROVIDERS.get(module, module)


def outputter(ctx: Context, data: Any) -> Any:
    """Return the data it was given, to see how an outputter prints it.

    CLI Example:

        master run '*' test.outputter foobar --out yaml
    """
    return data


def version(ctx: Context) -> str:
    """Return the saline version the minion runs.

    CLI Example:

        master run '*' test.version
    """
    return __version__


def versions_report(ctx: Context) -> dict[str, str]:
    """Return the versions of saline, Python, libzmq and each library saline uses.

    A library that is missing is reported as "Not Installed".

    CLI Example:

        master run '*' test.versions_report
    """
    from importlib import metadata

    report = {"saline": __version__, "python": platform.python_version()}
    for key, dist in _LIBRARIES.items():
        try:
            report[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            report[key] = "Not Installed"
    report["libzmq"] = _libzmq_version()
    return dict(sorted(report.items()))


def _libzmq_version() -> str:
    # Only asked for here, so zmq is imported on demand, not at module load.
    try:
        from common.transport.options import libzmq_version

        return libzmq_version()
    except ImportError:
        return "Not Installed"


def sleep(ctx: Context, length: float) -> bool:
    """Wait the given number of seconds, then return True.

    length
        Seconds to wait (may be fractional).

    CLI Example:

        master run '*' test.sleep 20
    """
    seconds = float(length)
    if seconds < 0:
        raise ValueError(f"length must not be negative, got {length!r}")
    time.sleep(seconds)
    return True


def arg(ctx: Context, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Return the positional and keyword arguments it received.

    Useful to see how arguments typed on the command line arrive.

    CLI Example:

        master run '*' test.arg 1 two kw=3
    """
    return {"args": list(args), "kwargs": dict(kwargs)}


def kwarg(ctx: Context, **kwargs: Any) -> dict[str, Any]:
    """Return the keyword arguments it received.

    CLI Example:

        master run '*' test.kwarg name=value other=2
    """
    return dict(kwargs)


def fib(ctx: Context, num: int) -> tuple[int, float]:
    """Compute the num-th Fibonacci number; return it and the seconds it took.

    num
        Which Fibonacci number (0 gives 0, 10 gives 55).

    CLI Example:

        master run '*' test.fib 30
    """
    count = int(num)
    if count < 0:
        raise ValueError(f"num must not be negative, got {num!r}")
    start = time.perf_counter()
    current, following = 0, 1
    for _ in range(count):
        current, following = following, current + following
    return current, time.perf_counter() - start


def exception(ctx: Context, message: str = "Test Exception") -> None:
    """Raise an exception with the given message, to test error reporting.

    message
        The exception's text.

    CLI Example:

        master run '*' test.exception 'oops'
    """
    raise Exception(message)


def rand_str(ctx: Context, size: int = 20) -> str:
    """Return a random string of letters and digits.

    size
        How many characters (default 20).

    CLI Example:

        master run '*' test.rand_str 32
    """
    length = int(size)
    if length < 0:
        raise ValueError(f"size must not be negative, got {size!r}")
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def retcode(ctx: Context, code: int = 42) -> int:
    """Return the given code and make the job exit with it, to test failure reporting.

    code
        The return code the job reports (default 42).

    CLI Example:

        master run '*' test.retcode 3
    """
    ctx.retcode = int(code)
    return ctx.retcode


def true_(ctx: Context) -> bool:
    """Return True.

    CLI Example:

        master run '*' test.true
    """
    return True


def false_(ctx: Context) -> bool:
    """Return False (the job itself still succeeds).

    CLI Example:

        master run '*' test.false
    """
    return False
