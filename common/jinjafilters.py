"""Salt's extra jinja filters, tests and globals, for formulas written for Salt.

Data filters live here: ``traverse``, ``unique``, ``sequence``, ``to_bool``,
``is_list``, ``is_iter``, ``compare_dicts``, ``compare_lists``, ``flatten``,
``union``, ``to_entries``, ``set_dict_key_value``, ``json_query``, ``tojson``...
Text, hash and date filters are in `common.jinjatext`, IP filters in
`common.jinjanet`, file and host filters in `common.jinjahost`; `FILTERS`
gathers them all. Tests: ``match``, ``equalto``, ``list``. Globals:
``raise``, ``odict``, ``show_full_context``.
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import jinja2

from common import jinjahost, jinjanet, jinjatext, yamlload


class TemplateRaise(Exception):
    """``{{ raise('message') }}`` in a template: the render fails with that message."""


# -- data ---------------------------------------------------------------------


def traverse(data: Any, key: Any, default: Any = None, delimiter: str = ":") -> Any:
    """The value at ``a:b:0`` in nested dicts and lists, else `default`."""
    node = data
    parts = key.split(delimiter) if isinstance(key, str) else [key] if isinstance(key, int) \
        else key
    for part in parts:
        if isinstance(node, list):
            found, node = _list_step(node, part)
            if not found:
                return default
            continue
        try:
            node = node[part]
        except (KeyError, TypeError, IndexError):
            # "1" also finds the key 1 (the part read as YAML), as in Salt.
            loaded = _yamlified(part)
            if loaded == part:
                return default
            try:
                node = node[loaded]
            except (KeyError, TypeError, IndexError):
                return default
    return node


def _list_step(node: list[Any], part: Any) -> tuple[bool, Any]:
    try:
        index: Any = int(part)
    except (TypeError, ValueError):
        index = part
    for item in node:  # a list of one-key dicts is looked into first
        if isinstance(item, dict) and index in item:
            return True, item[index]
    if isinstance(index, int):
        try:
            return True, node[index]
        except IndexError:
            return False, None
    return False, None


def _yamlified(part: Any) -> Any:
    if not isinstance(part, str):
        return part
    try:
        return yamlload.load(part)
    except yamlload.YamlError:
        return part


def unique(values: Any) -> Any:
    """The values without repeats, in first-seen order (a set for a hashable input)."""
    if _hashable(values):
        return set(values)
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


def _hashable(value: Any) -> bool:
    # Salt's test for "a set, not a list": tuples and strings are hashable too.
    return isinstance(value, Hashable)


def sequence(value: Any) -> Any:
    """A list of `value` unless it already is a list, tuple, set or dict."""
    return value if isinstance(value, list | tuple | set | dict) else [value]


def to_bool(value: Any) -> bool:
    """Salt's truth: 'yes'/'1'/'true' (any case), a positive int, a non-empty collection."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() in ("yes", "1", "true")
    if isinstance(value, int):
        return value > 0
    if not isinstance(value, Hashable):
        return len(value) > 0
    return False


def is_iter(value: Any, ignore: Any = (str,)) -> bool:
    """True if `value` is iterable and not a string."""
    if ignore and isinstance(value, ignore):
        return False
    try:
        iter(value)
    except TypeError:
        return False
    return True


def compare_dicts(old: Any = None, new: Any = None) -> dict[str, Any]:
    """What changed between two dicts: ``{key: {old, new}}``."""
    old, new = old or {}, new or {}
    out: dict[str, Any] = {}
    for key in set(new).union(old):
        if key not in old:
            out[key] = {"old": "", "new": new[key]}
        elif key not in new:
            out[key] = {"new": "", "old": old[key]}
        elif new[key] != old[key]:
            out[key] = {"old": old[key], "new": new[key]}
    return out


def compare_lists(old: Any = None, new: Any = None) -> dict[str, Any]:
    """Items added (``new``) and removed (``old``) between two lists."""
    out: dict[str, Any] = {}
    for item in new:
        if item not in old:
            out.setdefault("new", []).append(item)
    for item in old:
        if item not in new:
            out.setdefault("old", []).append(item)
    return out


def flatten(data: Any, levels: int | None = None, preserve_nulls: bool = False) -> list[Any]:
    """Nested lists made flat (`levels` deep at most); nulls dropped unless kept."""
    out: list[Any] = []
    for item in data:
        if not preserve_nulls and item in (None, "None", "null"):
            continue
        if is_iter(item) and (levels is None or levels >= 1):
            out.extend(flatten(item, None if levels is None else int(levels) - 1,
                               preserve_nulls))
        else:
            out.append(item)
    return out


def _set_op(hashed: Callable[[set[Any], set[Any]], set[Any]],
            listed: Callable[[Any, Any], list[Any]]) -> Callable[[Any, Any], Any]:
    def apply(first: Any, second: Any) -> Any:
        if _hashable(first) and _hashable(second):
            return hashed(set(first), set(second))
        return unique(listed(first, second))
    return apply


