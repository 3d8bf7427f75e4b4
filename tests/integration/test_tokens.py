"""Join tokens with real master and minion processes."""

from __future__ import annotations

import json

from tests.cluster import Cluster, wait_for


def test_minions_join_with_a_token_within_its_limits(cluster: Cluster) -> None:
    cluster.start_master()
    proc = cluster.master_cmd("key", "token", "create", "--uses", "1", "--match", "web*")
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    cluster.add_minion("web1", join_token=token)
    cluster.wait_answer(["web1"])
    assert cluster.keys()["accepted"] == ["web1"]
    # Used up: the next one waits for a manual accept.
    cluster.add_minion("web2", join_token=token)
    cluster.wait_pending("web2")
    # Wrong id: refused, stays pending.
    other = cluster.master_cmd("key", "token", "create").stdout.strip()
    cluster.add_minion("db1", join_token=other.replace(other.split(".")[0], "ffffffff", 1))
    cluster.wait_pending("db1")
    assert "join token from db1 refused: unknown token" in cluster.master_log()
    listed = json.loads(cluster.master_cmd("key", "token", "list", "--out", "json").stdout)
    assert listed[token.split(".")[0]]["uses_left"] == 0
    # The secret never travels or rests in clear.
    secret = token.split(".")[1]
    assert secret not in cluster.master_log()
    assert secret not in (cluster.master_dir / "pki" / "tokens.json").read_text()


def test_a_token_for_another_master_is_refused(cluster: Cluster) -> None:
    cluster.start_master()
    token = cluster.master_cmd("key", "token", "create").stdout.strip()
    token_id, secret, _ = token.split(".")
    forged = f"{token_id}.{secret}.{'00' * 32}"
    cluster.add_minion("web1", join_token=forged)
    wait_for(lambda: "does not match master_finger" in cluster.minion_log("web1"),
             what="the minion refusing the master")
    assert "web1" not in cluster.keys()["accepted"]
    assert not (cluster.minion_dir("web1") / "pki" / "master.pub").exists()
