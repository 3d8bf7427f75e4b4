"""Rendering SLS files and templates: jinja, then YAML (or what the shebang says).

Sources come from a `TemplateSource` (the master's roots, a masterless
minion's roots, or the minion's cache of the master's files), so
``{% include %}``, ``{% import %}`` and ``import_yaml`` work the same
everywhere; ``./x`` and ``../x`` are relative to the importing file and
never leave the roots. Every error is one `RenderError` line naming the file
and line, with Salt's words for it ("Jinja variable 'x' is undefined",
"Jinja syntax error: ...", PyYAML's message).
"""

from __future__ import annotations

import json
import posixpath
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import jinja2
import jinja2.sandbox

from common import yamlload
from common.jinjaext import DataExtension
from common.jinjafilters import FILTERS, GLOBALS, TESTS

RENDERERS = ("jinja", "yaml", "py")
_SHEBANG = re.compile(r"#!\s*([\w|]+)\s*\n?")
_FILE_OPTIONS = "#jinja2:"


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


class _Environment(jinja2.sandbox.SandboxedEnvironment):
    """Salt's jinja: sandboxed, strict about undefined names, paths relative to the importer."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.relative: dict[str, str] = {}  # resolved name -> name as written
        self.files: set[str] = set()  # names of the templates rendered (for error lines)

    def join_path(self, template: str, parent: str) -> str:
        name = template.removeprefix("salt://")
        if name.split("/", 1)[0] not in (".", ".."):
            return name
        base = posixpath.dirname(parent) if parent else str(self.globals.get("tpldir", ""))
        resolved = posixpath.normpath(posixpath.join("" if base == "." else base, name))
        if resolved.split("/", 1)[0] == "..":
            raise jinja2.TemplateNotFound(f"{template} (not found: outside the file roots)")
        self.relative[resolved] = template
        return resolved


class _Loader(jinja2.BaseLoader):
    def __init__(self, source: TemplateSource, env: str) -> None:
        self.source = source
        self.env = env

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        name = template.removeprefix("salt://")
        try:
            text = self.source.get_source(self.env, name)
        except (FileNotFoundError, ValueError) as exc:
            raise jinja2.TemplateNotFound(f"{name} ({exc})") from None
        if isinstance(environment, _Environment):
            _note_loaded(environment, name)
        return text, name, lambda: False


def _note_loaded(environment: _Environment, name: str) -> None:
    # As Salt: a template loaded without context sees where it was loaded from
    # (tplfile, tpldir), except that a relative import keeps the importer's tpldir.
    environment.files.add(name)
    written = environment.relative.get(name)
    tpldir = posixpath.dirname(name)
    if written is not None:
        tpldir = str(environment.globals.get("tpldir", tpldir))
    environment.globals.update({
        "tplfile": written or name,
        "tpldir": tpldir or ".",
        "tpldot": tpldir.replace("/", "."),
    })


def environment(source: TemplateSource | None, env: str,
                options: Mapping[str, Any] | None = None) -> jinja2.Environment:
    """A jinja environment with Salt's extensions, filters, tests and globals."""
    jenv = _Environment(
        loader=_Loader(source, env) if source is not None else None,
        # As Salt: an undefined name is an error, not an empty string.
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols", DataExtension],
        **(options or {}),
    )
    jenv.filters.update(FILTERS)
    jenv.tests.update(TESTS)
    jenv.globals.update(GLOBALS)
    return jenv


def _options(text: str, context: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """Jinja options from ``jinja_env``/``jinja_sls_env`` and a file's ``#jinja2:`` line."""
    opts = context.get("opts")
    key = "jinja_sls_env" if context.get("sls") else "jinja_env"
    given = opts.get(key) if isinstance(opts, Mapping) else None
    options = _known_options(given if isinstance(given, Mapping) else {})
    lines = text.splitlines(keepends=True)
    at = 1 if lines and lines[0].startswith("#!") and not lines[0].startswith("#!/") else 0
    if at < len(lines) and lines[at].startswith(_FILE_OPTIONS):
        try:
            header = json.loads(lines[at][len(_FILE_OPTIONS):])
        except ValueError:
            header = None
        if isinstance(header, dict):
            options.update(_known_options(header))
            text = "".join(lines[:at] + lines[at + 1:])
    return options, text


def _known_options(given: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in given.items()
            if hasattr(jinja2.defaults, str(k).upper())}


def render_jinja(text: str, name: str, context: Mapping[str, Any],
                 source: TemplateSource | None = None, env: str = "base") -> str:
    """Render jinja text; errors become one RenderError line with the file and line."""
    options, text = _options(text, context)
    jenv = environment(source, env, options)
    # Globals too, so `{% import 'map.jinja' %}` without `with context`
    # still sees grains, pillar and salt, as in Salt.
    jenv.globals.update(context)
    assert isinstance(jenv, _Environment)
    jenv.files.add(name)
    try:
        code = jenv.compile(text, name, name)
        template = jenv.template_class.from_code(jenv, code, jenv.make_globals(None), None)
        out = template.render(**context)
    except Exception as exc:
        raise RenderError(_describe(exc, name, jenv.files)) from None
    # Jinja drops one final newline; Salt puts it back.
    return out + "\n" if text.endswith("\n") else out


def _describe(exc: Exception, name: str, files: set[str]) -> str:
    """One line: where (file, line) and Salt's words for what went wrong."""
    if isinstance(exc, RenderError):
        return str(exc)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = f"{exc.name or exc.filename or name}, line {exc.lineno}"
        return f"{where}: Jinja syntax error: {exc.message}"
    where = _where(exc, name, files)
    if isinstance(exc, jinja2.UndefinedError):
        return f"{where}Jinja variable {exc}"
    if isinstance(exc, jinja2.TemplateRuntimeError | jinja2.sandbox.SecurityError):
        return f"{where}Jinja syntax error: {exc}"
    text = str(exc) or type(exc).__name__
    return f"{where}Jinja error: {text}"


def _where(exc: BaseException, name: str, files: set[str]) -> str:
    # Jinja rewrites tracebacks so template frames carry the template's name and line.
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename in files:
            return f"{frame.filename}, line {frame.lineno}: "
    return f"{name}: "


def path_names(sls: str, tplfile: str, tplpath: str = "") -> dict[str, Any]:
    """Salt's names for where a template is: tplfile, tpldir, tpldot, slspath, sls_path...

    `tplfile` is the file's path under the roots (``web/init.sls``); `tpldir`
    is its directory (``.`` at the top), `slspath` the same (empty at the top).
    """
    slspath = tplfile.rsplit("/", 1)[0] if "/" in tplfile else ""
    names: dict[str, Any] = {
        "tplfile": tplfile,
        "tpldir": slspath or ".",
        "tpldot": slspath.replace("/", "."),
        "slspath": slspath,
        "slsdotpath": slspath.replace("/", "."),
        "slscolonpath": slspath.replace("/", ":"),
        "sls_path": slspath.replace("/", "_"),
    }
    if tplpath:
        names["tplpath"] = tplpath
    if sls:
        names["sls"] = sls
    return names


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