union = _set_op(lambda a, b: a | b, lambda a, b: a + b)
intersect = _set_op(lambda a, b: a & b, lambda a, b: [x for x in a if x in b])
difference = _set_op(lambda a, b: a - b, lambda a, b: [x for x in a if x not in b])
symmetric_difference = _set_op(
    lambda a, b: a ^ b,
    lambda a, b: [x for x in union(a, b) if x not in intersect(a, b)])


def to_entries(data: Any) -> list[dict[str, Any]]:
    """A dict (or list) as ``[{key, value}]``."""
    if isinstance(data, dict):
        return [{"key": k, "value": v} for k, v in data.items()]
    if isinstance(data, list):
        return [{"key": i, "value": v} for i, v in enumerate(data)]
    raise ValueError("Input data must be a dict or list")


def from_entries(entries: Iterable[Mapping[str, Any]]) -> dict[Any, Any]:
    """``[{key|name, value}]`` back into a dict."""
    out: dict[Any, Any] = {}
    for entry in entries:
        lower = {str(k).lower(): v for k, v in entry.items()}
        for field in ("key", "name"):
            if lower.get(field):
                out[lower[field]] = lower.get("value")
                break
    return out


def _walk_to(data: dict[Any, Any], keys: str, delimiter: str) -> tuple[dict[Any, Any], str]:
    *path, last = keys.split(delimiter)
    node = data
    for key in path:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ValueError(f"Cannot create keys in {type(node).__name__}")
    return node, last


def set_dict_key_value(data: dict[Any, Any], keys: str, value: Any,
                       delimiter: str = ":") -> dict[Any, Any]:
    """Set ``a:b:c`` in `data` to `value`, creating the dicts on the way."""
    node, last = _walk_to(data, keys, delimiter)
    node[last] = value
    return data


def _grow(method: str, empty: Callable[[], Any]) -> Callable[..., dict[Any, Any]]:
    def grow(data: dict[Any, Any], keys: str, value: Any, delimiter: str = ":") -> dict[Any, Any]:
        node, last = _walk_to(data, keys, delimiter)
        if node.get(last) is None:
            node[last] = empty()
        getattr(node[last], method)(value)
        return data
    return grow


def json_query(data: Any, expr: str) -> Any:
    """Query data with a JMESPath expression (needs the jmespath package)."""
    try:
        import jmespath  # optional, as in Salt
    except ImportError:
        raise RuntimeError("json_query requires jmespath module installed") from None
    return jmespath.search(expr, data)


def tojson(value: Any, indent: int | None = None, **options: Any) -> str:
    """JSON safe to embed in HTML/YAML: ``<``, ``>``, ``&`` and ``'`` escaped."""
    options.setdefault("ensure_ascii", True)
    if indent is not None:
        options["indent"] = indent
    text = json.dumps(value, **options)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escape)
    return text


def method_call(obj: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``obj.name(*args)``; None if there is no such method."""
    return getattr(obj, name, lambda *a, **k: None)(*args, **kwargs)


def _raise(message: Any) -> Any:
    raise TemplateRaise(str(message))


@jinja2.pass_context
def show_full_context(context: Any) -> Any:
    """Every name the template sees; values that are not plain data shown by their repr."""
    return _simple(dict(context.items()))


def _simple(value: Any) -> Any:
    if isinstance(value, dict):
        return {k if isinstance(k, str | int | float | bool) or k is None else repr(k):
                _simple(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_simple(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


FILTERS: dict[str, Callable[..., Any]] = {
    **jinjanet.FILTERS, **jinjatext.FILTERS, **jinjahost.FILTERS,
    "traverse": traverse, "unique": unique, "sequence": sequence, "to_bool": to_bool,
    "is_list": lambda value: isinstance(value, list), "is_iter": is_iter,
    "compare_dicts": compare_dicts, "compare_lists": compare_lists, "flatten": flatten,
    "union": union, "intersect": intersect, "difference": difference,
    "symmetric_difference": symmetric_difference,
    "min": min, "max": max,
    "avg": lambda v: float(v) if _hashable(v) else float(sum(v) / len(v)),
    "to_entries": to_entries, "from_entries": from_entries,
    "set_dict_key_value": set_dict_key_value,
    "update_dict_key_value": _grow("update", dict),
    "append_dict_key_value": _grow("append", list),
    "extend_dict_key_value": _grow("extend", list),
    "exactly_n_true": lambda values, amount=1: sum(1 for v in values if v) == amount,
    "exactly_one_true": lambda values: sum(1 for v in values if v) == 1,
    "substring_in_list": lambda text, values: any(text in s for s in values),
    "sorted_ignorecase": lambda values: sorted(values, key=lambda x: x.lower()),
    "json_query": json_query, "method_call": method_call, "skip": lambda value: "",
    "tojson": tojson,
    "combinations": itertools.combinations,
    "combinations_with_replacement": itertools.combinations_with_replacement,
    "compress": itertools.compress, "permutations": itertools.permutations,
    "product": itertools.product, "zip": zip, "zip_longest": itertools.zip_longest,
}

TESTS: dict[str, Callable[..., Any]] = {
    **jinjatext.TESTS,
    "equalto": lambda value, other: value == other,
    "list": lambda value: isinstance(value, list),
}

GLOBALS: dict[str, Any] = {
    "raise": _raise,
    "odict": OrderedDict,
    "show_full_context": show_full_context,
}
