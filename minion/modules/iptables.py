"""Netfilter rules through iptables/ip6tables, like Salt's ``iptables`` module.

``build_rule`` turns Salt's keyword arguments (``proto``, ``dport``,
``match``, ``connstate``, ``comment``, ``jump`` ...) into the rule text
Salt builds, word for word, so states and formulas written for Salt find
the same rules. Rules are run as argument lists (split like a shell would,
never through one). Changing rules needs root (and, in a container, the
NET_ADMIN capability).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common.atomic import write_atomic
from minion.context import Context
from minion.modules.iptables_parse import parse_save
from minion.modules.iptables_rule import rule_text

__all__ = ["append", "build_rule", "check", "check_chain", "delete", "delete_chain", "flush",
           "get_policy", "get_rules", "get_saved_policy", "get_saved_rules", "insert",
           "new_chain", "save", "set_policy", "version"]

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$")
_SAVE_FILES = {"RedHat": ("/etc/sysconfig/iptables", "/etc/sysconfig/ip6tables"),
               "Arch": ("/etc/iptables/iptables.rules", "/etc/iptables/ip6tables.rules"),
               "Debian": ("/etc/iptables/rules.v4", "/etc/iptables/rules.v6")}


class IptablesError(Exception):
    """A table, chain or family the functions refuse (the message says why)."""


def _unavailable(opts: Mapping[str, Any], grains: Mapping[str, Any]) -> str | None:
    if shutil.which("iptables"):
        return None
    return "The iptables execution module cannot be loaded: iptables not installed."


def binary(family: str = "ipv4") -> str:
    """The iptables (or ip6tables) program's path, as Salt shows it in full rules."""
    name = "ip6tables" if family == "ipv6" else "iptables"
    return shutil.which(name) or name


def _word(value: Any, what: str) -> str:
    text = str(value)
    if not _NAME.match(text):
        raise IptablesError(f"invalid {what} {text!r}")
    return text


def _has_option(ctx: Context, option: str, family: str) -> bool:
    out = ctx.run([binary(family), "--help"])
    return option in out.stdout


def _base(ctx: Context, family: str, table: str) -> list[str]:
    wait = ["--wait"] if _has_option(ctx, "--wait", family) else []
    return [binary(family), *wait, "-t", _word(table, "table")]


def _stderr(ctx: Context, argv: list[str]) -> str:
    return ctx.run(argv).stderr.strip()


# --- execution functions -----------------------------------------------------------------


def build_rule(ctx: Context, table: str = "filter", chain: str | None = None,
               command: str | None = None, position: Any = "", full: Any = None,
               family: str = "ipv4", **kwargs: Any) -> str:
    """Build an iptables rule from keyword arguments, as Salt writes it.

    Each keyword is the long option without dashes (``dport=22``,
    ``proto=tcp``, ``jump=ACCEPT``); ``connstate`` stands for ``--state``; a
    value starting with ``!`` or ``not`` negates the option. With
    ``full=True``, return the whole command (``table``, ``chain`` and
    ``command`` then needed; ``position`` for ``-I``).

    CLI Example:

        master run '*' iptables.build_rule filter INPUT command=A full=True dport=22 jump=ACCEPT
    """
    rule = rule_text(**kwargs)
    if not full or rule.startswith("Error:"):
        return rule
    if not table:
        return "Error: Table needs to be specified"
    if not chain:
        return "Error: Chain needs to be specified"
    if not command:
        return "Error: Command needs to be specified"
    flag = "-" if command in "ACDIRLSFZNXPE" else "--"
    wait = "--wait" if _has_option(ctx, "--wait", family) else ""
    return f"{binary(family)} {wait} -t {table} {flag}{command} {chain} {position} {rule}"


def check(ctx: Context, table: str = "filter", chain: str | None = None,
          rule: str | None = None, family: str = "ipv4") -> bool | str:
    """Return True when `rule` is in `chain` of `table`.

    CLI Example:

        master run '*' iptables.check filter INPUT rule='-p tcp --dport 22 -j ACCEPT'
    """
    if not chain:
        return "Error: Chain needs to be specified"
    if not rule:
        return "Error: Rule needs to be specified"
    argv = [binary(family), "-t", _word(table, "table"), "-C", _word(chain, "chain")]
    return ctx.run(argv + shlex.split(rule)).retcode == 0


