"""The network, status and disk execution modules, called for real on this Linux host."""

from __future__ import annotations

import os
import socket
import subprocess
from typing import Any

import psutil
import pytest

from minion.context import Context
from minion.loader import Registry
from minion.modules.disk import parse_df
from minion.modules.network import parse_route_v4, parse_route_v6
from minion.modules.status import parse_cpuinfo, parse_meminfo
from minion.runner import CommandResult, FakeRunner

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self"), reason="needs Linux /proc")


def make_ctx(runner: Any = None) -> Context:
    opts = {"id": "m1"}
    ctx = Context(opts, {"id": "m1"}, {}, Registry.load(opts, {}))
    if runner is not None:
        ctx.runner = runner
    return ctx


@pytest.fixture
def ctx() -> Context:
    return make_ctx()


# --- network -------------------------------------------------------------------------------


def test_interfaces_have_salts_shape(ctx: Context) -> None:
    ifaces = ctx.call("network.interfaces")
    lo = ifaces["lo"]
    assert lo["up"] is True
    assert {"address": "127.0.0.1", "netmask": "255.0.0.0", "broadcast": "",
            "label": "lo"} in lo["inet"]
    for data in ifaces.values():
        assert set(data) <= {"hwaddr", "up", "inet", "inet6"}
        for entry in data.get("inet", []):
            assert set(entry) == {"address", "netmask", "broadcast", "label"}
        for entry in data.get("inet6", []):
            assert set(entry) == {"address", "prefixlen", "scope"}
            assert "%" not in entry["address"] and entry["prefixlen"].isdigit()
    if "inet6" in lo:
        assert {"address": "::1", "prefixlen": "128", "scope": "host"} in lo["inet6"]


def test_ip_addrs_filters(ctx: Context) -> None:
    assert "127.0.0.1" not in ctx.call("network.ip_addrs")
    assert ctx.call("network.ip_addrs", "lo", include_loopback=True) == ["127.0.0.1"]
    assert ctx.call("network.ip_addrs", include_loopback=True, cidr="127.0.0.0/8") == [
        "127.0.0.1"]
    assert ctx.call("network.ip_addrs", "no-such-if0") == []
    public = ctx.call("network.ip_addrs", type="public")
    private = ctx.call("network.ip_addrs", type="private")
    assert sorted(public + private) == ctx.call("network.ip_addrs")
    with pytest.raises(ValueError, match="type"):
        ctx.call("network.ip_addrs", type="odd")
    assert "::1" not in ctx.call("network.ip_addrs6")
    for addr in ctx.call("network.ip_addrs6", include_loopback=True):
        assert ":" in addr and "%" not in addr


def test_hwaddr(ctx: Context) -> None:
    assert ctx.call("network.hwaddr", "lo") == "00:00:00:00:00:00"
    with pytest.raises(ValueError, match="no-such-if0"):
        ctx.call("network.hwaddr", "no-such-if0")


def test_default_route_shape(ctx: Context) -> None:
    routes = ctx.call("network.default_route")
    for route in routes:
        assert set(route) == {"addr_family", "destination", "gateway", "netmask", "flags",
                              "interface"}
        assert "U" in route["flags"]
    assert all(r["addr_family"] == "inet" for r in ctx.call("network.default_route", "inet"))
    assert all(r["destination"] == "::/0" for r in ctx.call("network.default_route", "inet6"))
    with pytest.raises(ValueError, match="family"):
        ctx.call("network.default_route", "ipx")


def test_route_parsers() -> None:
    v4 = ("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
          "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
          "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n")
    assert parse_route_v4(v4) == [{"addr_family": "inet", "destination": "0.0.0.0",
                                   "gateway": "192.168.1.1", "netmask": "0.0.0.0",
                                   "flags": "UG", "interface": "eth0"}]
    zero = "0" * 32
    v6 = (f"{zero} 00 {zero} 00 fe800000000000000000000000000001 00000400 00000001 00000000"
          " 00450003     eth0\n"
          f"{zero} 00 {zero} 00 {zero} ffffffff 00000001 00000000 00200200       lo\n"
          f"fe80{'0' * 28} 40 {zero} 00 {zero} 00000100 00000001 00000000 00000001     eth0\n")
    assert parse_route_v6(v6) == [{"addr_family": "inet6", "destination": "::/0",
                                   "gateway": "fe80::1", "netmask": "", "flags": "UGDAe",
                                   "interface": "eth0"}]


