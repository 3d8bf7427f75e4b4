"""Keys, boxes and signatures: the only module that imports nacl.

Each side has a Curve25519 box key and an Ed25519 signing key. Public keys
travel together as `PublicKeys`; a fingerprint is the SHA-256 of the two
public keys, shown as colon-separated hex so operators can compare it out of
band.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
from pathlib import Path

import nacl.exceptions
import nacl.public
import nacl.secret
import nacl.signing
import nacl.utils

from common.atomic import write_atomic

SESSION_KEY_SIZE = nacl.secret.SecretBox.KEY_SIZE


class CryptoError(Exception):
    """A signature did not verify or a box did not open."""


@dataclasses.dataclass(frozen=True)
class PublicKeys:
    """The public half of a key pair: 32-byte box and verify keys."""

    box: bytes
    sign: bytes

    def fingerprint(self) -> str:
        """SHA-256 of both public keys, as colon-separated hex pairs."""
        digest = hashlib.sha256(self.box + self.sign).hexdigest()
        return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))

    def dumps(self) -> str:
        """The text form stored in key files."""
        return (
            f"box: {base64.b64encode(self.box).decode()}\n"
            f"sign: {base64.b64encode(self.sign).decode()}\n"
        )

    @classmethod
    def loads(cls, text: str) -> PublicKeys:
        """Parse the text written by `dumps`; raise CryptoError if it is not one."""
        fields: dict[str, bytes] = {}
        for line in text.splitlines():
            name, _, value = line.partition(":")
            if name.strip() in ("box", "sign"):
                try:
                    fields[name.strip()] = base64.b64decode(value.strip(), validate=True)
                except ValueError:
                    raise CryptoError(f"bad base64 in {name.strip()} key") from None
        try:
            return cls.from_bytes(fields["box"], fields["sign"])
        except KeyError as exc:
            raise CryptoError(f"public key text lacks the {exc.args[0]} key") from None

    @classmethod
    def from_bytes(cls, box: bytes, sign: bytes) -> PublicKeys:
        """Build from raw bytes, checking the sizes."""
        if not isinstance(box, bytes) or not isinstance(sign, bytes):
            raise CryptoError("public keys must be bytes")
        if len(box) != 32 or len(sign) != 32:
            raise CryptoError("public keys must be 32 bytes each")
        return cls(box, sign)


class KeyPair:
    """A private box key and signing key, with their public halves."""

    def __init__(self, box: nacl.public.PrivateKey, sign: nacl.signing.SigningKey) -> None:
        self._box = box
        self._sign = sign
        self.public = PublicKeys(bytes(box.public_key), bytes(sign.verify_key))

    @classmethod
    def generate(cls) -> KeyPair:
        return cls(nacl.public.PrivateKey.generate(), nacl.signing.SigningKey.generate())

    @classmethod
    def load_or_create(cls, pki_dir: Path, name: str) -> KeyPair:
        """Load ``name.pem``/``name.pub`` from `pki_dir`, creating them on first use.

        The directory is made 0700 and the private key file 0600; a private
        key readable by others is refused.
        """
        ensure_private_dir(pki_dir)
        priv_path = pki_dir / f"{name}.pem"
        if priv_path.exists():
            mode = priv_path.stat().st_mode & 0o777
            if mode & 0o077:
                raise CryptoError(
                    f"{priv_path}: private key is readable by others (mode {mode:o}); "
                    "chmod 600 it"
                )
            return cls._parse_private(priv_path)
        pair = cls.generate()
        text = (
            f"box: {base64.b64encode(bytes(pair._box)).decode()}\n"
            f"sign: {base64.b64encode(bytes(pair._sign)).decode()}\n"
        )
        write_private(priv_path, text.encode())
        write_private(pki_dir / f"{name}.pub", pair.public.dumps().encode())
        return pair

    @classmethod
    def _parse_private(cls, path: Path) -> KeyPair:
        # The private file has the same shape as the public one.
        raw = PublicKeys.loads(path.read_text())
        return cls(nacl.public.PrivateKey(raw.box), nacl.signing.SigningKey(raw.sign))

    # -- signatures ---------------------------------------------------------
    def sign(self, data: bytes) -> bytes:
        """Return `data` with a 64-byte Ed25519 signature in front."""
        return bytes(self._sign.sign(data))

    # -- boxes between two long-term keys -----------------------------------
    def box_to(self, peer: PublicKeys) -> PeerBox:
        """An authenticated channel between this key and `peer`'s box key."""
        return PeerBox(nacl.public.Box(self._box, nacl.public.PublicKey(peer.box)))

    def unseal(self, data: bytes) -> bytes:
        """Open a sealed box addressed to this key pair."""
        try:
            return bytes(nacl.public.SealedBox(self._box).decrypt(data))
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
            raise CryptoError(f"sealed box did not open: {exc}") from None


class PeerBox:
    """Encrypt and decrypt between one pair of long-term box keys."""

    def __init__(self, box: nacl.public.Box) -> None:
        self._box = box

    def encrypt(self, data: bytes) -> bytes:
        return bytes(self._box.encrypt(data))

    def decrypt(self, data: bytes) -> bytes:
        try:
            return bytes(self._box.decrypt(data))
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
            raise CryptoError(f"box did not open: {exc}") from None


def verify(signer: bytes, signed: bytes) -> bytes:
    """Check a signature made by the Ed25519 key `signer`; return the message."""
    try:
        return bytes(nacl.signing.VerifyKey(signer).verify(signed))
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError,
            TypeError) as exc:
        raise CryptoError(f"bad signature: {exc}") from None


def seal(recipient: PublicKeys, data: bytes) -> bytes:
    """Encrypt `data` so that only `recipient`'s private box key opens it."""
    return bytes(nacl.public.SealedBox(nacl.public.PublicKey(recipient.box)).encrypt(data))


class SessionKey:
    """The symmetric key every accepted minion shares for reading jobs."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key if key is not None else nacl.utils.random(SESSION_KEY_SIZE)
        if len(self.key) != SESSION_KEY_SIZE:
            raise CryptoError("session key has the wrong size")
        self._box = nacl.secret.SecretBox(self.key)

    def encrypt(self, data: bytes) -> bytes:
        return bytes(self._box.encrypt(data))

    def decrypt(self, data: bytes) -> bytes:
        try:
            return bytes(self._box.decrypt(data))
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
            raise CryptoError(f"session box did not open: {exc}") from None


def random_bytes(size: int) -> bytes:
    return bytes(nacl.utils.random(size))


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and parents) and make it 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def write_private(path: Path, data: bytes) -> None:
    """Write a file atomically with mode 0600 (whatever mode an old one had)."""
    write_atomic(path, data, 0o600, keep_owner=False)
    os.chmod(path, 0o600)
