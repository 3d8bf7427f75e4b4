"""Salt's extra jinja filters, tests and globals, for formulas written for Salt.

Data: ``traverse``, ``unique``, ``sequence``, ``to_bool``, ``is_list``,
``is_iter``, ``compare_dicts``, ``compare_lists``, ``flatten``, ``union``...
Text: ``regex_search``/``regex_match``/``regex_replace``, ``yaml_dquote``,
``yaml_squote``, ``yaml_encode``, ``to_num``, ``quote``, ``path_join``...
Hashes and dates: ``md5``, ``sha256``, ``base64_encode``, ``random_hash``,
``strftime``. Tests: ``match``, ``equalto``, ``list``. Globals: ``raise``,
``odict``, ``show_full_context``. The IP filters live in `common.jinjanet`.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import io
import itertools
import json
import os
import posixpath
import random
import re
import shlex
import sys
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import jinja2
import yaml

from common import jinjanet, yamlload


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


# -- text ---------------------------------------------------------------------


def _flags(ignorecase: bool, multiline: bool) -> int:
    return (re.I if ignorecase else 0) | (re.M if multiline else 0)


def regex_search(text: str, pattern: str, ignorecase: bool = False,
                 multiline: bool = False) -> tuple[Any, ...] | None:
    """The groups of the first match anywhere (the whole match when no groups)."""
    match = re.search(pattern, text, _flags(ignorecase, multiline))
    if not match:
        return None
    return match.groups() or (match.group(),)


def regex_match(text: str, pattern: str, ignorecase: bool = False,
                multiline: bool = False) -> tuple[Any, ...] | None:
    """The groups of a match at the start (the whole match when no groups)."""
    match = re.match(pattern, text, _flags(ignorecase, multiline))
    if not match:
        return None
    return match.groups() or (match.group(),)


def regex_replace(text: str, pattern: str, repl: str, ignorecase: bool = False,
                  multiline: bool = False) -> str:
    """Every match of `pattern` replaced by `repl`."""
    return re.compile(pattern, _flags(ignorecase, multiline)).sub(repl, text)


def test_match(text: str, pattern: str, ignorecase: bool = False,
               multiline: bool = False) -> bool:
    """``is match('^a')``: True if the pattern matches at the start."""
    return bool(re.match(pattern, text, _flags(ignorecase, multiline)))


def _emit_quoted(text: Any, double: bool) -> str:
    with io.StringIO() as stream:
        emitter = yaml.emitter.Emitter(stream, width=sys.maxsize)
        if double:
            emitter.write_double_quoted(str(text))
        else:
            emitter.write_single_quoted(str(text))
        return stream.getvalue()


def yaml_dquote(text: Any) -> str:
    """`text` as a double-quoted YAML string."""
    return _emit_quoted(text, True)


def yaml_squote(text: Any) -> str:
    """`text` as a single-quoted YAML string."""
    return _emit_quoted(text, False)


def yaml_encode(value: Any) -> str:
    """A scalar as YAML text (strings double-quoted)."""
    node = yaml.representer.SafeRepresenter().represent_data(value)
    if not isinstance(node, yaml.ScalarNode):
        raise TypeError(f"yaml_encode() only works with YAML scalar data; failed for "
                        f"{type(value)}")
    return yaml_dquote(node.value) if node.tag.endswith(":str") else str(node.value)


def to_num(text: Any) -> Any:
    """An int or float from text, else the text unchanged."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def is_hex(value: Any) -> bool:
    """True if `value` reads as a hexadecimal number."""
    try:
        int(value, 16)
    except (TypeError, ValueError):
        return False
    return True


def human_to_bytes(size: Any, default_unit: str = "B", handle_metric: bool = False) -> int:
    """``2G``/``30MB``/``64KiB`` as a number of bytes (0 if unreadable)."""
    match = re.match(r"(?P<value>[0-9.]*)\s*(?P<unit>.*)$", str(size).strip())
    assert match is not None  # the pattern matches any text
    unit = match.group("unit").lower() or default_unit.lower()
    number: float = to_num(match.group("value"))
    if isinstance(number, str):
        return 0
    metric = False
    if re.match(r"[kmgtpezy]b$", unit):
        metric = handle_metric
    elif not re.match(r"(b|[kmgtpezy](ib)?)$", unit):
        return 0
    power = "bkmgtpezy".index(unit[0])
    return int(number * (10 ** (power * 3) if metric else 2 ** (power * 10)))


def to_snake_case(text: str) -> str:
    """``camelCase`` -> ``camel_case``."""
    out = text[0].lower()
    for i, letter in enumerate(text[1:], 1):
        if letter.isupper() and (text[i - 1].islower()
                                 or (i != len(text) - 1 and text[i + 1].islower())):
            out += "_"
        out += letter.lower()
    return out