def test_connect_to_a_listening_and_a_closed_port(ctx: Context) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        ret = ctx.call("network.connect", "127.0.0.1", port, timeout=2)
        assert ret == {"result": True, "comment": f"Successfully connected to 127.0.0.1 "
                                                  f"(127.0.0.1) on tcp port {port}"}
    with socket.socket() as probe:  # a port nobody listens on: bind, then close
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    ret = ctx.call("network.connect", "127.0.0.1", str(closed), timeout=2)
    assert ret["result"] is False
    assert ret["comment"].startswith(f"Unable to connect to 127.0.0.1 (127.0.0.1) on tcp port "
                                     f"{closed}")
    assert ctx.call("network.connect", "127.0.0.1", closed, proto="udp")["result"] is True
    with pytest.raises(ValueError, match="proto"):
        ctx.call("network.connect", "127.0.0.1", 80, proto="sctp")
    with pytest.raises(ValueError, match="port"):
        ctx.call("network.connect", "127.0.0.1", 70000)


def test_ping_runs_the_ping_command() -> None:
    out = "4 packets transmitted, 4 received\n"
    runner = FakeRunner({"ping -c 4 -W 1 127.0.0.1": CommandResult(out, "", 0),
                         "ping -c 4 10.9.9.9": CommandResult("100% packet loss\n", "", 1)})
    ctx = make_ctx(runner)
    assert ctx.call("network.ping", "127.0.0.1", timeout=1) == out.rstrip()
    assert ctx.call("network.ping", "127.0.0.1", timeout=1, return_boolean=True) is True
    assert ctx.retcode == 0
    assert ctx.call("network.ping", "10.9.9.9", return_boolean=True) is False
    assert ctx.call("network.ping", "10.9.9.9") == "100% packet loss"
    assert ctx.retcode == 1
    with pytest.raises(ValueError, match="host"):
        ctx.call("network.ping", "-f")


def test_ping_says_when_ping_is_missing() -> None:
    ctx = make_ctx(FakeRunner())  # answers 127 to everything, like a missing command
    with pytest.raises(RuntimeError, match="ping command is not installed"):
        ctx.call("network.ping", "127.0.0.1")


def test_hostname_and_fqdn(ctx: Context) -> None:
    assert ctx.call("network.get_hostname") == socket.gethostname()
    fqdn = ctx.call("network.get_fqdn")
    assert isinstance(fqdn, str) and fqdn


# --- status --------------------------------------------------------------------------------


def test_uptime(ctx: Context) -> None:
    up = ctx.call("status.uptime")
    assert set(up) == {"seconds", "since_iso", "since_t", "days", "time", "users"}
    assert up["seconds"] > 0
    assert up["days"] == up["seconds"] // 86400
    hours, minutes = up["time"].split(":")
    assert 0 <= int(hours) < 24 and 0 <= int(minutes) < 60
    assert isinstance(up["users"], int)


def test_loadavg(ctx: Context) -> None:
    load = ctx.call("status.loadavg")
    assert set(load) == {"1-min", "5-min", "15-min"}
    assert all(isinstance(v, float) and v >= 0 for v in load.values())


def test_meminfo_and_cpuinfo(ctx: Context) -> None:
    mem = ctx.call("status.meminfo")
    assert mem["MemTotal"]["unit"] == "kB" and int(mem["MemTotal"]["value"]) > 0
    assert parse_meminfo("MemTotal:  1024 kB\nHugePages_Total:  0\n") == {
        "MemTotal": {"value": "1024", "unit": "kB"}, "HugePages_Total": {"value": "0"}}
    cpu = ctx.call("status.cpuinfo")
    assert cpu and "processor" in cpu
    assert parse_cpuinfo("processor\t: 0\nflags\t\t: fpu vme\n\nprocessor\t: 1\n") == {
        "processor": "1", "flags": ["fpu", "vme"]}


