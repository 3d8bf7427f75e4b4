"""Salt's text, hash and date filters for jinja.

    {{ 'lets replace spaces' | regex_replace('\\s+', '_') }}
    {{ value | yaml_dquote }}   {{ '2K' | human_to_bytes }}   {{ 'abc' | sha256 }}
    {{ '1040814000' | strftime('%Y-%m-%d') }}
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import io
import os
import posixpath
import random
import re
import shlex
import sys
import uuid
from collections.abc import Callable
from typing import Any

import yaml


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


def _seeded(seed: Any) -> random.Random:
    # Salt seeds with the sha512 hex digest of the seed's text.
    if seed is None:
        return random.Random()
    return random.Random(hashlib.sha512(str(seed).encode()).hexdigest())


_SALT_UUID = uuid.UUID("91633EBF-1C86-5E33-935A-28061F4B480E")

FILTERS: dict[str, Callable[..., Any]] = {
    "regex_search": regex_search, "regex_match": regex_match, "regex_replace": regex_replace,
    "regex_escape": re.escape, "quote": lambda text: shlex.quote(text),
    "yaml_dquote": yaml_dquote, "yaml_squote": yaml_squote, "yaml_encode": yaml_encode,
    "to_num": to_num, "str_to_num": to_num, "is_hex": is_hex,
    "contains_whitespace": lambda text: any(c.isspace() for c in text),
    "human_to_bytes": human_to_bytes, "to_snake_case": to_snake_case,
    "to_camelcase": to_camelcase, "path_join": path_join, "to_bytes": _bytes,
    "uuid": lambda value: str(uuid.uuid5(_SALT_UUID, str(value))),
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
    "strftime": strftime, "date_format": strftime,
}

TESTS: dict[str, Callable[..., Any]] = {"match": test_match}