def to_camelcase(text: str, uppercamel: bool = False) -> str:
    """``snake_case`` -> ``snakeCase`` (``SnakeCase`` with uppercamel)."""
    words = text.split("_")
    first = words[0].capitalize() if uppercamel else words[0]
    return first + "".join(w.capitalize() for w in words[1:])


def path_join(*parts: Any, use_posixpath: bool = False) -> str:
    """Join paths, even absolute ones: ``'/a' | path_join('/b')`` -> ``/a/b``."""
    if not parts:
        return ""
    normal = [posixpath.normpath(str(p)) for p in parts]
    root, rest = normal[0], [p.lstrip("/") for p in normal[1:]]
    return posixpath.normpath(posixpath.join(root, *rest)) if rest else root


# -- hashes, random, time -----------------------------------------------------


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _digest(algo: str) -> Callable[[Any], str]:
    return lambda value: hashlib.new(algo, _bytes(value)).hexdigest()


def base64_decode(text: Any) -> Any:
    """Decode base64 (text when it is UTF-8, else bytes)."""
    raw = base64.b64decode(_bytes(text))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def random_hash(size: int = 9999999999, hash_type: str | None = None) -> str:
    """The hash (md5 by default) of a random number below `size`."""
    number = random.SystemRandom().randint(0, size)
    return hashlib.new(hash_type or "md5", str(number).encode()).hexdigest()


def file_hashsum(path: str, form: str = "sha256", chunk_size: int = 65536) -> str:
    """The hash of a local file's content."""
    if form not in hashlib.algorithms_available:
        raise ValueError(f"Invalid hash type: {form}")
    digest = hashlib.new(form)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def strftime(date: Any = None, format: str = "%Y-%m-%d") -> str:
    """A date, a timestamp or now, formatted (``%Y-%m-%d`` by default)."""
    if date is None:
        when = datetime.datetime.now()
    elif isinstance(date, datetime.datetime):
        when = date
    else:
        text = str(date)
        try:
            when = datetime.datetime.fromtimestamp(int(text) if text.isdigit() else float(text))
        except ValueError:
            raise ValueError(f"Unable to parse {date}") from None
    return when.strftime(format)


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


def _seeded(seed: Any) -> random.Random:
    if seed is None:
        return random.Random()
    return random.Random(hashlib.sha512(str(seed).encode()).hexdigest())


FILTERS: dict[str, Callable[..., Any]] = {
    **jinjanet.FILTERS,
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
    "regex_search": regex_search, "regex_match": regex_match, "regex_replace": regex_replace,
    "regex_escape": re.escape, "quote": lambda text: shlex.quote(text),
    "yaml_dquote": yaml_dquote, "yaml_squote": yaml_squote, "yaml_encode": yaml_encode,
    "to_num": to_num, "str_to_num": to_num, "is_hex": is_hex,
    "contains_whitespace": lambda text: any(c.isspace() for c in text),
    "human_to_bytes": human_to_bytes, "to_snake_case": to_snake_case,
    "to_camelcase": to_camelcase, "path_join": path_join,
    "to_bytes": _bytes,
    "uuid": lambda value: str(uuid.uuid5(uuid.UUID("91633EBF-1C86-5E33-935A-28061F4B480E"),
                                         str(value))),
    "md5": _digest("md5"), "sha1": _digest("sha1"), "sha256": _digest("sha256"),
    "sha512": _digest("sha512"),
    "base64_encode": lambda value: base64.b64encode(_bytes(value)).decode("ascii"),
    "base64_decode": base64_decode,
    "hmac": lambda text, secret, challenge: base64.b64encode(
        hmac.new(_bytes(secret), _bytes(text), hashlib.sha256).digest()) == _bytes(challenge),
    "hmac_compute": lambda text, secret: hmac.new(_bytes(secret), _bytes(text),
                                                  hashlib.sha256).hexdigest(),
    "random_hash": random_hash, "rand_str": random_hash,
    "random_str": lambda size=32: base64.b64encode(os.urandom(size)).decode()[:size],
    "random_sample": lambda values, size, seed=None: _seeded(seed).sample(values, size),
    "random_shuffle": lambda values, seed=None: _seeded(seed).sample(values, len(values)),
    "file_hashsum": file_hashsum, "strftime": strftime, "date_format": strftime,
    "tojson": tojson,
    "combinations": itertools.combinations,
    "combinations_with_replacement": itertools.combinations_with_replacement,
    "compress": itertools.compress, "permutations": itertools.permutations,
    "product": itertools.product, "zip": zip, "zip_longest": itertools.zip_longest,
}

TESTS: dict[str, Callable[..., Any]] = {
    "match": test_match,
    "equalto": lambda value, other: value == other,
    "list": lambda value: isinstance(value, list),
}

GLOBALS: dict[str, Any] = {
    "raise": _raise,
    "odict": OrderedDict,
    "show_full_context": show_full_context,
}
