"""Record Salt's answers for the oracle cases (a development tool, never run by CI).

    python3 tests/oracle/record.py [GLOB ...] [--salt-call PATH] [--check]

runs every call of every case matching a glob (``engine/*``, ``req_*``; all
cases by default) through real ``salt-call --local`` (Salt 3007.15 in its own
virtualenv, ``/tmp/salt-venv`` unless ``--salt-call`` or ``$SALT_CALL`` says
otherwise) and writes the normalised answers to ``expected.json`` beside each
``case.yaml``. Commit those files: the tests compare saline with them and never
need Salt. ``--check`` records nothing and only prints which cases saline
answers differently, with the first difference of each.

The targeting fleet is recorded by ``targeting_record.py`` (Salt's matchers,
in-process) and the outputter texts by ``output_record.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.oracle import oracle


def record(case: oracle.Case) -> str:
    with oracle.fresh_root() as root:
        answers = [a.as_json() for a in oracle.run_case(case, "salt", root)]
    case.expected_file.write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
    return f"recorded {case.name}: " + ", ".join(
        f"{call[0]} rc={a['retcode']}" for call, a in zip(case.calls, answers, strict=True))


def check(case: oracle.Case) -> str:
    if not case.expected_file.exists():
        return f"{case.name}: not recorded"
    want = json.loads(case.expected_file.read_text())
    with oracle.fresh_root() as root:
        got = [a.as_json() for a in oracle.run_case(case, "saline", root)]
    diffs = case.spec.get("differences") or []
    first = oracle.first_difference(oracle.apply_differences(want, diffs),
                                    oracle.apply_differences(got, diffs))
    return f"{case.name}: {'ok' if first is None else 'DIFFERS ' + first}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("globs", nargs="*", default=["*"])
    parser.add_argument("--salt-call", default=oracle.SALT_CALL)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    oracle.SALT_CALL = args.salt_call
    if not args.check and not os.access(args.salt_call, os.X_OK):
        print(f"record.py: no salt-call at {args.salt_call} (see CONTRIBUTING.md)",
              file=sys.stderr)
        return 2
    cases = {c.name: c for g in args.globs for c in oracle.load_cases(g)}
    if not cases:
        print("record.py: no case matches " + " ".join(args.globs), file=sys.stderr)
        return 2
    work = check if args.check else record
    failed = 0
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for line in pool.map(work, cases.values()):
            failed += "DIFFERS" in line or "not recorded" in line
            print(line, flush=True)
    if args.check:
        print(f"{len(cases) - failed}/{len(cases)} cases equal")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
