"""`master key list|accept|reject|delete|fingerprint`.

Works on the key files directly, or on the cluster store with
`cluster_store` (so it works while the master is stopped), then tells a
running master what changed so it can wake accepted minions and rotate the
session key when a key is removed; other masters of a cluster hear of it
from the store.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
import time
from typing import Any

from common import output
from common.ids import InvalidId, check_minion_id
from master.keys import KeyStore
from master.localclient import try_notify
from master.store import open_store

TITLES = {"accepted": "Accepted Keys:", "denied": "Denied Keys:",
          "pending": "Unaccepted Keys:", "rejected": "Rejected Keys:"}


def main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    store = open_store(opts).keys()  # the pki files, or the cluster store
    action = args.key_command
    if action == "list":
        try:
            late = wait_for_keys(store, args.wait, args.wait_for)
        except ValueError as exc:
            print(f"master: error: {exc}", file=sys.stderr)
            return 2
        code = show_list(store.list(), args.out)
        if late:
            print(f"master: {late}", file=sys.stderr)
            return 1
        return code
    if action == "fingerprint":
        return show_fingerprints(store, opts, args.ids, args.out)
    if action == "token":
        return token_command(args, opts)
    sources: tuple[str, ...]
    if action == "accept":
        sources = ("pending", "rejected") if args.include_rejected else ("pending",)
    elif action == "reject":
        sources = ("pending", "accepted") if args.include_accepted else ("pending",)
    else:
        sources = ("accepted", "pending", "rejected", "denied")
    return change(store, opts, action, sources, args)


def show_list(keys: dict[str, list[str]], fmt: str) -> int:
    if fmt != "nested":
        output.emit(dict(keys), fmt)
        return 0
    color = output.use_color(sys.stdout)
    shades = {"accepted": output.GREEN, "pending": output.RED, "rejected": output.CYAN,
              "denied": output.RED}
    for state in ("accepted", "denied", "pending", "rejected"):
        print(TITLES[state])
        for minion in keys[state]:
            print(f"{shades[state]}{minion}{output.RESET}" if color else minion)
    return 0


def wait_for_keys(store: KeyStore, wait: float | None, wait_for: str | None) -> str | None:
    """Wait (bounded) for a pending key, or for the `wait_for` ids to have a key.

    Returns None once that is so (or when there is nothing to wait for), else
    one line saying what did not come.
    """
    wanted = [w.strip() for w in (wait_for or "").split(",") if w.strip()]
    for minion in wanted:
        check_minion_id(minion)
    if wait is None and not wanted:
        return None
    limit = 30.0 if wait is None else wait
    if limit < 0:
        raise ValueError(f"--wait must be 0 or more seconds, not {limit:g}")
    deadline = time.monotonic() + limit
    while True:
        keys = store.list()
        known = {m for ids in keys.values() for m in ids}
        missing = [m for m in wanted if m not in known]
        if (wanted and not missing) or (not wanted and keys["pending"]):
            return None
        if time.monotonic() >= deadline:
            if wanted:
                return f"no key from {', '.join(missing)} after {limit:g} s"
            return f"no pending key after {limit:g} s"
        time.sleep(0.1)


def show_fingerprints(store: KeyStore, opts: dict[str, Any], ids: list[str], fmt: str) -> int:
    """The master's fingerprint and the chosen minions' (all without `ids`).

    An id or glob that names no key is an error (exit 1), as a typo must not
    look like a key that has no fingerprint.
    """
    own = open_store(opts).master_pair().public.fingerprint()
    data: dict[str, Any] = {"local": {"master.pub": own}}
    prints = store.fingerprints()
    for state, found in prints.items():
        chosen = {m: f for m, f in found.items() if not ids or _matches_any(m, ids)}
        if chosen:
            data[state] = chosen
    known = [m for found in prints.values() for m in found]
    unknown = [p for p in ids if not any(_matches_any(m, [p]) for m in known)]
    if unknown:
        print(f"master: error: no minion key for {', '.join(unknown)} "
              "(`master key list` shows the known ids)", file=sys.stderr)
        return 1
    output.emit(data, fmt)
    return 0


def _matches_any(minion: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(minion, p) for p in patterns)


def change(store: KeyStore, opts: dict[str, Any], action: str, sources: tuple[str, ...],
           args: argparse.Namespace) -> int:
    if not args.ids and not args.all:
        print(f"master: error: key {action}: name minion ids or use --all", file=sys.stderr)
        return 2
    for pattern in args.ids:
        if not any(ch in pattern for ch in "*?["):
            try:
                check_minion_id(pattern)
            except InvalidId as exc:
                print(f"master: error: {exc}", file=sys.stderr)
                return 2
    keys = store.list()
    chosen = sorted({m for s in sources for m in keys[s] if args.all or _matches_any(m, args.ids)})
    # Salt reports "nothing to do" and exits 0; a named id that cannot be
    # changed is a mistake to fix (exit 1), told with what would fix it.
    misses = [] if args.all else [p for p in args.ids
                                  if not any(_matches_any(m, [p]) for m in chosen)]
    failed = False
    for pattern in misses:
        line, fatal = why_unchanged(action, pattern, keys)
        print(line, file=sys.stderr if fatal else sys.stdout)
        failed = failed or fatal
    if not chosen:
        if args.all:
            print(nothing_to_do(action, sources))
        return 1 if failed else 0
    if not args.yes and not confirm(action, chosen):
        return 1
    done = []
    for minion in chosen:
        ok = store.delete(minion) if action == "delete" else store.move(
            minion, "accepted" if action == "accept" else "rejected", sources)
        if ok:
            done.append(minion)
            print(f"Key for minion {minion} {PAST[action]}.")
    accepted = done if action == "accept" else []
    removed = done if action != "accept" else []
    try_notify(opts, "keys_changed", accepted=accepted, removed=removed)
    return 1 if failed else 0


PAST = {"accept": "accepted", "reject": "rejected", "delete": "deleted"}
# The state a key is in when an action has nothing left to do for it.
DONE_STATE = {"accept": "accepted", "reject": "rejected"}
# The flag that lets an action take keys from one more state.
WIDEN = {("accept", "rejected"): "--include-rejected", ("reject", "accepted"): "--include-accepted"}


def nothing_to_do(action: str, sources: tuple[str, ...]) -> str:
    """The line for --all when no key is in a state the action takes keys from."""
    names = " or ".join("unaccepted" if s == "pending" else s for s in sources)
    if action == "delete":
        return "There are no keys: nothing to delete."
    return f"No {names} keys: nothing to {action}."


def why_unchanged(action: str, pattern: str, keys: dict[str, list[str]]) -> tuple[str, bool]:
    """Why `pattern` picked no key for `action`, and whether that is an error.

    A key already in the wanted state is not an error; a key that needs a flag,
    a denied key or no key at all is.
    """
    states = [s for s in ("accepted", "pending", "rejected", "denied")
              if any(_matches_any(m, [pattern]) for m in keys[s])]
    if not states:
        return (f"master: error: no minion key matches {pattern!r} "
                "(`master key list` shows the known ids)", True)
    glob = any(ch in pattern for ch in "*?[")
    what = f"every key matching {pattern!r}" if glob else f"the key for {pattern}"
    if DONE_STATE.get(action) in states and len(states) == 1:
        return f"{what.capitalize()} is already {DONE_STATE[action]}: nothing to do.", False
    one = f"a key matching {pattern!r}" if glob else what
    for state in states:
        flag = WIDEN.get((action, state))
        if flag:
            return (f"master: error: {one} is {state}; to {action} it anyway, add {flag}",
                    True)
    if "denied" in states:
        return (f"master: error: {one} is denied (a second key for a known id); compare "
                f"`master key fingerprint {pattern}`, then `master key delete {pattern}` "
                "to forget both", True)
    return f"master: error: no {action}able key matches {pattern!r}", True


def confirm(action: str, ids: list[str]) -> bool:
    print(f"The following keys are going to be {PAST[action]}:")
    for minion in ids:
        print(f"  {minion}")
    if not sys.stdin.isatty():
        print("master: error: not a terminal; pass -y to confirm", file=sys.stderr)
        return False
    answer = input("Proceed? [n/Y] ").strip().lower()
    return answer in ("", "y", "yes")


def token_command(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    """`master key token create|list|revoke`."""
    from master.tokens import TokenError, parse_ttl

    stores = open_store(opts)
    tokens = stores.tokens()
    try:
        if args.token_command == "create":
            master = stores.master_pair().public.fingerprint()
            text = tokens.create(master, parse_ttl(args.ttl), args.uses, args.match)
            explain_new_token(text, tokens.list()[text.split(".", 1)[0]])
            # The token alone on stdout: `TOKEN=$(master key token create)` works.
            print(text)
            return 0
        if args.token_command == "list":
            show_tokens(tokens.list(), args.out)
            return 0
        if tokens.revoke(args.token_id):
            print(f"Token {args.token_id} revoked.")
            return 0
        print(f"master: error: no token with id {args.token_id} "
              "(`master key token list` shows them)", file=sys.stderr)
        return 1
    except TokenError as exc:
        print(f"master: error: {exc}", file=sys.stderr)
        return 2


def explain_new_token(text: str, info: dict[str, Any]) -> None:
    """Say on stderr what the new token is, which part is its id, and how to use it."""
    from master.tokens import describe

    token_id = text.split(".", 1)[0]
    print(f"Join token {token_id} created: {describe(info)}.\n"
          f"Token id: {token_id} (the part before the first dot; "
          f"`master key token revoke {token_id}` cancels the token).\n"
          "Secret token, shown only this once: give it to minions as `join_token:` in "
          "their config\nor in SALINE_JOIN_TOKEN:", file=sys.stderr, flush=True)


def show_tokens(listed: dict[str, dict[str, Any]], fmt: str) -> None:
    """One line per token, or for --out json/yaml/txt the data with ISO 8601 UTC times."""
    from master.tokens import describe, iso_utc

    if fmt != "nested":
        output.emit({tid: {**info, "expires": iso_utc(info["expires"])}
                     for tid, info in listed.items()}, fmt)
        return
    if not listed:
        print("No join tokens.")
        return
    print("Join tokens:")
    for token_id, info in listed.items():
        print(f"{token_id}  {describe(info)}")
