"""Run commands and scripts as states, like Salt's ``cmd`` states.

A command cannot be diffed, so ``cmd.run`` always runs (guard it with the
engine's ``onlyif``/``unless``/``creates``) and reports Salt's changes
``{pid, retcode, stdout, stderr}``; ``cmd.wait`` runs only when a watched
state changed (through ``mod_watch``). With ``stateful`` the command says
itself whether it changed something: its output is JSON, or its last line
is ``changed=yes comment="..."``.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from common.fileroots import FileServerError, split_url
from minion.context import Context
from minion.scriptfile import staged_script
from minion.states import result

__all__ = ["mod_watch", "run", "script", "wait", "wait_script"]

_TRUE = {"yes", "true", "1", "on", "y"}


def _test_name(stateful: Any) -> str | None:
    """The ``test_name`` command of ``stateful: [{test_name: CMD}]``, if given."""
    items = [stateful] if isinstance(stateful, Mapping) else stateful
    if isinstance(items, Sequence) and not isinstance(items, str):
        for item in items:
            if isinstance(item, Mapping) and item.get("test_name"):
                return str(item["test_name"])
    return None


def _succeeded(retcode: int, success_retcodes: Any) -> bool:
    if retcode == 0:
        return True
    if success_retcodes is None:
        return False
    codes = success_retcodes if isinstance(success_retcodes, list) else [success_retcodes]
    return retcode in {int(code) for code in codes}


def _is_true(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _parse_stateful(stdout: str) -> tuple[dict[str, Any], bool, str]:
    """(data, is_json, stdout without the status line) from a stateful command's output.

    Raises ValueError with the sentence to show when the output is neither.
    """
    try:
        data = json.loads(stdout)
    except ValueError:
        pass
    else:
        if not isinstance(data, dict):
            raise ValueError("script JSON output must be a JSON object (e.g., {})!")
        return data, True, ""
    cut = stdout.rstrip().rfind("\n")
    last = stdout.rstrip()[cut + 1:]
    # Salt keeps the output before the status line; with no newline its slice [:-1]
    # drops the last character, and that is what its users see.
    head = stdout[:cut]
    data = {}
    try:
        for item in shlex.split(last):
            key, value = item.split("=", 1)
            data[key] = value
    except ValueError:
        raise ValueError("Failed parsing script output! Stdout must be JSON or a line "
                         "of name=value pairs.") from None
    return data, False, head


def _reinterpret(ret: dict[str, Any]) -> dict[str, Any]:
    """Let a stateful command's own report replace the plain run's changes and comment."""
    out = ret["changes"]
    ret["changes"], ret["comment"] = {}, ""
    if not out.get("stdout"):
        ret["comment"] = out.get("stderr", "")
        return ret
    try:
        data, is_json, rest = _parse_stateful(out["stdout"])
    except ValueError as exc:
        ret["changes"] = out
        return result.fail(ret, str(exc))
    if "comment" in data:
        ret["comment"] = str(data.pop("comment"))
    if _is_true(data.get("changed", "no")):
        for key, value in out.items():
            data.setdefault(key, value)
        data["stdout"] = "" if is_json else rest
        ret["changes"] = data
    return ret


def _execute(ctx: Context, ret: dict[str, Any], cmd: str, stateful: Any,
             success_retcodes: Any, comment: str, **run_args: Any) -> dict[str, Any]:
    """Run `cmd` with cmd.run_all and turn its answer into the state's result."""
    try:
        out = ctx.call("cmd.run_all", cmd, python_shell=True, **run_args)
    except (ValueError, OSError) as exc:
        return result.fail(ret, f"Unable to run command {cmd!r}: {exc}")
    ok = _succeeded(out["retcode"], success_retcodes)
    if ok:
        out["retcode"] = 0  # a listed success code is reported as 0, as Salt does
    ret["changes"] = out
    ret = result.done(ret, comment, ok)
    if stateful:
        ret = _reinterpret(ret)
        if ctx.test and ret["result"] and ret["changes"]:
            ret["result"] = None
    return ret


