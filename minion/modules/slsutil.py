"""Helpers for SLS files and templates: merging data, serializing it, asking the file server.

Merging follows Salt's ``dictupdate`` rules exactly (see `_merge`),
serializing uses Salt's serializer names (yaml, json, toml, msgpack,
python, plist, configparser, keyvalue).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from minion.context import Context
from minion.modules import _merge, _serializers

__all__ = [
    "boolstr",
    "deserialize",
    "dir_exists",
    "file_exists",
    "findup",
    "merge",
    "merge_all",
    "path_exists",
    "renderer",
    "serialize",
    "update",
]


def update(ctx: Context, dest: Any, upd: Any, recursive_update: bool = True,
           merge_lists: bool = False) -> Any:
    """Merge ``upd`` into ``dest`` itself, recursively, and return ``dest``.

    merge_lists
        Extend lists found under the same key instead of replacing them.

    CLI Example:

        master run '*' slsutil.update '{foo: Foo}' '{bar: Bar}'
    """
    return _merge.update(dest, upd, recursive_update, merge_lists)


def merge(ctx: Context, obj_a: Any, obj_b: Any, strategy: str = "smart",
          renderer: str = "yaml", merge_lists: bool = False) -> Any:
    """Return ``obj_a`` merged with ``obj_b`` by a strategy.

    strategy
        ``smart`` (the default: ``recurse``, or ``aggregate`` for yamlex),
        ``recurse``, ``overwrite``, ``aggregate``, ``list`` or ``none``.
    renderer
        The renderer the data came from, which ``smart`` looks at.
    merge_lists
        Extend nested lists instead of replacing them.

    CLI Example:

        master run '*' slsutil.merge '{foo: Foo}' '{bar: Bar}'
    """
    return _merge.merge(obj_a, obj_b, strategy, renderer, merge_lists)


def merge_all(ctx: Context, lst: Iterable[Any], strategy: str = "smart",
              renderer: str = "yaml", merge_lists: bool = False) -> Any:
    """Merge a list of mappings into each other in order, as ``slsutil.merge`` does.

    CLI Example:

        master run '*' slsutil.merge_all '[{foo: Foo}, {foo: Bar}]'
    """
    return _merge.merge_all(lst, strategy, renderer, merge_lists)


def serialize(ctx: Context, serializer: str, obj: Any, **mod_kwargs: Any) -> Any:
    """Return data written in a format (yaml, json, toml, msgpack, python, plist...).

    Keyword arguments go to the format's writer, e.g. ``default_flow_style``
    for yaml or ``indent`` for json.

    CLI Example:

        master run '*' slsutil.serialize json '{foo: Foo!}'
    """
    func = _serializers.function(serializer, "serialize")
    return func(obj, **_clean(mod_kwargs))


def deserialize(ctx: Context, serializer: str, stream_or_string: Any,
                **mod_kwargs: Any) -> Any:
    """Return the data that a text in a format (yaml, json, toml...) holds.

    CLI Example:

        master run '*' slsutil.deserialize json '{"foo": "Foo!"}'
    """
    func = _serializers.function(serializer, "deserialize")
    return func(stream_or_string, **_clean(mod_kwargs))


def _clean(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    # Salt drops the __pub_* arguments its job system adds.
    return {k: v for k, v in kwargs.items() if not k.startswith("__")}


def boolstr(ctx: Context, value: Any, true: str = "true", false: str = "false") -> str:
    """Return `true` for a true value and `false` otherwise, for writing config files.

    CLI Example:

        master run '*' slsutil.boolstr True yes no
    """
    return true if value else false


def file_exists(ctx: Context, path: str, saltenv: str = "base") -> bool:
    """Tell whether a file exists on the file server (the state tree).

    CLI Example:

        master run '*' slsutil.file_exists nginx/defaults.yaml
    """
    return path in ctx.call("cp.list_master", saltenv)


def dir_exists(ctx: Context, path: str, saltenv: str = "base") -> bool:
    """Tell whether a directory exists on the file server (the state tree).

    CLI Example:

        master run '*' slsutil.dir_exists nginx/files
    """
    return path in ctx.call("cp.list_master_dirs", saltenv)


def path_exists(ctx: Context, path: str, saltenv: str = "base") -> bool:
    """Tell whether a file or a directory exists on the file server.

    CLI Example:

        master run '*' slsutil.path_exists nginx/defaults.yaml
    """
    return file_exists(ctx, path, saltenv) or dir_exists(ctx, path, saltenv)


def findup(ctx: Context, startpath: str, filenames: str | list[str],
           saltenv: str = "base") -> str:
    """Return the path of the first of `filenames` found in `startpath` or above it.

    startpath
        A directory or file of the state tree to start from ('' is the root).
    filenames
        One name or a list of names to look for.

    CLI Example:

        master run '*' slsutil.findup formula/shared/defaults.yaml
    """
    names = [filenames] if isinstance(filenames, str) else list(filenames)
    if not names or not all(isinstance(n, str) for n in names):
        raise ValueError("Filenames argument must be a string or list of strings")
    start = startpath.strip("/")
    if start and not path_exists(ctx, start, saltenv):
        raise ValueError(f'Starting path not found in the state tree: "{startpath}"')
    if file_exists(ctx, start, saltenv):
        start = start.rpartition("/")[0]
    parts = start.split("/") if start else []
    while True:
        for name in names:
            candidate = "/".join([*parts, name])
            if path_exists(ctx, candidate, saltenv):
                return candidate
        if not parts:
            break
        parts.pop()
    raise ValueError(f"File pattern(s) not found in path ancestry: {', '.join(names)}")


def renderer(ctx: Context, path: str | None = None, string: str | None = None,
             default_renderer: str = "jinja|yaml", **kwargs: Any) -> Any:
    """Run a file of the state tree (or a string) through a renderer pipe; return the data.

    path
        A ``salt://`` URL or a path in the state tree.
    string
        Text to render instead of a file.
    default_renderer
        The pipe used unless the text starts with a ``#!`` line.
    saltenv
        The file server environment (keyword, default ``base``).

    CLI Example:

        master run '*' slsutil.renderer salt://nginx/map.sls
    """
    from common.fileroots import split_url
    from common.render import render_sls
    from minion.sls.render import sls_context

    if bool(path) == bool(string):
        raise ValueError("Must pass either path or string" if not path
                         else "Must not pass both path and string")
    saltenv = str(kwargs.get("saltenv", "base"))
    files = ctx.fileclient() if path else ctx.files
    if path:
        rel, saltenv = split_url(path, saltenv)
        text, name = ctx.fileclient().get_source(saltenv, rel), rel
    else:
        text, name = str(string), "<string>"
    context = sls_context(ctx, saltenv, tplfile=name)
    return render_sls(text, name, context, files, saltenv, default_renderer)
