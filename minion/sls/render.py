"""The jinja context of SLS files, as Salt formulas expect it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from minion.context import Context
from minion.states.jinjactx import template_context


def sls_context(ctx: Context, saltenv: str, sls: str = "", tplfile: str = "",
                extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A template's names (salt, grains, pillar, opts, saltenv) plus sls, slspath, tpldir..."""
    slspath = sls.replace(".", "/") if sls else ""
    if tplfile.endswith("/init.sls"):
        tpldir = slspath
    else:
        tpldir = slspath.rsplit("/", 1)[0] if "/" in slspath else ""
    return template_context(ctx, saltenv, {
        "sls": sls,
        "slspath": tpldir,
        "tpldir": tpldir,
        "tplfile": tplfile,
        "sls_path": tpldir.replace("/", "_"),
        **(extra or {}),
    })
