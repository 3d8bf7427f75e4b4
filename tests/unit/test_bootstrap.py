"""master bootstrap's pure parts: the key trust rule, the minion config, the wheels."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata as md
import io
import zipfile
from pathlib import Path

import pytest
import yaml

from common.crypto import KeyPair
from master.keys import KeyStore
from master.ssh import bootstrap_host, wheelhouse
from master.ssh.bootstrap import MINION_UNIT, minion_config, trust
from master.ssh.roster import entry
from master.ssh.session import HostFailed

ROOT = Path(__file__).resolve().parents[2]


def test_the_unit_sent_is_contribs() -> None:
    assert (ROOT / "contrib/systemd/saline-minion.service").read_text() == MINION_UNIT


def test_minion_config_names_the_master_and_takes_roster_minion_opts() -> None:
    host = entry("web1", {"minion_opts": {"log_level": "debug", "master_port": 5000}}, "r")
    text = minion_config(host, {"master": "10.0.0.1", "master_port": 4506,
                                "master_finger": "ab:cd"})
    assert text.startswith("# Written by `master bootstrap`")
    assert yaml.safe_load(text) == {"id": "web1", "master": "10.0.0.1", "master_port": 5000,
                                    "master_finger": "ab:cd", "log_level": "debug"}


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "pki")


def test_trust_accepts_a_new_key_once(store: KeyStore) -> None:
    host, pub = entry("m1", {}, "r"), KeyPair.generate().public
    assert trust(host, store, pub.dumps()) == (pub.fingerprint(), True)
    assert store.read("accepted", "m1") == pub
    assert trust(host, store, pub.dumps()) == (pub.fingerprint(), False)


def test_trust_moves_the_same_pending_key(store: KeyStore) -> None:
    pub = KeyPair.generate().public
    store.backend.add("pending", "m1", pub, replace=False)
    assert trust(entry("m1", {}, "r"), store, pub.dumps()) == (pub.fingerprint(), True)
    assert store.list()["accepted"] == ["m1"] and store.list()["pending"] == []


@pytest.mark.parametrize("state", ["pending", "accepted", "rejected", "denied"])
def test_trust_refuses_when_the_master_holds_another_key(store: KeyStore, state: str) -> None:
    held, pub = KeyPair.generate().public, KeyPair.generate().public
    store.backend.add(state, "m1", held, replace=False)
    with pytest.raises(HostFailed) as err:
        trust(entry("m1", {}, "r"), store, pub.dumps())
    line = str(err.value)
    assert f"{state} key" in line and held.fingerprint() in line and pub.fingerprint() in line
    assert "\n" not in line
    assert store.read(state, "m1") == held and store.list()["accepted"] == (
        ["m1"] if state == "accepted" else [])


def test_trust_refuses_the_same_key_rejected(store: KeyStore) -> None:
    pub = KeyPair.generate().public
    store.backend.add("rejected", "m1", pub, replace=False)
    with pytest.raises(HostFailed, match="rejected on the master"):
        trust(entry("m1", {}, "r"), store, pub.dumps())


def test_trust_refuses_what_is_no_key(store: KeyStore) -> None:
    with pytest.raises(HostFailed, match="no usable minion key"):
        trust(entry("m1", {}, "r"), store, "box: nonsense\n")


def test_dependencies_follow_requirements_and_markers() -> None:
    deps = wheelhouse.dependencies("saline")
    assert {"pyzmq", "pynacl", "msgpack", "jinja2", "pyyaml", "psutil", "markupsafe"} <= deps
    assert "pytest" not in deps  # an extra's
    assert {"cffi", "pycparser"} <= deps  # pynacl's on CPython, and cffi's in turn


def test_repack_makes_a_wheel_whose_record_matches(tmp_path: Path) -> None:
    dist = md.distribution("pyyaml")
    wheel = wheelhouse.repack(dist, tmp_path)
    assert wheel.name.startswith(f"pyyaml-{dist.version}-") and wheel.suffix == ".whl"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        info = f"pyyaml-{dist.version}.dist-info"
        assert {f"{info}/WHEEL", f"{info}/METADATA", f"{info}/RECORD", "yaml/__init__.py"} <= names
        assert not any(n.endswith(".pyc") or n.startswith("..") for n in names)
        record = list(csv.reader(io.StringIO(zf.read(f"{info}/RECORD").decode())))
        for path, digest, size in record:
            if path.endswith("RECORD"):
                continue
            data = zf.read(path)
            want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == f"sha256={want.decode()}" and int(size) == len(data)
    assert wheelhouse.repack(dist, tmp_path) == wheel  # cached by name


def test_host_write_file_changes_only_what_differs(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "minion"
    assert bootstrap_host.write_file(str(path), "id: a\n", 0o600) is True
    assert bootstrap_host.write_file(str(path), "id: a\n", 0o600) is False
    assert path.stat().st_mode & 0o777 == 0o600
    assert bootstrap_host.write_file(str(path), "id: b\n", 0o600) is True
    assert path.read_text() == "id: b\n" and [p.name for p in path.parent.iterdir()] == ["minion"]
