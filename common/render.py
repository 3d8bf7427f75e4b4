"""Rendering SLS files and templates: jinja, then YAML (or what the shebang says).

Sources come from a `TemplateSource` (the master's roots, a masterless
minion's roots, or the minion's cache of the master's files), so
``{% include %}`` and ``{% import %}`` work the same everywhere. Every error
is one `RenderError` line naming the file and line.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import jinja2
import yaml

from common import yamlload
from common.jinjaext import DataExtension

RENDERERS = ("jinja", "yaml", "py")
_SHEBANG = re.compile(r"#!\s*([\w|]+)\s*\n?")


class RenderError(Exception):
    """A template or SLS file that does not render; one line with file and line."""


class TemplateSource(Protocol):
    def get_source(self, env: str, path: str) -> str:
        """The text of `path` (relative to the roots) in `env`; FileNotFoundError if none."""
        ...


def renderer_pipe(text: str, default: str = "jinja|yaml") -> tuple[list[str], str]:
    """The renderers a file asks for with its first line, and the text after it."""
    match = _SHEBANG.match(text)
    pipe = match.group(1) if match else default
    names = [n.strip() for n in pipe.split("|") if n.strip()]
    unknown = [n for n in names if n not in RENDERERS]
    if unknown:
        raise RenderError(f"unknown renderer {unknown[0]!r} in '#!{pipe}'")
    body = text[match.end():] if match else text
    if match:
        body = "\n" + body  # keep line numbers as in the file
    return names, body


class _Loader(jinja2.BaseLoader):
    def __init__(self, source: TemplateSource, env: str) -> None:
        self.source = source
        self.env = env

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        name = template[len("salt://"):] if template.startswith("salt://") else template
        try:
            text = self.source.get_source(self.env, name)
        except (FileNotFoundError, ValueError) as exc:
            raise jinja2.TemplateNotFound(f"{name} ({exc})") from None
        return text, name, lambda: False


def environment(source: TemplateSource | None, env: str) -> jinja2.Environment:
    """A jinja environment with Salt's favourite filters and tests."""
    jenv = jinja2.Environment(
        loader=_Loader(source, env) if source is not None else None,
        # As Salt: an undefined name is an error, not an empty string.
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols", DataExtension],
        keep_trailing_newline=True,
    )
    jenv.filters.update(FILTERS)
    return jenv


def render_jinja(text: str, name: str, context: Mapping[str, Any],
                 source: TemplateSource | None = None, env: str = "base") -> str:
    """Render jinja text; errors become one RenderError line with the line number."""
    jenv = environment(source, env)
    # Globals too, so `{% import 'map.jinja' %}` without `with context`
    # still sees grains, pillar and salt, as in Salt.
    jenv.globals.update(context)
    try:
        return jenv.from_string(text).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or name
        raise RenderError(
            f"{where}, line {exc.lineno}: jinja syntax error: {exc.message}"
        ) from None
    except RenderError:
        raise
    except Exception as exc:
        line = _template_line(exc)
        at = f", line {line}" if line else ""
        raise RenderError(f"{name}{at}: jinja error: {type(exc).__name__}: {exc}") from None


def _template_line(exc: BaseException) -> int | None:
    # jinja rewrites tracebacks so template frames carry the template's line.
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == "<template>" or frame.filename.endswith((".sls", ".jinja")):
            return frame.lineno
    return None


def render_sls(text: str, name: str, context: Mapping[str, Any],
               source: TemplateSource | None = None, env: str = "base",
               default: str = "jinja|yaml") -> Any:
    """Run a file through its renderer pipe and return the data it gives."""
    names, body = renderer_pipe(text, default)
    data: Any = body
    for renderer in names:
        if renderer == "jinja":
            data = render_jinja(str(data), name, context, source, env)
        elif renderer == "yaml":
            try:
                data = yamlload.load(str(data), name)
            except yamlload.YamlError as exc:
                raise RenderError(str(exc)) from None
        else:
            data = _render_py(str(data), name, context)
    return data


def _render_py(text: str, name: str, context: Mapping[str, Any]) -> Any:
    module_name = "sls_" + re.sub(r"\W", "_", name)
    namespace: dict[str, Any] = {"__name__": module_name}
    namespace.update({f"__{k}__": v for k, v in context.items()})
    namespace.update(context)
    try:
        exec(compile(text, name, "exec"), namespace)  # #!py files are code by design
        run = namespace.get("run")
        if not callable(run):
            raise RenderError(f"{name}: a #!py file must define run()")
        return run()
    except RenderError:
        raise
    except Exception as exc:
        line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__))
                     if f.filename == name), None)
        raise RenderError(f"{name}, line {line}: {type(exc).__name__}: {exc}") from None


# -- Salt's extra filters ----------------------------------------------------


def _yaml(value: Any, flow_style: bool | None = True) -> str:
    return yaml.safe_dump(value, default_flow_style=flow_style).rstrip("\n").removesuffix("...")\
        .rstrip("\n")


def _traverse(data: Any, key: str, default: Any = None, delimiter: str = ":") -> Any:
    node = data
    for part in key.split(delimiter):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and _index_ok(part, len(node)):
            node = node[int(part)]
        else:
            return default
    return node


def _index_ok(part: str, size: int) -> bool:
    return part.lstrip("-").isdigit() and -size <= int(part) < size


def _regex_match(text: str, pattern: str, ignorecase: bool = False) -> Any:
    match = re.match(pattern, text, re.I if ignorecase else 0)
    return match.groups() if match else None


def _regex_search(text: str, pattern: str, ignorecase: bool = False) -> Any:
    match = re.search(pattern, text, re.I if ignorecase else 0)
    return match.groups() if match else None


def _regex_replace(text: str, pattern: str, repl: str, ignorecase: bool = False) -> str:
    return re.sub(pattern, repl, text, flags=re.I if ignorecase else 0)


def _unique(values: Any) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


def _sequence(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set):
        return list(value)
    return [value]


FILTERS: dict[str, Callable[..., Any]] = {
    "yaml": _yaml,
    "json": lambda v, sort_keys=True, indent=None: json.dumps(v, sort_keys=sort_keys,
                                                              indent=indent),
    "load_yaml": lambda text: yamlload.load(str(text), "load_yaml"),
    "load_json": lambda text: json.loads(str(text)),
    "traverse": _traverse,
    "regex_match": _regex_match,
    "regex_search": _regex_search,
    "regex_replace": _regex_replace,
    "unique": _unique,
    "sequence": _sequence,
    "yaml_dquote": lambda v: json.dumps(str(v)),
    "yaml_squote": lambda v: "'" + str(v).replace("'", "''") + "'",
    "yaml_encode": lambda v: yaml.safe_dump(v, default_flow_style=True).strip()
    .removesuffix("...").strip(),
    "to_bool": lambda v: str(v).strip().lower() in ("1", "true", "yes", "on", "y")
    if not isinstance(v, bool) else v,
}
