"""Salt's serializer extension for jinja: data tags, format filters, printable dicts.

    {% import_yaml 'web/defaults.yaml' as defaults %}
    {% import_json './ports.json' as ports with context %}
    {% import_text 'web/motd.txt' as motd %}
    {% load_yaml as settings %}port: {{ port }}{% endload %}
    {{ settings | yaml }}  {{ settings | json }}  {{ settings | yaml(False) }}

An imported file is a template: it is rendered with jinja first (seeing the
importer's names with ``with context``, the globals without), then parsed.
Printed mappings look like YAML flow mappings (``{'a': 1}``), as in Salt.
"""

from __future__ import annotations

import json
import pprint
from collections import OrderedDict
from typing import Any

import jinja2
import yaml
from jinja2 import nodes
from jinja2.environment import TemplateModule
from jinja2.ext import Extension
from jinja2.parser import Parser
from markupsafe import Markup

from common import yamlload

KINDS = ("yaml", "json", "text")


class _Dumper(yaml.SafeDumper):
    """Salt's YAML dumper: ordered dicts keep their order, unknown objects are NULL."""


_Dumper.add_representer(OrderedDict, lambda d, data: d.represent_dict(list(data.items())))
_Dumper.add_representer(None,  # type: ignore[arg-type]  # None: any other type
                        lambda d, data: d.represent_scalar("tag:yaml.org,2002:null", "NULL"))


def dump_yaml(value: Any, flow_style: bool | None = True) -> str:
    """YAML text of `value` (flow style by default), without the end-of-document mark."""
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=flow_style,
                     allow_unicode=True).strip()
    return text.removesuffix("\n...")


def dump_json(value: Any, sort_keys: bool = True, indent: int | None = None) -> str:
    """JSON text of `value` (keys sorted, non-ASCII kept)."""
    return json.dumps(value, sort_keys=sort_keys, indent=indent, ensure_ascii=False).strip()


def yaml_filter(value: Any, flow_style: bool | None = True) -> Markup:
    """``{{ data | yaml }}``: flow-style YAML (block style with ``yaml(False)``)."""
    return Markup(dump_yaml(value, flow_style))


def json_filter(value: Any, sort_keys: bool = True, indent: int | None = None) -> Markup:
    """``{{ data | json }}``: JSON with sorted keys."""
    return Markup(dump_json(value, sort_keys, indent))


def sls_params_filter(value: Any, flow_style: bool | None = False) -> Markup:
    """``{{ args | dict_to_sls_yaml_params }}``: a dict as a YAML list of one-key dicts."""
    return Markup(dump_yaml([{k: v} for k, v in value.items()], flow_style))


def _text(value: Any) -> str:
    return str(value) if isinstance(value, TemplateModule) else value


def _origin(value: Any) -> str:
    name = getattr(value, "__name__", None) if isinstance(value, TemplateModule) else None
    return f"{name}, " if name else ""


def load_yaml(value: Any) -> Any:
    """Parse YAML text (or a rendered imported template)."""
    try:
        return yamlload.load(_text(value), "")
    except yamlload.YamlError as exc:
        where = str(exc).removeprefix(", ")
        raise jinja2.TemplateRuntimeError(
            f"Encountered error loading yaml: {_origin(value)}{where}") from None
    except AttributeError:
        raise jinja2.TemplateRuntimeError(f"Unable to load yaml from {value}") from None


def load_json(value: Any) -> Any:
    """Parse JSON text (or a rendered imported template)."""
    try:
        return json.loads(_text(value))
    except (ValueError, TypeError, AttributeError):
        raise jinja2.TemplateRuntimeError(f"Unable to load json from {value}") from None


def parse_data(kind: str, text: str, source: str) -> Any:
    """YAML, JSON or plain text into data (YamlError/ValueError when it does not parse)."""
    if kind == "yaml":
        return yamlload.load(text, source)
    if kind == "json":
        return json.loads(text)
    return text


class PrintableDict(OrderedDict[Any, Any]):
    """A mapping that prints as ``{'key': value}`` (never ``OrderedDict([...])``)."""

    def __str__(self) -> str:
        return self._show(str)

    def __repr__(self) -> str:
        return self._show(repr)

    def _show(self, other: Any) -> str:
        items = (f"{k!r}: {_safe_repr(v) if isinstance(v, str) else other(v)}"
                 for k, v in self.items())
        return "{" + ", ".join(items) + "}"


def _safe_repr(text: str) -> str:
    # A repr of a multi-line string would put a literal \n into YAML; quote it for YAML instead.
    if any(c in text for c in "\n\r\t"):
        return yaml.safe_dump(text, default_style='"', default_flow_style=True,
                              width=2**31 - 1).rstrip("\n").removesuffix("...").rstrip("\n")
    return repr(text)


def printable(value: Any) -> Any:
    """`value` with its mappings made printable as YAML-friendly ``{...}``."""
    if isinstance(value, dict):
        return PrintableDict((k, printable(v)) for k, v in value.items())
    if type(value) in (list, tuple, set):
        return type(value)(printable(v) for v in value)
    return value


class DataExtension(Extension):
    """``import_yaml``/``import_json``/``import_text``, ``load_*`` blocks, ``profile``."""

    tags = {f"import_{k}" for k in KINDS} | {f"load_{k}" for k in KINDS} | {"profile"}

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        environment.filters.update({
            "yaml": yaml_filter,
            "json": json_filter,
            "python": lambda v: Markup(pprint.pformat(v).strip()),
            "load_yaml": load_yaml,
            "load_json": load_json,
            "load_text": _text,
            "dict_to_sls_yaml_params": sls_params_filter,
        })
        environment.finalize = printable

    def parse(self, parser: Parser) -> nodes.Node | list[nodes.Node]:
        tag = parser.stream.current.value
        if tag == "profile":
            return self._parse_profile(parser)
        if tag.startswith("load_"):
            return self._parse_load(parser, tag)
        # `{% import_yaml X as v [with context] %}` is `{% import X as v %}`, then
        # the rendered module goes through the load_yaml filter.
        node = parser.parse_import()
        lineno = node.lineno
        converted = nodes.Filter(nodes.Name(node.target, "load"), f"load_{tag[7:]}",
                                 [], [], None, None, lineno=lineno)
        return [node, nodes.Assign(nodes.Name(node.target, "store"), converted,
                                   lineno=lineno)]

    def _parse_load(self, parser: Parser, tag: str) -> list[nodes.Node]:
        lineno = next(parser.stream).lineno
        parser.stream.expect("name:as")
        target = parser.parse_assign_target()
        macro = "_" + parser.free_identifier().name
        body = parser.parse_statements(("name:endload",), drop_needle=True)
        call = nodes.Call(nodes.Name(macro, "load"), [], [], None, None, lineno=lineno)
        return [nodes.Macro(macro, [], [], body, lineno=lineno),
                nodes.Assign(target, nodes.Filter(call, tag, [], [], None, None,
                                                  lineno=lineno), lineno=lineno)]

    def _parse_profile(self, parser: Parser) -> list[nodes.Node]:
        # Salt logs how long the block took; we only render the block.
        next(parser.stream)
        parser.stream.expect("name:as")
        parser.parse_expression()
        return parser.parse_statements(("name:endprofile",), drop_needle=True)
