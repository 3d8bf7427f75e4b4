"""PostgreSQL quoting and password verifiers, for the ``postgres`` module and states."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import stringprep
import unicodedata
from typing import Any

DEFAULT_ENCRYPTION = "md5"  # Salt 3007 still hashes role passwords with md5 by default


class PostgresError(Exception):
    """A psql command could not run or a value cannot be used in SQL."""


# --- quoting -----------------------------------------------------------------


def quote_ident(name: Any) -> str:
    """`name` as an SQL identifier: in double quotes, inner quotes doubled."""
    text = str(name)
    if "\0" in text or not text:
        raise PostgresError(f"Invalid SQL identifier: {text!r}")
    return '"' + text.replace('"', '""') + '"'


def quote_literal(value: Any) -> str:
    """`value` as an SQL string literal, safe whatever standard_conforming_strings says."""
    text = str(value)
    if "\0" in text:
        raise PostgresError("NUL characters cannot be used in SQL strings")
    quoted = "'" + text.replace("'", "''") + "'"
    if "\\" in text:
        return "E" + quoted.replace("\\", "\\\\")
    return quoted


# --- passwords -----------------------------------------------------------------


def _saslprep(text: str) -> str:
    # RFC 4013 as PostgreSQL applies it; when the text is not valid, the
    # server uses the raw password, and so do we.
    mapped = "".join(" " if stringprep.in_table_c12(ch) else ch for ch in text
                     if not stringprep.in_table_b1(ch))
    norm = unicodedata.normalize("NFKC", mapped)
    for ch in norm:
        if (stringprep.in_table_c12(ch) or stringprep.in_table_c21_c22(ch)
                or stringprep.in_table_c3(ch) or stringprep.in_table_c4(ch)
                or stringprep.in_table_c5(ch) or stringprep.in_table_c6(ch)
                or stringprep.in_table_c7(ch) or stringprep.in_table_c8(ch)
                or stringprep.in_table_c9(ch) or stringprep.in_table_a1(ch)):
            return text
    return norm


def scram_sha_256(password: str, salt: bytes | None = None, iterations: int = 4096) -> str:
    """A SCRAM-SHA-256 verifier of `password`, as PostgreSQL stores it."""
    salt = secrets.token_bytes(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", _saslprep(password).encode(), salt, iterations)
    stored = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = [base64.b64encode(v).decode("ascii") for v in (salt, stored, server)]
    return f"SCRAM-SHA-256${iterations}:{b64[0]}${b64[1]}:{b64[2]}"


def md5_password(role: str, password: str) -> str:
    """PostgreSQL's md5 verifier: ``md5`` + md5(password + role name)."""
    return "md5" + hashlib.md5(f"{password}{role}".encode(), usedforsecurity=False).hexdigest()


def encrypt_password(role: str, password: Any, encrypted: Any = DEFAULT_ENCRYPTION) -> str | None:
    """`password` as it is sent to the server: hashed unless it is a hash already."""
    if password is None:
        return None
    text = str(password)
    method = "md5" if encrypted is True else encrypted
    if method not in (False, "md5", "scram-sha-256"):
        raise PostgresError(f"Unknown password algorithm: {encrypted}")
    if method == "scram-sha-256" and not text.startswith("SCRAM-SHA-256"):
        return scram_sha_256(text)
    if method == "md5" and not text.startswith("md5"):
        return md5_password(role, text)
    return text


def verify_password(role: str, password: str, verifier: str | None, method: Any) -> bool:
    """Tell whether the stored `verifier` matches `password` (a plain text or a hash)."""
    if method is True or method == "md5":
        expected = password if password.startswith("md5") else md5_password(role, password)
    elif method == "scram-sha-256":
        if password.startswith("SCRAM-SHA-256"):
            expected = password
        else:
            match = re.match(r"^SCRAM-SHA-256\$(\d+):([^$]+?)\$", verifier or "")
            if not match:
                return False
            expected = scram_sha_256(password, base64.b64decode(match.group(2)),
                                     int(match.group(1)))
    elif method is False:
        expected = password
    else:
        return False
    return verifier == expected
