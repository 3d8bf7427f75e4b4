"""Keep services running or stopped and enabled or disabled at boot, like Salt's ``service``.

Every state reads the service's status (and, when asked to manage it, its
boot setting) through the ``service`` execution module, changes only what
differs and reports Salt's changes ``{name: True}``. ``mod_watch`` restarts
(or reloads) a running service when a watched state changed.
"""

from __future__ import annotations

import time
from typing import Any

from minion.context import Context
from minion.modules import service as service_mod
from minion.states import result

__all__ = ["dead", "disabled", "enabled", "masked", "mod_watch", "running", "unmasked"]

OFFLINE = "Running in OFFLINE mode. Nothing to do"


def _offline(ctx: Context) -> bool:
    """Systemd installed but not booted: Salt's service states then do nothing."""
    return bool(ctx.call("service.offline"))


def _not_present(ctx: Context, ret: dict[str, Any], name: str, done: str,
                 fail: bool) -> dict[str, Any]:
    """A missing service: pending in test mode (a state may still create it)."""
    if ctx.test:
        return result.done(ret, f"Service {name} not present; if created in this state run, "
                                f"it would have been {done}", None)
    comment = f"The named service {name} is not available"
    return result.fail(ret, comment) if fail else result.done(ret, comment)


def _status(ctx: Context, name: str, sig: str | None) -> bool:
    return ctx.call("service.status", name, sig=sig) is True


def _boot_change(ctx: Context, name: str, enable: bool | None) -> bool:
    """Whether `enable` (None: leave alone) asks for a different boot setting."""
    if enable is None:
        return False
    return (ctx.call("service.enabled", name) is True) != bool(enable)


def _boot_comment(name: str, enable: bool, state: str, changed: bool) -> str:
    word = "enabled" if enable else "disabled"
    if changed:
        return f"Service {name} has been {word}, and is {state}"
    return f"Service {name} is already {word}, and is {state}"


def _set_boot(ctx: Context, ret: dict[str, Any], name: str, enable: bool, state: str) -> bool:
    """Enable or disable `name` at boot, noting it in `ret`; False when that failed."""
    if ctx.call("service.enable" if enable else "service.disable", name) is True:
        ret["changes"][name] = True
        ret["comment"] = _boot_comment(name, enable, state, True)
        return True
    what = "start" if enable else "not start"
    ret["comment"] = f"Failed when setting service {name} to {what} at boot, and is {state}"
    return False


def _unknown_option(ret: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any] | None:
    if "enabled" in kwargs:
        return result.fail(ret, f'Service {ret["name"]} uses non-existent option "enabled". '
                                'Perhaps "enable" option was intended?')
    return None


def running(
    ctx: Context,
    name: str,
    enable: bool | None = None,
    sig: str | None = None,
    init_delay: float | None = None,
    reload: bool = False,
    **kwargs: Any,
) -> dict[str, Any]:
    """Make sure a service is running (and enabled or disabled at boot, if asked).

    name
        The service.
    enable
        True: also start it at boot; False: do not; None (default): leave alone.
    sig
        On SysV hosts, a regex matching the service's process (see service.status).
    init_delay
        Seconds to wait after starting before checking the service came up.
    reload
        Used by mod_watch: reload instead of restart on a watched change.

    CLI Example:

        minion call --local state.single service.running nginx enable=True
    """
    ret = result.new(name)
    if (r := _unknown_option(ret, kwargs)):
        return r
    if _offline(ctx):
        return result.done(ret, OFFLINE)
    if ctx.call("service.available", name) is not True:
        return _not_present(ctx, ret, name, "started", True)
    start = not _status(ctx, name, sig)
    boot = _boot_change(ctx, name, enable)
    if not start and not boot:
        return result.done(ret, f"The service {name} is already running")
    if start:
        comment = f"Service {name} is set to start"
    else:
        comment = f"Service {name} set to be {'enabled' if enable else 'disabled'}"
    if (r := result.pending(ctx, ret, {name: True}, comment)):
        return r
    if start:
        ctx.call("service.start", name)
        if init_delay:
            time.sleep(float(init_delay))
        if not _status(ctx, name, sig):
            return result.fail(ret, f"Service {name} failed to start")
        ret["changes"][name] = True
        ret["comment"] = f"Started service {name}"
    if boot and enable is not None and not _set_boot(ctx, ret, name, enable, "running"):
        return result.fail(ret, ret["comment"])
    if init_delay and start:
        ret["comment"] += f"\nDelayed return for {init_delay} seconds"
    return result.done(ret, ret["comment"])