def check_chain(ctx: Context, table: str = "filter", chain: str | None = None,
                family: str = "ipv4") -> bool | str:
    """Return True when `chain` exists in `table`.

    CLI Example:

        master run '*' iptables.check_chain filter INPUT
    """
    if not chain:
        return "Error: Chain needs to be specified"
    out = ctx.run([f"{binary(family)}-save", "-t", _word(table, "table")]).stdout
    return f":{chain} " in out


def new_chain(ctx: Context, table: str = "filter", chain: str | None = None,
              family: str = "ipv4") -> bool | str:
    """Create the user-defined `chain` in `table`; True, or iptables' error.

    CLI Example:

        master run '*' iptables.new_chain filter CUSTOM_CHAIN
    """
    if not chain:
        return "Error: Chain needs to be specified"
    return _stderr(ctx, [*_base(ctx, family, table), "-N", _word(chain, "chain")]) or True


def delete_chain(ctx: Context, table: str = "filter", chain: str | None = None,
                 family: str = "ipv4") -> bool | str:
    """Delete the user-defined `chain` from `table`; True, or iptables' error.

    CLI Example:

        master run '*' iptables.delete_chain filter CUSTOM_CHAIN
    """
    if not chain:
        return "Error: Chain needs to be specified"
    return _stderr(ctx, [*_base(ctx, family, table), "-X", _word(chain, "chain")]) or True


def append(ctx: Context, table: str = "filter", chain: str | None = None,
           rule: str | None = None, family: str = "ipv4") -> bool | str:
    """Append `rule` to `chain` unless it is there; True when it was added.

    CLI Example:

        master run '*' iptables.append filter INPUT rule='-p tcp --dport 22 -j ACCEPT'
    """
    if not chain:
        return "Error: Chain needs to be specified"
    if not rule:
        return "Error: Rule needs to be specified"
    if check(ctx, table, chain, rule, family) is True:
        return False
    argv = [*_base(ctx, family, table), "-A", _word(chain, "chain"), *shlex.split(rule)]
    return not _stderr(ctx, argv)


def insert(ctx: Context, table: str = "filter", chain: str | None = None,
           position: int | None = None, rule: str | None = None,
           family: str = "ipv4") -> bool | str:
    """Insert `rule` into `chain` at `position` unless it is there; "" when inserted.

    A negative position counts from the end of the chain.

    CLI Example:

        master run '*' iptables.insert filter INPUT position=3 rule='-p tcp --dport 22 -j ACCEPT'
    """
    if not chain:
        return "Error: Chain needs to be specified"
    if not position:
        return "Error: Position needs to be specified or use append (-A)"
    if not rule:
        return "Error: Rule needs to be specified"
    place = int(position)
    if place < 0:
        rules = get_rules(ctx, family).get(table, {}).get(chain, {}).get("rules", [])
        place = max(len(rules) + place + 1, 1)
    if check(ctx, table, chain, rule, family) is True:
        return False
    argv = [*_base(ctx, family, table), "-I", _word(chain, "chain"), str(place), *shlex.split(rule)]
    return _stderr(ctx, argv)


def delete(ctx: Context, table: str, chain: str | None = None, position: Any = None,
           rule: str | None = None, family: str = "ipv4") -> str:
    """Delete a rule from `chain`, given whole or by its position; "" when deleted.

    CLI Example:

        master run '*' iptables.delete filter INPUT position=3
    """
    if position and rule:
        return "Error: Only specify a position or a rule, not both"
    words = [str(int(position))] if position else shlex.split(rule or "")
    return _stderr(ctx, [*_base(ctx, family, table), "-D", _word(chain, "chain"), *words])


