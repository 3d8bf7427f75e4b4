"""YAML loading for SLS files, with Salt's answers to YAML's traps.

- `on`/`off`/`yes`/`no` are booleans in values, as PyYAML (YAML 1.1) reads
  them and as Salt users expect.
- A mode written ``0644`` would be the octal int 420 to YAML 1.1. Salt's
  loader drops the leading zeros instead (``0644`` -> 644), and the file
  functions read an int's digits as an octal mode, so ``mode: 0644`` means
  what it looks like. We do the same.
- Duplicate keys in one mapping are an error (YAML would silently keep the
  last one, hiding a typo in a formula).
- Errors carry the line and column.
"""

from __future__ import annotations

from typing import Any

import yaml


class YamlError(ValueError):
    """YAML that cannot be loaded; the text has the line and column."""


# libyaml's parser when it is there (several times faster on big SLS files);
# the constructors below are Python either way.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SAFE_LOADER):  # type: ignore[valid-type,misc]
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"unhashable key {key!r}", key_node.start_mark
            ) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen[key] = loader.construct_object(value_node, deep=deep)
    return seen


def _int(loader: _Loader, node: yaml.ScalarNode) -> int:
    text = str(node.value).replace("_", "")
    digits = text.lstrip("+-")
    if len(digits) > 1 and digits.startswith("0") and digits.isdigit():
        # 0644 -> 644, as Salt reads it (not YAML 1.1's octal 420).
        return -int(digits) if text.startswith("-") else int(digits)
    return int(loader.construct_yaml_int(node))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("tag:yaml.org,2002:int", _int)


def load(text: str, source: str = "<string>") -> Any:
    """Load one YAML document; YamlError names `source`, line and column."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise YamlError(f"{source}, {describe(exc)}") from None


def describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)
