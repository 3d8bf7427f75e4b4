"""Host keys in known_hosts files, like Salt's ``ssh_known_hosts`` states.

.. code-block:: yaml

    github.com:
      ssh_known_hosts.present:
        - user: deploy
        - enc: ssh-ed25519
        - key: AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl

Without ``key`` the keys are fetched with ssh-keyscan (checked against
``fingerprint`` when given). Without ``user`` the file is
``/etc/ssh/ssh_known_hosts`` and ``config`` must be absolute.
"""

from __future__ import annotations

import os
from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["absent", "present"]

NEED_ABSOLUTE = 'If not specifying a "user", specify an absolute "config".'


def _config(user: str | None, config: str | None) -> str:
    return config or (".ssh/known_hosts" if user else "/etc/ssh/ssh_known_hosts")


def _predict(ctx: Context, ret: dict[str, Any], name: str, user: str | None, key: str | None,
             fingerprint: str | None, enc: str | None, config: str, port: Any,
             hash_type: str | None) -> dict[str, Any]:
    if key and fingerprint:
        return result.fail(ret, 'Specify either "key" or "fingerprint", not both.')
    if key and not enc:
        return result.fail(ret, 'Required argument "enc" if using "key" argument.')
    found = ctx.call("ssh.check_known_host", user, name, key=key, fingerprint=fingerprint,
                     config=config, port=port, fingerprint_hash_type=hash_type)
    if isinstance(found, dict) and "error" in found:
        return result.fail(ret, found["error"])
    if found == "exists":
        return result.done(ret, f"Host {name} is already in {config}")
    if found == "add":
        return result.done(ret, f"Key for {name} is set to be added to {config}", None)
    return result.done(ret, f"Key for {name} is set to be updated in {config}", None)


def present(ctx: Context, name: str, user: str | None = None, fingerprint: str | None = None,
            key: str | None = None, port: Any = None, enc: str | None = None,
            config: str | None = None, hash_known_hosts: bool = True, timeout: int = 5,
            fingerprint_hash_type: str | None = None) -> dict[str, Any]:
    """Make sure the host `name` has its key in a known_hosts file.

    name
        The host name or address.
    user
        Whose ``~/.ssh/known_hosts`` (none: the system's file).
    key / enc
        The public key (base64) and its type; or ``fingerprint`` to check
        the scanned keys against.
    hash_known_hosts
        Hash the host names in the file (True by default, as in Salt).

    CLI Example:

        minion call --local state.single ssh_known_hosts.present github.com user=root
    """
    ret = result.new(name)
    config = _config(user, config)
    if not user and not os.path.isabs(config):
        return result.fail(ret, NEED_ABSOLUTE)
    if ctx.test:
        return _predict(ctx, ret, name, user, key, fingerprint, enc, config, port,
                        fingerprint_hash_type)
    done = ctx.call("ssh.set_known_host", user=user, hostname=name, fingerprint=fingerprint,
                    key=key, port=port, enc=enc, config=config,
                    hash_known_hosts=hash_known_hosts, timeout=timeout,
                    fingerprint_hash_type=fingerprint_hash_type)
    if done["status"] == "exists":
        return result.done(ret, f"{name} already exists in {config}")
    if done["status"] == "error":
        return result.fail(ret, done["error"])
    ret["changes"] = {"old": done["old"], "new": done["new"]}
    if key:
        what = f"'s key saved to {config} (key: {done['new'][0]['key']})"
    elif fingerprint:
        what = f"'s key saved to {config} (fingerprint: {done['new'][0]['fingerprint']})"
    elif enc:
        what = f"'s {enc} key saved to {config} (key: {done['new'][0]['key']})"
    else:
        what = f"'s key(s) saved to {config}"
    return result.done(ret, f"{name}{what}")


def absent(ctx: Context, name: str, user: str | None = None,
           config: str | None = None) -> dict[str, Any]:
    """Make sure the host `name` has no key in a known_hosts file.

    CLI Example:

        minion call --local state.single ssh_known_hosts.absent github.com user=root
    """
    ret = result.new(name)
    config = _config(user, config)
    if not user and not os.path.isabs(config):
        return result.fail(ret, NEED_ABSOLUTE)
    known = ctx.call("ssh.get_known_host_entries", user=user, hostname=name, config=config)
    if not known:
        return result.done(ret, "Host is already absent")
    if ctx.test:
        return result.done(ret, f"Key for {name} is set to be removed from {config}", None)
    removed = ctx.call("ssh.rm_known_host", user=user, hostname=name, config=config)
    if removed["status"] == "error":
        return result.fail(ret, removed["error"])
    ret["changes"] = {"old": known, "new": None}
    return result.done(ret, removed["comment"])
