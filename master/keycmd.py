"""`master key list|accept|reject|delete|fingerprint`.

Works on the key files directly (so it works while the master is stopped),
then tells a running master what changed so it can wake accepted minions
and rotate the session key when a key is removed.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path
from typing import Any

from common import output
from common.crypto import KeyPair
from common.ids import InvalidId, check_minion_id
from master.keys import KeyStore
from master.localclient import try_notify

TITLES = {"accepted": "Accepted Keys:", "denied": "Denied Keys:",
          "pending": "Unaccepted Keys:", "rejected": "Rejected Keys:"}


def main(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    store = KeyStore(Path(opts["pki_dir"]))
    action = args.key_command
    if action == "list":
        return show_list(store.list(), args.out)
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


def show_fingerprints(store: KeyStore, opts: dict[str, Any], ids: list[str], fmt: str) -> int:
    own = KeyPair.load_or_create(Path(opts["pki_dir"]), "master").public.fingerprint()
    data: dict[str, Any] = {"local": {"master.pub": own}}
    for state, prints in store.fingerprints().items():
        chosen = {m: f for m, f in prints.items() if not ids or _matches_any(m, ids)}
        if chosen:
            data[state] = chosen
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
    if not chosen:
        where = " or ".join(sources)
        print(f"No {where} keys match {' '.join(args.ids) or '--all'}.", file=sys.stderr)
        return 1
    if not args.yes and not confirm(action, chosen):
        return 1
    done = []
    for minion in chosen:
        ok = store.delete(minion) if action == "delete" else store.move(
            minion, "accepted" if action == "accept" else "rejected", sources)
        if ok:
            done.append(minion)
            print(f"Key for minion {minion} {action}ed." if action != "delete"
                  else f"Key for minion {minion} deleted.")
    accepted = done if action == "accept" else []
    removed = done if action != "accept" else []
    try_notify(opts, "keys_changed", accepted=accepted, removed=removed)
    return 0


def confirm(action: str, ids: list[str]) -> bool:
    print(f"The following keys are going to be {action}ed:" if action != "delete"
          else "The following keys are going to be deleted:")
    for minion in ids:
        print(f"  {minion}")
    if not sys.stdin.isatty():
        print("master: error: not a terminal; pass -y to confirm", file=sys.stderr)
        return False
    answer = input("Proceed? [n/Y] ").strip().lower()
    return answer in ("", "y", "yes")


def token_command(args: argparse.Namespace, opts: dict[str, Any]) -> int:
    """`master key token create|list|revoke`."""
    from master.tokens import TokenError, TokenStore, parse_ttl

    pki = Path(opts["pki_dir"])
    tokens = TokenStore(pki)
    try:
        if args.token_command == "create":
            master = KeyPair.load_or_create(pki, "master").public.fingerprint()
            print(tokens.create(master, parse_ttl(args.ttl), args.uses, args.match))
            return 0
        if args.token_command == "list":
            output.emit(tokens.list(), args.out)
            return 0
        if tokens.revoke(args.token_id):
            print(f"Token {args.token_id} revoked.")
            return 0
        print(f"master: no token {args.token_id}", file=sys.stderr)
        return 1
    except TokenError as exc:
        print(f"master: error: {exc}", file=sys.stderr)
        return 2
