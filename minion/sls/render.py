"""The jinja context of SLS files, as Salt formulas expect it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.render import path_names
from minion.context import Context
from minion.states.jinjactx import template_context


def sls_context(ctx: Context, saltenv: str, sls: str = "", tplfile: str = "",
                extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A template's names (salt, grains, pillar, opts, saltenv) plus sls, slspath, tpldir..."""
    names = path_names(sls, tplfile, _local_path(ctx, saltenv, tplfile))
    names.setdefault("sls", sls)
    return template_context(ctx, saltenv, {**names, **(extra or {})})


def _local_path(ctx: Context, saltenv: str, tplfile: str) -> str:
    """Where the file is on this minion (its root, or the cache of the master's files)."""
    files = ctx.files
    if files is None or not tplfile:
        return ""
    cache = getattr(files, "cache", None)
    if cache is not None:  # the master's files: already cached by the render
        return str(cache / saltenv / tplfile)
    try:
        return str(files.cache_file(saltenv, tplfile))
    except Exception:  # no such file: the render reports it
        return ""
