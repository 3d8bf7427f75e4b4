"""Netfilter rules, chains and policies, like Salt's ``iptables`` states.

.. code-block:: yaml

    allow-ssh:
      iptables.append:
        - chain: INPUT
        - proto: tcp
        - dport: 22
        - jump: ACCEPT
        - save: True

Rule keywords are Salt's (see ``iptables.build_rule``). As in Salt, a
changed rule reports ``changes: {locale: <name>}``.
"""

from __future__ import annotations

from typing import Any

from minion.context import Context
from minion.states import result

__all__ = ["append", "chain_absent", "chain_present", "delete", "flush", "insert", "set_policy"]


def _begin(name: str) -> dict[str, Any]:
    ret = result.new(name)
    ret["result"] = None
    return ret


def _rules(ctx: Context, name: str, table: str, family: str, command: str,
           kwargs: dict[str, Any]) -> tuple[str, str]:
    kwargs.update(name=name, table=table)
    rule = ctx.call("iptables.build_rule", family=family, **kwargs)
    full = ctx.call("iptables.build_rule", full=True, family=family, command=command, **kwargs)
    return str(rule), str(full).strip()


def _saved_differs(ctx: Context, filename: str | None, family: str) -> bool:
    saved = ctx.call("iptables.get_saved_rules", conf_file=filename, family=family)
    live = ctx.call("iptables.get_rules", family=family)

    def rules(tables: dict[str, Any]) -> list[Any]:
        return [chains[c].get("rules") for chains in tables.values() for c in chains]
    return bool(rules(live) != rules(saved))


def _save_target(save: Any) -> str | None:
    return None if save is True else str(save)


def _ensure(ctx: Context, name: str, table: str, family: str, kwargs: dict[str, Any],
            insert_rule: bool) -> dict[str, Any]:
    ret = _begin(name)
    rule, full = _rules(ctx, name, table, family, "I" if insert_rule else "A", kwargs)
    chain = kwargs.get("chain")
    where = (f"for {family} ({full})" if insert_rule else f"({full}) for {family}")
    if ctx.call("iptables.check", table, chain, rule, family) is True:
        ret["result"] = True
        ret["comment"] = f"iptables rule for {name} already set {where}"
        save = kwargs.get("save")
        if save and _saved_differs(ctx, _save_target(save), family):
            out = ctx.call("iptables.save", filename=_save_target(save), family=family)
            ret["comment"] += f"\nSaved iptables rule {name} for {family}\n{full}\n{out}"
        return ret
    if ctx.test:
        ret["comment"] = f"iptables rule for {name} needs to be set {where}"
        return ret
    if insert_rule:
        done = not ctx.call("iptables.insert", table, chain, kwargs.get("position"), rule, family)
    else:
        done = bool(ctx.call("iptables.append", table, chain, rule, family))
    if not done:
        tail = "" if insert_rule else f" for {family}"
        return result.fail(ret, f"Failed to set iptables rule for {name}.\n"
                                f"Attempted rule was {full}{tail}")
    ret["changes"] = {"locale": name}
    ret["result"] = True
    ret["comment"] = f"Set iptables rule for {name} to: {full} for {family}"
    if kwargs.get("save"):
        out = ctx.call("iptables.save", filename=_save_target(kwargs["save"]), family=family)
        ret["comment"] = f"Set and saved iptables rule {name} for {family}\n{full}\n{out}"
    return ret


def append(ctx: Context, name: str, table: str = "filter", family: str = "ipv4",
           **kwargs: Any) -> dict[str, Any]:
    """Make sure a rule is in a chain, appending it at the end when missing.

    name
        A label for the rule (not the rule itself).
    chain
        The chain; the other keywords build the rule, as in
        ``iptables.build_rule``. ``save``: True (the distribution's file) or a
        file name to save the rules to after a change.

    CLI Example:

        minion call --local state.single iptables.append ssh chain=INPUT dport=22 jump=ACCEPT
    """
    return _ensure(ctx, name, table, family, kwargs, insert_rule=False)


def insert(ctx: Context, name: str, table: str = "filter", family: str = "ipv4",
           **kwargs: Any) -> dict[str, Any]:
    """Make sure a rule is in a chain, inserting it at ``position`` when missing.

    name
        A label for the rule.
    position
        Where to insert it (1 is the top).

    CLI Example:

        minion call --local state.single iptables.insert ssh chain=INPUT position=1 jump=ACCEPT
    """
    return _ensure(ctx, name, table, family, kwargs, insert_rule=True)