def run(
    ctx: Context,
    name: str,
    cwd: str | None = None,
    runas: str | None = None,
    shell: str | None = None,
    env: Any = None,
    stateful: Any = False,
    timeout: float | None = None,
    stdin: str | None = None,
    success_retcodes: list[int] | int | None = None,
    output_loglevel: str | None = None,
    hide_output: bool = False,
    **kwargs: Any,
) -> dict[str, Any]:
    """Run a command (through the shell) and report its output as changes.

    name
        The command line.
    cwd, runas, shell, env, stdin, timeout
        As for cmd.run (env may be ``{K: v}`` or ``[{K: v}]``).
    stateful
        True: the command reports its own changes, as a JSON object or a last
        line ``changed=yes comment="..."``. ``[{test_name: CMD}]`` runs CMD
        instead in test mode.
    success_retcodes
        Exit codes besides 0 that count as success.
    output_loglevel, hide_output
        Accepted for Salt compatibility; ignored.

    CLI Example:

        minion call --local state.single cmd.run 'systemctl daemon-reload'
    """
    ret = result.new(name)
    test_cmd = _test_name(stateful)
    if ctx.test and not test_cmd:
        # Salt names the command as the change, so onchanges/watch dependents are
        # predicted too; a stateful command's prediction has no output to read.
        ret["changes"] = {"cmd": name}
        ret = result.done(ret, f'Command "{name}" would have been executed', None)
        return _reinterpret(ret) if stateful else ret
    if cwd and not os.path.isdir(cwd):
        return result.fail(ret, f'Desired working directory "{cwd}" is not available')
    return _execute(ctx, ret, test_cmd if ctx.test and test_cmd else name, stateful,
                    success_retcodes, f'Command "{name}" run', cwd=cwd, runas=runas,
                    shell=shell, env=env, timeout=timeout, stdin=stdin)


def wait(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """Run a command only when a watched state changed (see mod_watch); else do nothing.

    Takes cmd.run's arguments.

    CLI Example:

        minion call --local state.single cmd.wait 'systemctl daemon-reload'
    """
    return result.new(name)


def wait_script(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """Run a script only when a watched state changed (see mod_watch); else do nothing.

    Takes cmd.script's arguments.

    CLI Example:

        minion call --local state.single cmd.wait_script salt://scripts/migrate.sh
    """
    return result.new(name)


def script(
    ctx: Context,
    name: str,
    source: str | None = None,
    args: str | list[Any] | None = None,
    cwd: str | None = None,
    runas: str | None = None,
    shell: str | None = None,
    env: Any = None,
    saltenv: str = "base",
    stateful: Any = False,
    timeout: float | None = None,
    stdin: str | None = None,
    success_retcodes: list[int] | int | None = None,
    template: str | None = None,
    output_loglevel: str | None = None,
    hide_output: bool = False,
    **kwargs: Any,
) -> dict[str, Any]:
    """Download a script from the file server and run it.

    name
        The script's ``salt://`` URL (or an ID, when source is given).
    source
        The script's ``salt://`` URL or absolute local path (default: name).
    args
        Arguments for the script, a string (split like a shell would) or a list.
    cwd
        Directory to run in (default: the temporary directory holding the script).
    saltenv
        The file server environment (``salt://x?saltenv=dev`` also works).
    runas, shell, env, stdin, timeout, stateful, success_retcodes
        As for cmd.run.
    template
        Not supported: the script runs as it is.

    CLI Example:

        minion call --local state.single cmd.script salt://scripts/setup.sh args='--fast'
    """
    ret = result.new(name)
    if template:
        return result.fail(ret, "cmd.script: template is not supported; render the script "
                                "with file.managed and run it with cmd.run")
    test_cmd = _test_name(stateful)
    if ctx.test and not test_cmd:
        ret = result.done(ret, f"Command '{name}' would have been executed", None)
        return _reinterpret(ret) if stateful else ret
    if cwd and not os.path.isdir(cwd):
        return result.fail(ret, f'Desired working directory "{cwd}" is not available')
    url = str(source or name)
    if url.startswith("salt://") and not _cached(ctx, url, saltenv):
        # Salt's shape for a script the file server does not have.
        ret["changes"] = {"cache_error": True, "pid": os.getpid(), "retcode": 1,
                          "stderr": "", "stdout": ""}
        return result.fail(ret, f"Unable to cache script {url} from saltenv "
                                f"'{split_url(url, saltenv)[1]}'")
    try:
        with staged_script(ctx, url, saltenv, runas, args) as (line, workdir):
            return _execute(ctx, ret, test_cmd if ctx.test and test_cmd else line, stateful,
                            success_retcodes, f"Command '{name}' run",
                            cwd=cwd or str(workdir), runas=runas, shell=shell, env=env,
                            timeout=timeout, stdin=stdin)
    except (FileServerError, RuntimeError, ValueError, OSError) as exc:
        return result.fail(ret, f"Unable to get script {source or name}: {exc}")


def _cached(ctx: Context, url: str, saltenv: str) -> bool:
    rel, env = split_url(url, saltenv)
    try:
        ctx.fileclient().cache_file(env, rel)
    except (FileNotFoundError, FileServerError):
        return False
    return True


def mod_watch(ctx: Context, name: str, sfun: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """Run the command (cmd.run, cmd.wait) or script (cmd.script, cmd.wait_script) now.

    Called by the state engine when a watched state changed.

    CLI Example:

        (called by the state engine for ``watch`` requisites)
    """
    if sfun in ("run", "wait", "watch"):
        return run(ctx, name, **kwargs)
    if sfun in ("script", "wait_script"):
        return script(ctx, name, **kwargs)
    return result.fail(result.new(name), f"cmd.{sfun} does not work with the watch "
                                          "requisite, please use cmd.wait or cmd.wait_script")
