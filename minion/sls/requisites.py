"""Salt's requisite verdicts: what the results of a chunk's targets mean for it."""

from __future__ import annotations

from typing import Any


def kind_stats(kind: str, rets: list[dict[str, Any] | None]) -> set[str]:
    """Salt's per-kind requisite verdicts (met, fail, change, onfail, onchanges...)."""
    stats: set[str] = set()
    for ret in rets:
        if ret is None:
            stats.add("unmet")
            continue
        if kind.startswith("onfail"):
            if ret["result"] is True:
                stats.add("onfail")
                continue
        elif kind.startswith("onchanges"):
            stats.add("onchanges" if ret["result"] is False or not ret["changes"]
                      else "onchangesmet")
            continue
        elif ret["result"] is False:
            stats.add("fail")
            continue
        if kind.startswith("watch") and ret["changes"]:
            stats.add("change")
            continue
        prereq = kind.startswith("prereq")
        if prereq and ret["result"] is None and kind != "prerequired":
            stats.add("premet")
        if prereq and ret["result"] is not None:
            if kind != "prerequired":
                stats.add("pre")
        elif ret.get("__state_ran__", True):
            stats.add("met")
    if kind.endswith("_any") or kind == "onfail":
        if ("met" in stats or "change" in stats) and "fail" in stats:
            stats.discard("fail")
        if "onchangesmet" in stats:
            stats.discard("onchanges")
            stats.discard("fail")
        if "onfail" in stats and "met" in stats:
            stats.discard("onfail")
    if kind.endswith("_all") and "onfail" in stats:
        stats.discard("met")
    return stats


def status(stats: set[str]) -> str:
    """One verdict from a chunk's requisite verdicts, in Salt's order of precedence."""
    if "unmet" in stats:
        return "unmet"
    if "fail" in stats:
        return "fail"
    if "pre" in stats:
        return "met" if "premet" in stats else "pre"
    if "onfail" in stats and "onchangesmet" not in stats:
        return "onfail"
    if "onchanges" in stats and "onchangesmet" not in stats:
        return "onchanges"
    if "change" in stats:
        return "change"
    if "onfail" in stats:
        return "onfail"
    return "met"