def test_diskusage(ctx: Context) -> None:
    root = ctx.call("status.diskusage", "/")
    assert list(root) == ["/"]
    assert root["/"]["total"] > 0 and 0 <= root["/"]["available"] <= root["/"]["total"]
    everything = ctx.call("status.diskusage")
    assert "/" in everything
    assert ctx.call("status.diskusage", "no-such-fstype-xyz") == {}
    with pytest.raises(ValueError, match="/no/such/path"):
        ctx.call("status.diskusage", "/no/such/path")


def test_procs_pid_nproc_w(ctx: Context) -> None:
    procs = ctx.call("status.procs")
    me = procs[str(os.getpid())]
    assert set(me) == {"user", "cmd"}
    assert me["cmd"] == " ".join(psutil.Process().cmdline())
    assert "1" in procs
    child = subprocess.Popen(["sleep", "30.123"])  # a process whose command line we know
    try:
        assert ctx.call("status.pid", r"sleep 30\.123").split("\n") == [str(child.pid)]
        assert ctx.call("status.pid", "no-such-process-saline-xyz") == ""
    finally:
        child.kill()
        child.wait()
    with pytest.raises(ValueError, match="sig"):
        ctx.call("status.pid", "(")
    assert ctx.call("status.nproc") == len(os.sched_getaffinity(0))
    for entry in ctx.call("status.w"):
        assert {"user", "tty", "login", "idle", "what"} <= set(entry)


# --- disk ----------------------------------------------------------------------------------


def test_disk_usage_of_root(ctx: Context) -> None:
    usage = ctx.call("disk.usage")
    root = usage["/"]
    assert set(root) == {"filesystem", "1K-blocks", "used", "available", "capacity"}
    assert int(root["1K-blocks"]) > 0 and root["capacity"].endswith("%")
    percent = ctx.call("disk.percent")
    assert percent["/"] == root["capacity"]
    assert ctx.call("disk.percent", "/") == root["capacity"]
    with pytest.raises(ValueError, match="not a mount point"):
        ctx.call("disk.percent", "/no/such/mount")
    with pytest.raises(ValueError, match="unsupported df flag"):
        ctx.call("disk.usage", "t")


def test_disk_inodeusage(ctx: Context) -> None:
    inodes = ctx.call("disk.inodeusage")
    assert set(inodes["/"]) == {"inodes", "used", "free", "use", "filesystem"}
    assert inodes["/"]["use"] == "-" or inodes["/"]["use"].endswith("%")


def test_parse_df_handles_spaces_and_headers() -> None:
    text = ("Filesystem     1024-blocks  Used Available Capacity Mounted on\n"
            "/dev/sda1          1000     250       750      25% /\n"
            "//srv/my share     2000    1000      1000      50% /mnt/my share\n")
    assert parse_df(text) == {
        "/": ("/dev/sda1", "1000", "250", "750", "25%"),
        "/mnt/my share": ("//srv/my share", "2000", "1000", "1000", "50%"),
    }


def test_disk_usage_runs_df_through_the_runner() -> None:
    runner = FakeRunner({"df -P -h": CommandResult(
        "Filesystem Size Used Avail Capacity Mounted on\n/dev/vda 20G 5G 15G 25% /\n", "", 0)})
    ctx = make_ctx(runner)
    assert ctx.call("disk.usage", "h") == {"/": {"filesystem": "/dev/vda", "1K-blocks": "20G",
                                                 "used": "5G", "available": "15G",
                                                 "capacity": "25%"}}
    assert runner.calls[0]["env"] == {"LC_ALL": "C"}
    with pytest.raises(RuntimeError, match="df -iP failed"):
        ctx.call("disk.inodeusage")
