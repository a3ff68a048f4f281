#!/usr/bin/env python3
"""Scripted sessions with ZooKeeper's own command-line clients against ZK_ADDR.

* ``cli_mt`` (the C client, Debian package zookeeper-bin), one batch command per run.
* ``zkCli.sh`` (the Java client, Debian package zookeeper), one session fed from stdin.

Each step checks the client's output; the script prints one line per check, then
"N passed, N failed", and exits non-zero if any check failed.

    ZK_ADDR=127.0.0.1:22181 python3 tests/cli/cli_session.py
"""

import os
import re
import subprocess
import sys
import time
import uuid

CLI_MT = os.environ.get("CLI_MT", "/usr/lib/zookeeper/bin/cli_mt")
ZKCLI = os.environ.get("ZKCLI", "/usr/share/zookeeper/bin/zkCli.sh")
TIMEOUT = 60

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'}: {name}" + ("" if ok else f"\n    {detail}"))


def cli_mt(addr, command):
    proc = subprocess.run(
        [CLI_MT, "-h", addr, "-c", command],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return proc.stdout + proc.stderr


def expect(name, output, *patterns):
    missing = [p for p in patterns if not re.search(p, output, re.M)]
    check(name, not missing, f"missing {missing!r} in output:\n{output}")


def run_cli_mt(addr):
    root = "/cli-mt-" + uuid.uuid4().hex[:8]
    out = cli_mt(addr, f"create {root}")
    expect("cli_mt create", out, r"rc = 0", rf"name = {root}$")

    out = cli_mt(addr, f"create2 {root}/two")
    expect("cli_mt create2 prints the stat", out, r"rc = 0", rf"name = {root}/two$",
           r"version=0\taversion=0", r"ephemeralOwner = 0$")

    out = cli_mt(addr, f"get {root}")
    # cli_mt's create stores the data "new".
    expect("cli_mt get", out, rf"{root}: rc = 0", r"value_len = 3", r"^new$", r"version=0")

    out = cli_mt(addr, f"set {root} world")
    expect("cli_mt set", out, rf"{root}: rc = 0", r"version=1\taversion=0")

    out = cli_mt(addr, f"get {root}")
    expect("cli_mt get after set", out, r"value_len = 5", r"^world$", r"version=1")

    out = cli_mt(addr, f"create +s {root}/s-")
    expect("cli_mt create sequential", out, rf"name = {root}/s-0000000001$")

    out = cli_mt(addr, f"ls {root}")
    expect("cli_mt ls", out, rf"{root}: rc = 0", r"^\ttwo$", r"^\ts-0000000001$")

    out = cli_mt(addr, f"ls2 {root}")
    expect("cli_mt ls2", out, rf"{root}: rc = 0", r"^\ttwo$", r"version=1")

    out = cli_mt(addr, f"create +e {root}/eph")
    expect("cli_mt create ephemeral", out, rf"name = {root}/eph$")
    # The batch session closed when cli_mt exited, so the ephemeral is gone (or soon).
    deadline = time.monotonic() + TIMEOUT
    out = cli_mt(addr, f"ls {root}")
    while re.search(r"^\teph$", out, re.M) and time.monotonic() < deadline:
        time.sleep(0.5)
        out = cli_mt(addr, f"ls {root}")
    gone = "rc = 0" in out and not re.search(r"^\teph$", out, re.M)
    check("cli_mt ephemeral removed with its session", gone, out)

    out = cli_mt(addr, f"delete {root}")
    expect("cli_mt delete non-empty is NOTEMPTY", out, rf"{root}: rc = -111")

    out = cli_mt(addr, f"get {root}/missing")
    expect("cli_mt get missing is NONODE", out, rf"{root}/missing: rc = -101")

    out = cli_mt(addr, f"create {root}")
    expect("cli_mt create existing is NODEEXISTS", out, r"rc = -110")

    out = cli_mt(addr, "sync /")
    expect("cli_mt sync", out, r"rc = 0", r"name = /$")

    for child in ("two", "s-0000000001"):
        out = cli_mt(addr, f"delete {root}/{child}")
        expect(f"cli_mt delete {child}", out, rf"{root}/{child}: rc = 0")
    out = cli_mt(addr, f"delete {root}")
    expect("cli_mt delete", out, rf"{root}: rc = 0")
    out = cli_mt(addr, "ls /")
    check("cli_mt ls / no longer lists the node", f"\t{root[1:]}" not in out, out)


def zkcli(addr, script):
    host, port = addr.rsplit(":", 1)
    proc = subprocess.run(
        [ZKCLI, "-server", f"{host}:{port}"],
        input=script,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
    )
    return proc.stdout + proc.stderr


def run_zkcli(addr):
    root = "/zkcli-" + uuid.uuid4().hex[:8]
    script = "\n".join([
        f"create {root} hello",
        f"get {root}",
        f"set {root} world",
        f"get -s {root}",
        f"create -s {root}/seq- x",
        f"create -e {root}/eph y",
        f"create -c {root}/box",
        f"create -t 600000 {root}/ttl t",
        f"ls {root}",
        f"ls -s {root}",
        f"stat {root}",
        f"delete {root}",
        f"getEphemerals {root}",
        f"getAllChildrenNumber {root}",
        "addauth digest zkcli:secret",
        f"create {root}/acl a digest:zkcli:{digest('zkcli', 'secret')}:cdrwa",
        f"getAcl {root}/acl",
        "whoami",
        f"addWatch -m PERSISTENT_RECURSIVE {root}",
        f"create {root}/watched w",
        f"get {root}/missing",
        f"deleteall {root}",
        f"ls {root}",
        "quit",
        "",
    ])
    out = zkcli(addr, script)
    expect("zkCli connects", out, r"WatchedEvent state:SyncConnected type:None path:null")
    expect("zkCli create", out, rf"^Created {root}$")
    expect("zkCli get", out, r"^hello$")
    expect("zkCli get -s after set", out, r"^world$", r"^dataVersion = 1$", r"^dataLength = 5$",
           r"^ephemeralOwner = 0x0$", r"^cZxid = 0x[0-9a-f]+$")
    expect("zkCli create sequential", out, rf"^Created {root}/seq-0000000000$")
    expect("zkCli create ephemeral", out, rf"^Created {root}/eph$")
    expect("zkCli create container", out, rf"^Created {root}/box$")
    expect("zkCli create ttl", out, rf"^Created {root}/ttl$")
    expect("zkCli ls", out, r"^\[box, eph, seq-0000000000, ttl\]$")
    expect("zkCli ls -s / stat", out, r"^numChildren = 4$", r"^cversion = 4$")
    expect("zkCli delete non-empty", out, rf"^Node not empty: {root}$")
    expect("zkCli getEphemerals", out, rf"^\[{root}/eph\]$")
    expect("zkCli getAllChildrenNumber", out, r"^4$")
    expect("zkCli create with digest acl", out, rf"^Created {root}/acl$")
    expect("zkCli getAcl", out, r"^'digest,'zkcli:", r"^: cdrwa$")
    expect("zkCli whoami", out, r"^user: zkcli$|^zkcli$|digest: zkcli", r"127\.0\.0\.1")
    expect("zkCli persistent recursive watch event", out,
           rf"WatchedEvent state:SyncConnected type:NodeCreated path:{root}/watched")
    expect("zkCli get missing", out, rf"Node does not exist: {root}/missing")
    expect("zkCli deleteall", out, rf"Node does not exist: {root}$")
    expect("zkCli session closed", out, r"WatchedEvent state:Closed type:None path:null")


def digest(user, password):
    import base64
    import hashlib

    raw = f"{user}:{password}".encode()
    return base64.b64encode(hashlib.sha1(raw).digest()).decode()


def main():
    addr = os.environ.get("ZK_ADDR")
    if not addr:
        print("ZK_ADDR=host:port of the server under test must be set", file=sys.stderr)
        return 2
    for name, runner, binary in (("cli_mt", run_cli_mt, CLI_MT), ("zkCli.sh", run_zkcli, ZKCLI)):
        if not os.access(binary, os.X_OK):
            check(f"{name} is installed at {binary}", False, "apt-get install zookeeper zookeeper-bin")
            continue
        try:
            runner(addr)
        except subprocess.TimeoutExpired as timeout:
            check(f"{name} finished within {timeout.timeout}s", False, str(timeout))
    passed = sum(results)
    failed = len(results) - passed
    print(f"cli: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