def flush(ctx: Context, table: str = "filter", chain: str = "", family: str = "ipv4") -> str:
    """Flush `chain` in `table` (every chain when none is given); "" when done.

    CLI Example:

        master run '*' iptables.flush filter INPUT
    """
    words = [_word(chain, "chain")] if chain else []
    return _stderr(ctx, [*_base(ctx, family, table), "-F", *words])


def get_rules(ctx: Context, family: str = "ipv4") -> dict[str, dict[str, Any]]:
    """Return the rules in force, by table and chain (from iptables-save).

    CLI Example:

        master run '*' iptables.get_rules
    """
    return parse_save(ctx.run([f"{binary(family)}-save"]).stdout)


def _save_file(ctx: Context, family: str) -> str:
    files = _SAVE_FILES.get(str(ctx.grains.get("os_family")))
    if files is None:
        raise IptablesError(f"Saving iptables to file is not supported on "
                            f"{ctx.grains.get('os')}.")
    return files[1] if family == "ipv6" else files[0]


def get_saved_rules(ctx: Context, conf_file: str | None = None,
                    family: str = "ipv4") -> dict[str, dict[str, Any]]:
    """Return the rules saved in `conf_file` (the distribution's file by default).

    CLI Example:

        master run '*' iptables.get_saved_rules
    """
    path = conf_file or _save_file(ctx, family)
    return parse_save(Path(path).read_text()) if os.path.exists(path) else {}


def get_policy(ctx: Context, table: str = "filter", chain: str | None = None,
               family: str = "ipv4") -> str | None:
    """Return the policy of `chain` in `table` (None when there is no such chain).

    CLI Example:

        master run '*' iptables.get_policy filter INPUT
    """
    if not chain:
        return "Error: Chain needs to be specified"
    policy = get_rules(ctx, family).get(table, {}).get(chain, {}).get("policy")
    return str(policy) if policy else None


def get_saved_policy(ctx: Context, table: str = "filter", chain: str | None = None,
                     conf_file: str | None = None, family: str = "ipv4") -> str | None:
    """Return the policy of `chain` in `table` as saved in `conf_file`.

    CLI Example:

        master run '*' iptables.get_saved_policy filter INPUT
    """
    if not chain:
        return "Error: Chain needs to be specified"
    saved = get_saved_rules(ctx, conf_file, family)
    policy = saved.get(table, {}).get(chain, {}).get("policy")
    return str(policy) if policy else None


def set_policy(ctx: Context, table: str = "filter", chain: str | None = None,
               policy: str | None = None, family: str = "ipv4") -> str:
    """Set the policy of `chain` in `table`; "" when done, else iptables' error.

    CLI Example:

        master run '*' iptables.set_policy filter INPUT ACCEPT
    """
    if not chain:
        return "Error: Chain needs to be specified"
    if not policy:
        return "Error: Policy needs to be specified"
    argv = [*_base(ctx, family, table), "-P", _word(chain, "chain"), _word(policy, "policy")]
    return _stderr(ctx, argv)


def save(ctx: Context, filename: str | None = None, family: str = "ipv4") -> str:
    """Save the rules in force to `filename` (the distribution's file by default).

    Lines matching a regular expression of the ``iptables.save_filters``
    option are left out.

    CLI Example:

        master run '*' iptables.save /etc/iptables/rules.v4
    """
    path = filename or _save_file(ctx, family)
    text = ctx.run([f"{binary(family)}-save"]).stdout.rstrip()  # as cmd.run_stdout gives it
    filters = [re.compile(p) for p in ctx.opts.get("iptables.save_filters") or []]
    if filters:
        text = "".join(line for line in text.splitlines(True)
                       if not any(f.search(line) for f in filters))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    # Salt writes the whole text as one line, so it always says "1 lines".
    write_atomic(Path(path), f"{text}\n".encode(), new_mode=0o644)
    return f'Wrote 1 lines to "{path}"'


def version(ctx: Context, family: str = "ipv4") -> str:
    """Return the iptables version.

    CLI Example:

        master run '*' iptables.version
    """
    words = ctx.run([binary(family), "--version"]).stdout.split()
    return words[1] if len(words) > 1 else ""
