"""Salt's data tags for jinja: import and load YAML, JSON or text.

    {% import_yaml 'web/defaults.yaml' as defaults %}
    {% import_json 'web/ports.json' as ports %}
    {% import_text 'web/motd.txt' as motd %}
    {% load_yaml as settings %}port: 80{% endload %}

Imported files are found by the environment's loader (the file roots), the
same way ``{% import %}`` finds templates.
"""

from __future__ import annotations

import json
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

from common import yamlload

KINDS = ("yaml", "json", "text")


def parse_data(kind: str, text: str, source: str) -> Any:
    """YAML, JSON or plain text into data."""
    if kind == "yaml":
        return yamlload.load(text, source)
    if kind == "json":
        return json.loads(text)
    return text


class DataExtension(Extension):
    tags = {f"import_{k}" for k in KINDS} | {f"load_{k}" for k in KINDS}

    def parse(self, parser: Parser) -> nodes.Node:
        token = next(parser.stream)
        kind = token.value.split("_", 1)[1]
        lineno = token.lineno
        if token.value.startswith("import_"):
            source = parser.parse_expression()
            parser.stream.expect("name:as")
            target = parser.parse_assign_target(name_only=True)
            call = self.call_method("_import", [nodes.Const(kind), source], lineno=lineno)
            return nodes.Assign(target, call, lineno=lineno)
        parser.stream.expect("name:as")
        target = parser.parse_assign_target(name_only=True)
        body = parser.parse_statements(("name:endload",), drop_needle=True)
        # Render the block into the variable, then parse it with the matching filter.
        block_filter = nodes.Filter(None, f"load_{kind}" if kind != "text" else "string",
                                    [], [], None, None, lineno=lineno)
        return nodes.AssignBlock(target, block_filter, body, lineno=lineno)

    def _import(self, kind: str, name: str) -> Any:
        loader = self.environment.loader
        if loader is None:
            raise jinja2.TemplateNotFound(name)
        text, filename, _ = loader.get_source(self.environment, name)
        return parse_data(kind, text, filename or name)
