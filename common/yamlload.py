"""YAML loading for SLS files, pillar and ``import_yaml``, read the way Salt reads it.

- `on`/`off`/`yes`/`no` are booleans, as PyYAML (YAML 1.1) reads them.
- A leading zero does not make an int octal: ``0644`` is 644 (Salt strips
  the zeros), so ``mode: 0644`` means what it looks like; ``-0644`` and
  ``0o644``-style values are left to YAML, as Salt leaves them.
- Timestamps stay strings (``2024-01-01`` is not turned into a date).
- A key written twice in one mapping is an error ("found conflicting ID"),
  but a key written next to a merge key (``<<: *anchor``) wins over the
  anchor's value of that key.
- Errors carry the file, line and column, and PyYAML's own words.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode


class YamlError(ValueError):
    """YAML that cannot be loaded; the text has the line and column."""


# libyaml's parser when it is there (several times faster on big SLS files);
# the constructors below are Python either way.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAPPING = "while constructing a mapping"


class _Loader(_SAFE_LOADER):  # type: ignore[valid-type,misc]
    def flatten_mapping(self, node: MappingNode) -> None:
        """Resolve merge keys: merged pairs first, then the explicit ones, which win."""
        merged: list[tuple[Any, Any]] = []
        explicit: list[tuple[Any, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged.extend(_merge_pairs(self, node, value_node))
            else:
                if key_node.tag == "tag:yaml.org,2002:value":
                    key_node.tag = "tag:yaml.org,2002:str"
                explicit.append((key_node, value_node))
        if merged:
            written = [key.value for key, _ in explicit]
            explicit = [pair for pair in merged if pair[0].value not in written] + explicit
        node.value = explicit


def _merge_pairs(loader: _Loader, node: MappingNode, value_node: Any) -> list[tuple[Any, Any]]:
    if isinstance(value_node, MappingNode):
        loader.flatten_mapping(value_node)
        return list(value_node.value)
    if not isinstance(value_node, SequenceNode):
        raise yaml.constructor.ConstructorError(
            _MAPPING, node.start_mark,
            f"expected a mapping or list of mappings for merging, but found {value_node.id}",
            value_node.start_mark)
    pairs: list[tuple[Any, Any]] = []
    # Later mappings of a merge list come first (YAML's rule: earlier ones win,
    # and a key found twice is then reported as a conflict, as Salt does).
    for sub in reversed(value_node.value):
        if not isinstance(sub, MappingNode):
            raise yaml.constructor.ConstructorError(
                _MAPPING, node.start_mark,
                f"expected a mapping for merging, but found {sub.id}", sub.start_mark)
        loader.flatten_mapping(sub)
        pairs.extend(sub.value)
    return pairs


def _mapping(loader: _Loader, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                _MAPPING, node.start_mark, f"found unacceptable key {key_node.value}",
                key_node.start_mark) from None
        value = loader.construct_object(value_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                _MAPPING, node.start_mark, f"found conflicting ID '{key}'", key_node.start_mark)
        seen[key] = value
    return seen


def _int(loader: _Loader, node: ScalarNode) -> int:
    text = str(node.value)
    if text != "0" and text.startswith("0") and not text.startswith(("0b", "0x")):
        # 0644 -> 644, as Salt reads it (not YAML 1.1's octal 420).
        node.value = text.lstrip("0") or "0"
    return int(loader.construct_yaml_int(node))


def _timestamp(loader: _Loader, node: ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("tag:yaml.org,2002:int", _int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def load(text: str, source: str = "<string>") -> Any:
    """Load one YAML document; YamlError names `source`, line and column."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise YamlError(f"{source}, {describe(exc)}") from None


def describe(exc: yaml.YAMLError) -> str:
    """Where and what: ``line L, column C: <PyYAML's context>: <PyYAML's problem>``."""
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    mark = problem_mark or context_mark
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    if context:
        started = ""
        if context_mark is not None and _at(context_mark) != _at(mark):
            started = f" (line {context_mark.line + 1}, column {context_mark.column + 1})"
        problem = f"{context}{started}: {problem}"
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)


def _at(mark: Any) -> tuple[int, int] | None:
    return None if mark is None else (mark.line, mark.column)