def dead(
    ctx: Context,
    name: str,
    enable: bool | None = None,
    sig: str | None = None,
    init_delay: float | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Make sure a service is stopped (and enabled or disabled at boot, if asked).

    A service that does not exist counts as dead.

    name
        The service.
    enable
        True: start it at boot anyway; False: do not; None (default): leave alone.
    sig
        On SysV hosts, a regex matching the service's process.
    init_delay
        Seconds to wait after stopping before checking the service is gone.

    CLI Example:

        minion call --local state.single service.dead telnetd enable=False
    """
    ret = result.new(name)
    if (r := _unknown_option(ret, kwargs)):
        return r
    if _offline(ctx):
        return result.done(ret, OFFLINE)
    if ctx.call("service.available", name) is not True:
        return _not_present(ctx, ret, name, "stopped", False)
    stop = _status(ctx, name, sig)
    boot = _boot_change(ctx, name, enable)
    if not stop and not boot:
        return result.done(ret, f"The service {name} is already dead")
    if stop:
        comment = f"Service {name} is set to be killed"
    else:
        comment = f"Service {name} set to be {'enabled' if enable else 'disabled'}"
    if (r := result.pending(ctx, ret, {name: True}, comment)):
        return r
    if stop:
        ctx.call("service.stop", name)
        if init_delay:
            time.sleep(float(init_delay))
        if _status(ctx, name, sig):
            return result.fail(ret, f"Service {name} failed to die")
        ret["changes"][name] = True
        ret["comment"] = f"Service {name} was killed"
    if boot and enable is not None and not _set_boot(ctx, ret, name, enable, "dead"):
        return result.fail(ret, ret["comment"])
    return result.done(ret, ret["comment"])


def _boot_state(ctx: Context, name: str, enable: bool) -> dict[str, Any]:
    ret = result.new(name)
    word = "enabled" if enable else "disabled"
    if ctx.call("service.available", name) is not True:
        if enable:
            return _not_present(ctx, ret, name, "enabled", True)
        return result.done(ret, f"The named service {name} is not available")
    if not _boot_change(ctx, name, enable):
        return result.done(ret, _boot_comment(name, enable, "in the desired state", False))
    if (r := result.pending(ctx, ret, {name: True}, f"Service {name} set to be {word}")):
        return r
    if not _set_boot(ctx, ret, name, enable, "in the desired state"):
        return result.fail(ret, ret["comment"])
    return ret


def enabled(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """Make sure a service starts at boot, without starting or stopping it now.

    name
        The service.

    CLI Example:

        minion call --local state.single service.enabled nginx
    """
    return _boot_state(ctx, name, True)


def disabled(ctx: Context, name: str, **kwargs: Any) -> dict[str, Any]:
    """Make sure a service does not start at boot, without starting or stopping it now.

    name
        The service.

    CLI Example:

        minion call --local state.single service.disabled telnetd
    """
    return _boot_state(ctx, name, False)


def _watch_action(ctx: Context, name: str, sfun: str | None, sig: str | None,
                  reload: bool) -> tuple[str, str] | str:
    """(execution function, past participle) for a watch, or the comment when none is due."""
    if sfun == "dead":
        if _status(ctx, name, sig):
            return "service.stop", "stopped"
        return "Service is already stopped"
    if sfun == "running":
        if not _status(ctx, name, sig):
            return "service.start", "started"
        return ("service.reload", "reloaded") if reload else ("service.restart", "restarted")
    return ""


def mod_watch(
    ctx: Context,
    name: str,
    sfun: str | None = None,
    sig: str | None = None,
    reload: bool = False,
    full_restart: bool = False,
    force: bool = False,
    init_delay: float | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Restart (or reload, start, stop) a service because a watched state changed.

    For service.running: restart, or reload when ``reload: True``; a stopped
    service is started. For service.dead: stop it if it runs.
    full_restart and force are accepted for Salt compatibility (a restart and
    a reload do the same here).

    CLI Example:

        (called by the state engine for ``watch`` requisites)
    """
    ret = result.new(name)
    action = _watch_action(ctx, name, sfun, sig, reload)
    if action == "":
        return result.fail(ret, f"Unable to trigger watch for service.{sfun}")
    if isinstance(action, str):
        return result.done(ret, action)
    fun, done = action
    if ctx.test:
        # Salt names what a real run would do and predicts no changes.
        return result.done(ret, f"Service is set to be {done}", None)
    if fun == "service.start":
        ctx.call("service.stop", name)
    ok = ctx.call(fun, name) is True
    if init_delay:
        time.sleep(float(init_delay))
    ret["changes"][name] = ok
    if not ok:
        return result.fail(ret, f"Failed to {fun.split('.', 1)[1]} the service")
    return result.done(ret, f"Service {done}")


def _mask_state(ctx: Context, name: str, runtime: bool, mask: bool) -> dict[str, Any]:
    ret = result.new(name)
    if not service_mod.systemctl_path():
        return result.fail(ret, "Service masking not available on this minion")
    kind = "runtime masked" if runtime else "masked"
    action = kind if mask else ("runtime unmasked" if runtime else "unmasked")
    now = ctx.call("service.masked", name, runtime)
    if isinstance(now, str):
        return result.fail(ret, now)
    if now is mask:
        return result.done(ret, f"Service {name} is already {kind}" if mask
                           else f"Service {name} was already {action}")
    changes = {kind: {"old": not mask, "new": mask}}
    if (r := result.pending(ctx, ret, changes, f"Service {name} would be {action}")):
        return r
    done = ctx.call("service.mask" if mask else "service.unmask", name, runtime)
    if done is not True:
        verb = "mask" if mask else "unmask"
        return result.fail(ret, f"Failed to {verb} service '{name}'")
    if ctx.call("service.masked", name, runtime) is mask:
        ret["changes"] = changes
        return result.done(ret, f"Service {name} was {action}")
    return result.done(ret, f"Failed to {'mask' if mask else 'unmask'} service {name}")


def masked(ctx: Context, name: str, runtime: bool = False) -> dict[str, Any]:
    """Make sure a systemd unit is masked, so that nothing can start it.

    name
        The service (``nginx`` means ``nginx.service``).
    runtime
        Manage the runtime mask (until reboot) instead of the lasting one.

    CLI Example:

        minion call --local state.single service.masked telnetd
    """
    return _mask_state(ctx, name, bool(runtime), True)


def unmasked(ctx: Context, name: str, runtime: bool = False) -> dict[str, Any]:
    """Make sure a systemd unit is not masked.

    name
        The service.
    runtime
        Manage the runtime mask (until reboot) instead of the lasting one.

    CLI Example:

        minion call --local state.single service.unmasked telnetd
    """
    return _mask_state(ctx, name, bool(runtime), False)
