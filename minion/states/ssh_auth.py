"""SSH keys in users' authorized_keys files, like Salt's ``ssh_auth`` states.

.. code-block:: yaml

    deploy key:
      ssh_auth.present:
        - user: deploy
        - name: AAAAC3NzaC1lZDI1NTE5AAAAI... ci@example
        - enc: ed25519
        - options: ['no-port-forwarding']

``name`` may also be a whole key line (``[options] ENC KEY [comment]``), and
``source`` a file of keys (``salt://keys/deploy.pub``). ``config`` names
another file than ``.ssh/authorized_keys`` (relative to the home directory;
``%u``/``%h`` expand). Under ``test=True`` the states say what they would do
and, as Salt, report no changes.
"""

from __future__ import annotations

from typing import Any

from minion.context import Context
from minion.modules import ssh
from minion.states import result

__all__ = ["absent", "manage", "present"]


def _key_parts(name: str, enc: str, comment: str,
               options: list[str] | None) -> tuple[str, str, str, list[str]]:
    parts = ssh.split_key_line(name)
    return (parts["key"], parts.get("enc", enc), parts.get("comment", comment),
            parts.get("options", options or []))


def _source_test(ctx: Context, user: str, source: str, config: str, hash_type: str | None,
                 absent: bool) -> tuple[bool | None, str]:
    keys = ctx.call("ssh.check_key_file", user, source, config,
                    fingerprint_hash_type=hash_type)
    if absent:
        lines = [f"Set to remove: {key}\n" for key, state in keys.items() if state != "add"]
    else:
        lines = [f"Set to {state}: {key}\n" for key, state in keys.items() if state != "exists"]
    if lines:
        return None, "".join(lines)
    if not keys:
        return False, f"No keys detected in {source}. Is file properly formatted?"
    word = "absent" if absent else "present"
    return True, f"All host keys in file {source} are already {word}"


_WORDS = {
    "replace": ("Updated", "The authorized host key {key} for user {user} was updated", True),
    "no change": (None, "The authorized host key {key} is already present for user {user}",
                  True),
    "new": ("New", "The authorized host key {key} for user {user} was added", True),
    "no key": (None, "Failed to add the ssh key. Source file {source} is missing", False),
    "fail": (None, "Failed to add the ssh key. Is the home directory available, and/or does "
                   "the key file exist?", False),
    "invalid": (None, "Invalid public ssh key, most likely has spaces or invalid syntax", False),
    "Invalid public key": (None, "Invalid public ssh key, most likely has spaces or invalid "
                                 "syntax", False),
}


