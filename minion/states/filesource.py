"""Where a managed file's content comes from: sources, hashes, contents and templates."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common.fileroots import FileServerError, split_url
from common.render import render_jinja
from minion.context import Context
from minion.states.filehelpers import StateError
from minion.states.jinjactx import template_context

_HASH_BY_LENGTH = {32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}
_HEX = re.compile(r"\b[0-9a-fA-F]{32,128}\b")


def fetch_source(ctx: Context, source: Any, saltenv: str) -> tuple[str, Path]:
    """The first source that exists: ``(url, local path)``; StateError if none does.

    A source is a ``salt://`` URL (``?saltenv=`` allowed), a ``file://`` URL or
    an absolute path; a list is tried in order (Salt's ``[{url: hash}]``
    items count by their URL).
    """
    sources = source if isinstance(source, list) else [source]
    urls = [str(next(iter(s))) if isinstance(s, dict) and s else str(s) for s in sources]
    for url in urls:
        found = _fetch_one(ctx, url, saltenv)
        if found is not None:
            return url, found
    if len(urls) == 1:
        return _not_found(urls[0], saltenv)
    raise StateError(f"None of the sources were found in saltenv '{saltenv}': "
                     + ", ".join(urls))


def _not_found(url: str, saltenv: str) -> Any:
    if url.startswith("salt://"):
        _, env = split_url(url, saltenv)
        raise StateError(f"Source file {url} not found in saltenv '{env}'")
    raise StateError(f"Source file {url} not found")


def _fetch_one(ctx: Context, url: str, saltenv: str) -> Path | None:
    if url.startswith("salt://"):
        rel, env = split_url(url, saltenv)
        try:
            return ctx.fileclient().cache_file(env, rel)
        except FileNotFoundError:
            return None
        except FileServerError as exc:
            if "no file" in str(exc):
                return None
            raise
    local = url[len("file://"):] if url.startswith("file://") else url
    if os.path.isabs(local):
        return Path(local) if os.path.isfile(local) else None
    if "://" in url:
        raise StateError(f"Unsupported source {url}: use salt://, file:// or an absolute path")
    raise StateError(f"Invalid source {url}: use a salt:// URL or an absolute path")


def verify_hash(ctx: Context, data: bytes, source_hash: Any, url: str, saltenv: str) -> None:
    """Check `data` against Salt's source_hash (``sha256=...``, bare hex, or a hash file)."""
    algo, digest = expected_hash(ctx, source_hash, url, saltenv)
    actual = hashlib.new(algo, data).hexdigest()
    if actual != digest:
        raise StateError(f"Specified {algo} checksum for {url} ({digest}) does not match "
                         f"actual checksum ({actual})")


def expected_hash(ctx: Context, source_hash: Any, url: str, saltenv: str) -> tuple[str, str]:
    """``(algorithm, lower-case hex digest)`` that Salt's source_hash asks for."""
    text = str(source_hash).strip()
    if text.startswith(("salt://", "file://", "/")):
        text = _hash_from_file(ctx, text, url, saltenv)
    algo, _, digest = text.rpartition("=") if "=" in text else ("", "", text)
    algo = algo.lower() or _HASH_BY_LENGTH.get(len(digest), "")
    if algo not in hashlib.algorithms_guaranteed or not _HEX.fullmatch(digest):
        raise StateError(f"Invalid source_hash {source_hash!r}: use e.g. sha256=<hex digest>")
    return algo, digest.lower()


def _hash_from_file(ctx: Context, hash_url: str, url: str, saltenv: str) -> str:
    _, path = fetch_source(ctx, hash_url, saltenv)
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    base = os.path.basename(url.split("?", 1)[0])
    for line in lines:
        match = _HEX.search(line)
        if match and base in line:
            return match.group(0)
    found = [m.group(0) for line in lines if (m := _HEX.search(line))]
    if len(found) == 1:
        return found[0]
    raise StateError(f"No hash for {base} in source_hash file {hash_url}")


def render(ctx: Context, text: str, template: str | None, name: str, saltenv: str,
           context: Any = None, defaults: Any = None,
           names: Mapping[str, Any] | None = None) -> str:
    """Render `text` with the template engine, or return it when there is none.

    The template sees salt, grains, pillar, opts and saltenv, then `names`
    (for a source file: ``source``, ``name``, ``user``, ``group``, ``mode``,
    ``attrs``, as Salt gives them), then `defaults` and `context`.
    """
    if not template:
        return text
    if str(template).lower() != "jinja":
        raise StateError(f"Specified template format {template} is not supported")
    for arg, value in (("context", context), ("defaults", defaults)):
        if value is not None and not isinstance(value, dict):
            raise StateError(f"{arg} must be a mapping, got {type(value).__name__}")
    extra = {**(names or {}), **(defaults or {}), **(context or {})}
    return render_jinja(text, _template_name(name), template_context(ctx, saltenv, extra),
                        ctx.files, saltenv)


def _template_name(url: str) -> str:
    # salt://a/b.conf?saltenv=x -> a/b.conf, so ./ and ../ imports resolve beside it.
    return url.removeprefix("salt://").split("?", 1)[0] if url.startswith("salt://") else url


def template_names(url: str, name: str, user: Any = None, group: Any = None, mode: Any = None,
                   attrs: Any = None) -> dict[str, Any]:
    """The names Salt gives a managed file's template besides the usual ones."""
    if mode is not None:
        # Salt's normalised mode: a string, zero-padded to four digits.
        mode = str(mode).replace("0o", "0").strip("\"'").lstrip("0").zfill(4)
    return {"source": url, "name": name, "user": user, "group": group, "mode": mode,
            "attrs": attrs}


def source_bytes(ctx: Context, name: str, source: Any, source_hash: Any, skip_verify: bool,
                 template: str | None, saltenv: str, context: Any, defaults: Any,
                 user: Any = None, group: Any = None, mode: Any = None, attrs: Any = None,
                 ) -> tuple[bytes, Path]:
    """The wanted content from a source, verified and rendered; and the source file."""
    url, path = fetch_source(ctx, source, saltenv)
    data = path.read_bytes()
    if source_hash and not skip_verify and not url.startswith("salt://"):
        verify_hash(ctx, data, source_hash, url, saltenv)
    if template:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise StateError(f"{url}: a template must be UTF-8 text") from None
        names = template_names(url, name, user, group, mode, attrs)
        data = render(ctx, text, template, url, saltenv, context, defaults, names).encode()
    return data, path


def contents_text(ctx: Context, contents: Any, contents_pillar: Any, contents_grains: Any,
                  newline: bool, delimiter: str = ":") -> str | None:
    """The text of contents / contents_pillar / contents_grains, or None if none is given."""
    given = [k for k, v in (("contents", contents), ("contents_pillar", contents_pillar),
                            ("contents_grains", contents_grains)) if v is not None]
    if len(given) > 1:
        raise StateError("Only one of 'contents', 'contents_pillar', and 'contents_grains' "
                         "is permitted")
    if not given:
        return None
    value = contents
    for key, mod in ((contents_pillar, "pillar"), (contents_grains, "grains")):
        if key is not None:
            value = ctx.call(f"{mod}.get", key, None, delimiter=delimiter)
            if value is None:
                raise StateError(f"{mod.capitalize()} {key} does not exist")
    if isinstance(value, list | tuple):
        text = "\n".join(str(line) for line in value)
    elif isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
    else:
        text = str(value)
    if newline and not text.endswith("\n"):
        text += "\n"
    return text
