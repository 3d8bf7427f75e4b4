"""Run shell commands on the minion, like Salt's ``cmd`` module.

Commands go through ``ctx.run`` (the context's command runner), so tests can
answer them with a fake. Strings run through a shell by default, as they do
from Salt's command line, so pipes and redirections work.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

from minion.context import Context
from minion.runner import CommandResult

__all__ = [
    "has_exec",
    "retcode",
    "run",
    "run_all",
    "run_stderr",
    "run_stdout",
    "script",
    "shell_",
    "which",
]

log = logging.getLogger(__name__)

Command = str | Sequence[str]
EnvArg = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


def _env_dict(env: EnvArg) -> dict[str, str] | None:
    """Accept ``{K: v}`` or Salt's state style ``[{K: v}, ...]``."""
    if env is None:
        return None
    if isinstance(env, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in env.items()}
    if isinstance(env, Sequence) and not isinstance(env, str):
        merged: dict[str, str] = {}
        for item in env:
            if not isinstance(item, Mapping):
                raise ValueError(f"env: expected a mapping or a list of mappings, got {env!r}")
            merged.update(_env_dict(item) or {})
        return merged
    raise ValueError(f"env: expected a mapping of variable names to values, got {env!r}")


def _default_cwd(runas: str | None) -> str:
    """The home directory of `runas` (or of the minion's user), as Salt does; `/`
    when that home is missing or unreadable (``nobody``'s is /nonexistent)."""
    if runas:
        import pwd

        try:
            home = pwd.getpwnam(runas).pw_dir
        except KeyError:
            raise ValueError(f"runas: no such user {runas!r}") from None
    else:
        home = os.path.expanduser("~")
    return home if os.path.isdir(home) and os.access(home, os.R_OK) else "/"