def present(ctx: Context, name: str, user: str, enc: str = "ssh-rsa", comment: str = "",
            source: str = "", options: list[str] | None = None, config: str = ssh.AUTH_KEYS,
            fingerprint_hash_type: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """Make sure an SSH key is in a user's authorized_keys file.

    name
        The key (base64), ``KEY comment``, or a whole key line.
    user
        The user whose file it is.
    enc
        The key type (``ssh-rsa``, ``ed25519``, ``ecdsa`` ...).
    comment
        The comment after the key.
    source
        A file of keys to add instead (``salt://...``).
    options
        Key options, e.g. ``['no-pty', 'from="10.0.0.0/8"']``.
    config
        The file, relative to the home directory (``%u``/``%h`` expand).

    CLI Example:

        minion call --local state.single ssh_auth.present AAAAC3Nza... user=deploy enc=ed25519
    """
    ret = result.new(name)
    if not source:
        name, enc, comment, options = _key_parts(name, enc, comment, options)
    try:
        if ctx.test:
            if source:
                res, text = _source_test(ctx, user, source, config, fingerprint_hash_type,
                                         False)
                return result.done(ret, text, res)
            check = ctx.call("ssh.check_key", user, name, enc, comment, options, config,
                             fingerprint_hash_type=fingerprint_hash_type)
            if check == "exists":
                return result.done(
                    ret, f"The authorized host key {name} is already present for user {user}")
            verb = "updated" if check == "update" else "added"
            return result.done(ret, f"Key {name} for user {user} is set to be {verb}", None)
        if source:
            word = ctx.call("ssh.set_auth_key_from_file", user, source, config,
                            fingerprint_hash_type=fingerprint_hash_type, options=options)
        else:
            word = ctx.call("ssh.set_auth_key", user, name, enc=enc, comment=comment,
                            options=options, config=config,
                            fingerprint_hash_type=fingerprint_hash_type)
    except (ssh.SshError, OSError) as exc:
        return result.fail(ret, str(exc))
    change, text, ok = _WORDS.get(word, (None, f"Unexpected answer {word!r}", False))
    if change:
        ret["changes"][name] = change
    return result.done(ret, text.format(key=name, user=user, source=source), ok)


def absent(ctx: Context, name: str, user: str, enc: str = "ssh-rsa", comment: str = "",
           source: str = "", options: list[str] | None = None, config: str = ssh.AUTH_KEYS,
           fingerprint_hash_type: str | None = None) -> dict[str, Any]:
    """Make sure an SSH key is not in a user's authorized_keys file.

    name
        The key (base64), or a whole key line.
    user
        The user whose file it is.
    source
        A file of keys to remove instead.
    config
        The file, relative to the home directory.

    CLI Example:

        minion call --local state.single ssh_auth.absent AAAAC3Nza... user=deploy
    """
    ret = result.new(name)
    try:
        if ctx.test:
            if source:
                res, text = _source_test(ctx, user, source, config, fingerprint_hash_type,
                                         True)
                return result.done(ret, text, res)
            key, enc, comment, options = _key_parts(name, enc, comment, options)
            check = ctx.call("ssh.check_key", user, key, enc, comment, options, config,
                             fingerprint_hash_type=fingerprint_hash_type)
            if check in ("update", "exists"):
                return result.done(ret, f"Key {key} for user {user} is set for removal", None)
            return result.done(ret, "Key is already absent")
        if source:
            text = ctx.call("ssh.rm_auth_key_from_file", user, source, config,
                            fingerprint_hash_type=fingerprint_hash_type)
            key = name
        else:
            key = ssh.split_key_line(name)["key"]
            text = ctx.call("ssh.rm_auth_key", user, key, config=config,
                            fingerprint_hash_type=fingerprint_hash_type)
    except (ssh.SshError, OSError) as exc:
        return result.fail(ret, str(exc))
    if text == "Key removed":
        ret["changes"][key] = "Removed"
    return result.done(ret, text, text not in ("User authorized keys file not present",
                                               "Key not removed", "fail"))


def manage(ctx: Context, name: str, ssh_keys: list[str], user: str, enc: str = "ssh-rsa",
           comment: str = "", source: str = "", options: list[str] | None = None,
           config: str = ssh.AUTH_KEYS,
           fingerprint_hash_type: str | None = None) -> dict[str, Any]:
    """Make sure a user's authorized_keys file holds exactly the keys in `ssh_keys`.

    CLI Example:

        minion call --local state.single ssh_auth.manage x ssh_keys='[AAAA...]' user=deploy
    """
    ret = result.new("")
    words = {word for line in ssh_keys for word in line.split(" ")}
    existing = ctx.call("ssh.auth_keys", user, config,
                        fingerprint_hash_type=fingerprint_hash_type)
    for key in [k for k in existing if k not in words]:
        if ctx.test:
            ret["comment"], ret["result"] = f"{key} Key set for removal", None
        else:
            ret["changes"][key] = absent(ctx, key, user, enc, comment, source, options, config,
                                         fingerprint_hash_type)["comment"]
    for line in ssh_keys:
        one = present(ctx, line, user, enc, comment, source, options, config,
                      fingerprint_hash_type)
        if one["changes"]:
            ret["changes"].update(one["changes"])
        else:
            ret["comment"] = (ret["comment"] + "\n" + one["comment"]).strip()
        if one["result"] is None:
            ret["result"] = None
        elif not one["result"]:
            ret["result"] = False
    return ret