def delete(ctx: Context, name: str, table: str = "filter", family: str = "ipv4",
           **kwargs: Any) -> dict[str, Any]:
    """Make sure a rule (or the rule at ``position``) is not in a chain.

    CLI Example:

        minion call --local state.single iptables.delete ssh chain=INPUT dport=22 jump=ACCEPT
    """
    ret = _begin(name)
    rule, full = _rules(ctx, name, table, family, "D", kwargs)
    chain = kwargs.get("chain")
    present = ctx.call("iptables.check", table, chain, rule, family) is True
    if not present and "position" not in kwargs:
        return result.done(ret, f"iptables rule for {name} already absent for {family} ({full})")
    if ctx.test:
        ret["comment"] = f"iptables rule for {name} needs to be deleted for {family} ({full})"
        return ret
    if "position" in kwargs:
        out = ctx.call("iptables.delete", table, chain, family=family, position=kwargs["position"])
    else:
        out = ctx.call("iptables.delete", table, chain, family=family, rule=rule)
    if out:
        return result.fail(ret, f"Failed to delete iptables rule for {name}.\n"
                                f"Attempted rule was {full}")
    ret["changes"] = {"locale": name}
    ret["result"] = True
    ret["comment"] = f"Delete iptables rule for {name} {full}"
    if kwargs.get("save"):
        out = ctx.call("iptables.save", filename=_save_target(kwargs["save"]), family=family)
        ret["comment"] = f"Deleted and saved iptables rule {name} for {family}\n{full}\n{out}"
    return ret


def chain_present(ctx: Context, name: str, table: str = "filter",
                  family: str = "ipv4") -> dict[str, Any]:
    """Make sure the user-defined chain `name` exists in `table`.

    CLI Example:

        minion call --local state.single iptables.chain_present MYCHAIN
    """
    ret = _begin(name)
    if ctx.call("iptables.check_chain", table, name, family) is True:
        return result.done(ret, f"iptables {name} chain is already exist in {table} table "
                                f"for {family}")
    if ctx.test:
        ret["comment"] = f"iptables {name} chain in {table} table needs to be set for {family}"
        return ret
    out = ctx.call("iptables.new_chain", table, name, family)
    if out is not True:
        return result.fail(ret, f"Failed to create {name} chain in {table} table: "
                                f"{str(out).strip()} for {family}")
    ret["changes"] = {"locale": name}
    return result.done(ret, f"iptables {name} chain in {table} table create success for {family}")


def chain_absent(ctx: Context, name: str, table: str = "filter",
                 family: str = "ipv4") -> dict[str, Any]:
    """Make sure the user-defined chain `name` is not in `table` (flushed, then deleted).

    CLI Example:

        minion call --local state.single iptables.chain_absent MYCHAIN
    """
    ret = _begin(name)
    if not ctx.call("iptables.check_chain", table, name, family):
        return result.done(ret, f"iptables {name} chain is already absent in {table} table "
                                f"for {family}")
    if ctx.test:
        ret["comment"] = f"iptables {name} chain in {table} table needs to be removed {family}"
        return ret
    flushed = ctx.call("iptables.flush", table, name, family)
    if flushed:
        return result.fail(ret, f"Failed to flush {name} chain in {table} table: "
                                f"{str(flushed).strip()} for {family}")
    out = ctx.call("iptables.delete_chain", table, name, family)
    if out is not True:
        return result.fail(ret, f"Failed to delete {name} chain in {table} table: "
                                f"{str(out).strip()} for {family}")
    ret["changes"] = {"locale": name}
    return result.done(ret, f"iptables {name} chain in {table} table delete success for {family}")


def set_policy(ctx: Context, name: str, table: str = "filter", family: str = "ipv4",
               **kwargs: Any) -> dict[str, Any]:
    """Make sure ``chain`` in `table` has the default ``policy`` (ACCEPT, DROP ...).

    CLI Example:

        minion call --local state.single iptables.set_policy pol chain=INPUT policy=ACCEPT
    """
    ret = _begin(name)
    chain, policy = kwargs.get("chain"), kwargs.get("policy")
    where = f"iptables default policy for chain {chain} on table {table} for {family}"
    if ctx.call("iptables.get_policy", table, chain, family) == policy:
        return result.done(ret, f"{where} already set to {policy}")
    if ctx.test:
        ret["comment"] = f"{where} needs to be set to {policy}"
        return ret
    if ctx.call("iptables.set_policy", table, chain, policy, family):
        return result.fail(ret, "Failed to set iptables default policy")
    ret["changes"] = {"locale": name}
    ret["comment"] = f"Set default policy for {chain} to {policy} family {family}"
    if kwargs.get("save"):
        ctx.call("iptables.save", filename=_save_target(kwargs["save"]), family=family)
        ret["comment"] = f"Set and saved default policy for {chain} to {policy} family {family}"
    return result.done(ret, ret["comment"])


def flush(ctx: Context, name: str, table: str = "filter", family: str = "ipv4",
          **kwargs: Any) -> dict[str, Any]:
    """Flush the rules of ``chain`` (every chain of `table` when none is given).

    CLI Example:

        minion call --local state.single iptables.flush flush-input chain=INPUT
    """
    ret = _begin(name)
    chain = kwargs.get("chain") or ""
    if ctx.test:
        ret["comment"] = (f"iptables rules in {name} table {table} chain {family} family "
                          f"needs to be flushed")
        return ret
    if ctx.call("iptables.flush", table, chain, family):
        return result.fail(ret, "Failed to flush iptables rules")
    ret["changes"] = {"locale": name}
    return result.done(ret, f"Flush iptables rules in {table} table {chain} chain {family} family")