def _shell_path(ctx: Context, shell: str | None) -> str:
    if shell:
        return shell
    candidate = ctx.grains.get("shell")
    if isinstance(candidate, str) and os.path.isabs(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return "/bin/sh"


def _execute(
    ctx: Context,
    cmd: Command,
    *,
    cwd: str | None,
    stdin: str | None,
    runas: str | None,
    shell: str | None,
    env: EnvArg,
    python_shell: bool | None,
    timeout: float | None,
    rstrip: bool,
) -> CommandResult:
    """Run `cmd` with Salt's argument conventions and tidy its output."""
    if not cmd or (isinstance(cmd, str) and not cmd.strip()):
        raise ValueError("cmd: no command given")
    use_shell = isinstance(cmd, str) if python_shell is None else bool(python_shell)
    line: str | list[str]
    if isinstance(cmd, str):
        line = cmd
    elif use_shell:
        line = shlex.join(str(part) for part in cmd)
    else:
        line = [str(part) for part in cmd]
    directory = cwd if cwd is not None else _default_cwd(runas)
    if not os.path.isdir(directory):
        raise ValueError(f"cwd: {directory!r} does not exist or is not a directory")
    seconds = float(timeout) if timeout is not None else None
    log.debug("cmd: running %r in %s", line, directory)
    result = ctx.run(
        line,
        shell=_shell_path(ctx, shell) if use_shell else False,
        cwd=directory,
        env=_env_dict(env),
        stdin=None if stdin is None else str(stdin),
        timeout=seconds,
        runas=runas,
    )
    stdout, stderr = result.stdout, result.stderr
    if rstrip:
        stdout, stderr = stdout.rstrip(), stderr.rstrip()
    if result.timed_out:
        note = f"Timed out after {seconds:g} s" if seconds is not None else "Timed out"
        stderr = f"{stderr}\n{note}" if stderr else note
        ctx.retcode = result.retcode or 1
    return CommandResult(stdout, stderr, result.retcode, result.pid, result.timed_out)


def _fail_job_on_error(ctx: Context, result: CommandResult, ignore_retcode: bool) -> None:
    if result.retcode != 0 and not ignore_retcode:
        log.info("command exited with %s", result.retcode)
        ctx.retcode = result.retcode


def run(
    ctx: Context,
    cmd: Command,
    cwd: str | None = None,
    stdin: str | None = None,
    runas: str | None = None,
    shell: str | None = None,
    env: EnvArg = None,
    python_shell: bool | None = None,
    timeout: float | None = None,
    ignore_retcode: bool = False,
    output_loglevel: str | None = None,
    rstrip: bool = True,
) -> str:
    """Run a command and return its output (stderr follows stdout).

    A non-zero exit code makes the job fail, unless ignore_retcode is set.

    cmd
        The command line; a string runs through the shell (pipes work), a
        list runs directly.
    cwd
        Directory to run in (default: the home of runas, or of the minion user).
    stdin
        Text fed to the command's standard input.
    runas
        User to run the command as (the minion must be root).
    shell
        Shell to use (default: the ``shell`` grain, else /bin/sh).
    env
        Extra environment variables, e.g. ``{LANG: C}``.
    python_shell
        False runs a string command without a shell (split like a shell would).
    timeout
        Seconds before the command is killed; output so far is kept.
    ignore_retcode
        Do not fail the job when the command exits non-zero.
    output_loglevel
        Accepted for Salt compatibility; ignored.
    rstrip
        Strip trailing whitespace from the output (default True).

    CLI Example:

        master run '*' cmd.run 'ls -l /etc | grep hosts'
    """
    result = _execute(ctx, cmd, cwd=cwd, stdin=stdin, runas=runas, shell=shell, env=env,
                      python_shell=python_shell, timeout=timeout, rstrip=rstrip)
    _fail_job_on_error(ctx, result, ignore_retcode)
    if result.stdout and result.stderr:
        return f"{result.stdout}\n{result.stderr}"
    return result.stdout or result.stderr


def shell_(
    ctx: Context,
    cmd: str,
    cwd: str | None = None,
    stdin: str | None = None,
    runas: str | None = None,
    shell: str | None = None,
    env: EnvArg = None,
    timeout: float | None = None,
    ignore_retcode: bool = False,
    output_loglevel: str | None = None,
    rstrip: bool = True,
) -> str:
    """Run a command line through the shell and return its output, like cmd.run.

    Takes the same arguments as cmd.run; the command always goes through the
    shell, so pipes, globs and redirections work.

    CLI Example:

        master run '*' cmd.shell 'ls /etc | wc -l'
    """
    return run(ctx, cmd, cwd=cwd, stdin=stdin, runas=runas, shell=shell, env=env,
               python_shell=True, timeout=timeout, ignore_retcode=ignore_retcode,
               output_loglevel=output_loglevel, rstrip=rstrip)


def run_stdout(
    ctx: Context,
    cmd: Command,
    cwd: str | None = None,
    stdin: str | None = None,
    runas: str | None = None,
    shell: str | None = None,
    env: EnvArg = None,
    python_shell: bool | None = None,
    timeout: float | None = None,
    ignore_retcode: bool = False,
    output_loglevel: str | None = None,
    rstrip: bool = True,
) -> str:
    """Run a command and return only its standard output.

    Takes the same arguments as cmd.run; a non-zero exit fails the job
    unless ignore_retcode is set.

    CLI Example:

        master run '*' cmd.run_stdout 'uname -a'
    """
    result = _execute(ctx, cmd, cwd=cwd, stdin=stdin, runas=runas, shell=shell, env=env,
                      python_shell=python_shell, timeout=timeout, rstrip=rstrip)
    _fail_job_on_error(ctx, result, ignore_retcode)
    return result.stdout


def run_stderr(
    ctx: Context,
    cmd: Command,
    cwd: str | None = None,
    stdin: str | None = None,
    runas: str | None = None,
    shell: str | None = None,
    env: EnvArg = None,
    python_shell: bool | None = None,
    timeout: float | None = None,
    ignore_retcode: bool = False,
    output_loglevel: str | None = None,
    rstrip: bool = True,
) -> str:
    """Run a command and return only its standard error.

    Takes the same arguments as cmd.run; a non-zero exit fails the job
    unless ignore_retcode is set.

    CLI Example:

        master run '*' cmd.run_stderr 'ls /nonexistent'
    """
    result = _execute(ctx, cmd, cwd=cwd, stdin=stdin, runas=runas, shell=shell, env=env,
                      python_shell=python_shell, timeout=timeout, rstrip=rstrip)
    _fail_job_on_error(ctx, result, ignore_retcode)
    return result.stderr


def run_all(
    ctx: Context,
    cmd: Command,
    cwd: str | None = None,
    stdin: str | None = None,
    runas: str | None = None,
    shell: str | None = None,
    env: EnvArg = None,
    python_shell: bool | None = None,
    timeout: float | None = None,
    ignore_retcode: bool = False,
    output_loglevel: str | None = None,
    rstrip: bool = True,
) -> dict[str, Any]:
    """Run a command and return its pid, retcode, stdout and stderr.

    A non-zero exit code also fails the job (as in Salt), unless
    ignore_retcode is set. Takes the same arguments as cmd.run.

    CLI Example:

        master run '*' cmd.run_all 'make -C /srv/app test'
    """
    result = _execute(ctx, cmd, cwd=cwd, stdin=stdin, runas=runas, shell=shell, env=env,
                      python_shell=python_shell, timeout=timeout, rstrip=rstrip)
    _fail_job_on_error(ctx, result, ignore_retcode)
    return {
        "pid": result.pid,
        "retcode": result.retcode,
        "stdout": result.stdout,
        "stderr": result.stderr,
    }


def script(
    ctx: Context,
    source: str,
    args: str | list[Any] | None = None,
    cwd: str | None = None,
    stdin: str | None = None,
    runas: str | None = None,
    shell: str | None = None,
    env: EnvArg = None,
    saltenv: str = "base",
    timeout: float | None = None,
    ignore_retcode: bool = False,
) -> dict[str, Any]:
    """Download a script from the file server (or take a local one) and run it.

    Returns pid, retcode, stdout and stderr like cmd.run_all; a non-zero exit
    fails the job unless ignore_retcode.

    source
        ``salt://path/to/script`` (``?saltenv=dev`` works) or an absolute path.
    args
        Arguments, a string (split like a shell would) or a list.
    cwd
        Where to run it (default: the private temporary directory holding it).

    CLI Example:

        master run '*' cmd.script salt://scripts/report.sh args='--short'
    """
    from minion.scriptfile import staged_script

    with staged_script(ctx, source, saltenv, runas, args) as (line, workdir):
        return run_all(ctx, line, cwd=cwd or str(workdir), stdin=stdin, runas=runas,
                       shell=shell, env=env, python_shell=True, timeout=timeout,
                       ignore_retcode=ignore_retcode)


def retcode(
    ctx: Context,
    cmd: Command,
    cwd: str | None = None,
    stdin: str | None = None,
    runas: str | None = None,
    shell: str | None = None,
    env: EnvArg = None,
    python_shell: bool | None = None,
    timeout: float | None = None,
    ignore_retcode: bool = False,
    output_loglevel: str | None = None,
) -> int:
    """Run a command and return its exit code.

    A non-zero code also fails the job, as in Salt, unless ignore_retcode
    is set. Takes the same arguments as cmd.run.

    CLI Example:

        master run '*' cmd.retcode 'test -f /etc/hosts'
    """
    result = _execute(ctx, cmd, cwd=cwd, stdin=stdin, runas=runas, shell=shell, env=env,
                      python_shell=python_shell, timeout=timeout, rstrip=True)
    _fail_job_on_error(ctx, result, ignore_retcode)
    return result.retcode


def which(ctx: Context, cmd: str) -> str | None:
    """Return the full path of an executable found on the PATH, or None.

    cmd
        The executable's name.

    CLI Example:

        master run '*' cmd.which git
    """
    return shutil.which(cmd)


def has_exec(ctx: Context, cmd: str) -> bool:
    """Tell whether an executable is on the PATH (or is an executable path).

    cmd
        The executable's name or path.

    CLI Example:

        master run '*' cmd.has_exec git
    """
    return shutil.which(cmd) is not None
