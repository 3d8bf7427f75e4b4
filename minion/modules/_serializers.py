"""Text formats for slsutil.serialize/deserialize, named as Salt's serializers are.

Not an execution module. Each format is a pair of functions in `FORMATS`;
the YAML and JSON output is Salt's (sorted YAML keys, flow style for leaf
collections unless ``default_flow_style`` says otherwise, no trailing
newline; JSON with ``ensure_ascii`` off).
"""

from __future__ import annotations

import configparser
import io
import json
import plistlib
import pprint
import re
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import msgpack
import yaml

_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):
    """Safe YAML, also for subclasses of str, dict and list (e.g. jinja's Markup)."""


_Dumper.add_multi_representer(str, _Dumper.represent_str)
_Dumper.add_multi_representer(dict, _Dumper.represent_dict)
_Dumper.add_multi_representer(OrderedDict, _Dumper.represent_dict)
_Dumper.add_multi_representer(list, _Dumper.represent_list)
_Dumper.add_representer(tuple, _Dumper.represent_list)


class SerializerError(ValueError):
    """Data that a format cannot write or text it cannot read."""


def yaml_dump(obj: Any, **options: Any) -> str:
    options.setdefault("Dumper", _Dumper)
    options.setdefault("default_flow_style", None)
    text = yaml.dump(obj, **options)
    if text.endswith("\n...\n"):
        return text[:-5]
    return text[:-1] if text.endswith("\n") else text


def yaml_load(text: Any, **options: Any) -> Any:
    return yaml.safe_load(text)


def json_dump(obj: Any, **options: Any) -> str:
    options.setdefault("ensure_ascii", False)
    return json.dumps(obj, **options)


def json_load(text: Any, **options: Any) -> Any:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text)


def python_dump(obj: Any, **options: Any) -> str:
    return pprint.pformat(json.loads(json.dumps(obj)), **options)


def msgpack_dump(obj: Any, **options: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True, **options)


def msgpack_load(data: Any, **options: Any) -> Any:
    options.setdefault("raw", False)
    return msgpack.unpackb(data, **options)


def plist_dump(obj: Any, **options: Any) -> bytes:
    if options.pop("fmt", None) == "FMT_BINARY":
        options["fmt"] = plistlib.FMT_BINARY
    return plistlib.dumps(obj, **options)


def plist_load(data: Any, **options: Any) -> Any:
    return plistlib.loads(data.encode("utf-8") if isinstance(data, str) else data)


def configparser_dump(obj: Any, **options: Any) -> str:
    if not isinstance(obj, dict):
        raise SerializerError(f"configparser can only serialize dictionaries, not {type(obj)}")
    parser = configparser.ConfigParser(**options)
    for name, section in obj.items():
        if not isinstance(section, Mapping):
            parser.set(parser.default_section, str(name), str(section))
            continue
        if name != parser.default_section:
            parser.add_section(str(name))
        for key, val in section.items():
            parser.set(str(name), str(key), str(val))
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


def configparser_load(text: Any, **options: Any) -> dict[str, Any]:
    parser = configparser.ConfigParser(**options)
    parser.read_string(text.decode("utf-8") if isinstance(text, bytes) else text)
    return {name: dict(parser.items(name)) for name in parser.sections()}


def keyvalue_dump(obj: Any, **options: Any) -> str:
    if not isinstance(obj, dict | list | tuple | set):
        raise SerializerError("Input validation failed. Iterable required.")
    sep = options.get("separator", "=")
    pairs = obj.items() if isinstance(obj, dict) else obj
    return str(options.get("line_ending") or "\n").join(f"{k}{sep}{v}" for k, v in pairs)


def keyvalue_load(text: Any, **options: Any) -> dict[str, str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    sep = options.get("separator", "=")
    return dict(line.split(sep, 1) for line in text.splitlines())


# --- TOML (written here; reading is the standard library's) ----------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: Any) -> str:
    text = str(key)
    return text if _BARE_KEY.match(text) else json.dumps(text, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()
                          if v is not None)
        return "{ " + inner + " }" if inner else "{}"
    if value is None:
        raise SerializerError("TOML has no null value")
    return json.dumps(str(value), ensure_ascii=False)


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _toml_table(table: Mapping[Any, Any], path: list[str], out: list[str]) -> None:
    for key, value in table.items():
        if value is not None and not isinstance(value, Mapping) and not _is_table_list(value):
            out.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in table.items():
        sub = [*path, _toml_key(key)]
        if isinstance(value, Mapping):
            out.extend(["", f"[{'.'.join(sub)}]"])
            _toml_table(value, sub, out)
        elif _is_table_list(value):
            for element in value:
                out.extend(["", f"[[{'.'.join(sub)}]]"])
                _toml_table(element, sub, out)


def toml_dump(obj: Any, **options: Any) -> str:
    if not isinstance(obj, Mapping):
        raise SerializerError("TOML can only serialize a mapping")
    out: list[str] = []
    _toml_table(obj, [], out)
    return "\n".join(out).lstrip("\n") + "\n"


def toml_load(text: Any, **options: Any) -> dict[str, Any]:
    return tomllib.loads(text.decode("utf-8") if isinstance(text, bytes) else text)


Dump = Callable[..., Any]
FORMATS: dict[str, tuple[Dump | None, Dump | None]] = {
    "yaml": (yaml_dump, yaml_load),
    "json": (json_dump, json_load),
    "toml": (toml_dump, toml_load),
    "msgpack": (msgpack_dump, msgpack_load),
    "python": (python_dump, None),
    "plist": (plist_dump, plist_load),
    "configparser": (configparser_dump, configparser_load),
    "keyvalue": (keyvalue_dump, keyvalue_load),
}


def function(serializer: str, which: str) -> Dump:
    """The serialize or deserialize function of a format, or a one-line error."""
    pair = FORMATS.get(serializer)
    if pair is None:
        raise SerializerError(f"Serializer '{serializer}' not found.")
    func = pair[0] if which == "serialize" else pair[1]
    if func is None:
        raise SerializerError(f"Serializer '{serializer}' does not implement {which}.")
    return func
