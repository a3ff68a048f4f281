"""Four-letter words on the client port."""

import os
import re

from conftest import four_letter, wait_until

# The server's expected mode: `standalone`, or `follower` when the suite runs against a follower
# of an ensemble (cargo xtask conformance sets it).
MODE = os.environ.get("ZK_EXPECT_MODE", "standalone")


def test_ruok(addr):
    assert four_letter(addr, "ruok") == "imok"


def test_srvr_reports_the_mode(addr):
    text = four_letter(addr, "srvr")
    lines = text.splitlines()
    assert lines[0].startswith("Zookeeper version: ")
    assert f"Mode: {MODE}" in lines
    for key in ("Latency min/avg/max", "Received", "Sent", "Connections", "Outstanding",
                "Zxid", "Node count"):
        assert any(line.startswith(key + ": ") for line in lines), f"no {key} line in {text!r}"
    zxid = next(line for line in lines if line.startswith("Zxid: "))
    assert re.fullmatch(r"Zxid: 0x[0-9a-f]+", zxid)
    count = next(line for line in lines if line.startswith("Node count: "))
    assert int(count.split(": ")[1]) >= 3  # /, /zookeeper, /zookeeper/quota at least


def test_stat_lists_clients(addr, zk):
    text = four_letter(addr, "stat")
    lines = text.splitlines()
    assert lines[0].startswith("Zookeeper version: ")
    assert "Clients:" in lines
    assert f"Mode: {MODE}" in lines
    clients = [line for line in lines if re.match(r" /[0-9.:\[\]a-f]+\[\d+\]\(", line)]
    assert clients, f"no client lines in {text!r}"
    assert all("queued=" in c and "recved=" in c and "sent=" in c for c in clients)


def test_mntr_is_tab_separated(addr, zk, base):
    zk.create(base + "/e", b"", ephemeral=True)
    zk.exists(base, watch=lambda event: None)
    text = four_letter(addr, "mntr")
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("\t")
        assert sep == "\t", f"line without a tab: {line!r}"
        assert key.startswith("zk_"), line
        values[key] = value
    for key in ("zk_version", "zk_server_state", "zk_znode_count", "zk_watch_count",
                "zk_ephemerals_count", "zk_num_alive_connections", "zk_avg_latency",
                "zk_outstanding_requests", "zk_approximate_data_size"):
        assert key in values, f"{key} missing from mntr"
    assert values["zk_server_state"] == MODE
    assert int(values["zk_znode_count"]) >= 5
    assert int(values["zk_watch_count"]) >= 1
    assert int(values["zk_ephemerals_count"]) >= 1
    assert int(values["zk_num_alive_connections"]) >= 1


def test_cons_lists_connections(addr, zk):
    zk.exists("/")
    text = four_letter(addr, "cons")
    entries = [line for line in text.splitlines() if line.startswith(" /")]
    assert entries, f"no connection lines in {text!r}"
    with_session = [e for e in entries if "sid=0x" in e]
    assert with_session
    assert any(f"sid=0x{zk.client_id[0]:x}" in e for e in with_session)


def test_wchs(addr, zk, base):
    zk.get(base, watch=lambda event: None)
    text = four_letter(addr, "wchs")
    match = re.match(r"(\d+) connections watching (\d+) paths\nTotal watches:(\d+)", text)
    assert match, text
    assert int(match.group(1)) >= 1
    assert int(match.group(2)) >= 1
    assert int(match.group(3)) >= 1


def test_conf_has_client_port(addr):
    text = four_letter(addr, "conf")
    keys = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    assert keys["clientPort"] == addr.rsplit(":", 1)[1]
    assert "tickTime" in keys
    assert "maxSessionTimeout" in keys


def test_envi_has_version(addr):
    text = four_letter(addr, "envi")
    assert text.startswith("Environment:")
    assert re.search(r"^zookeeper\.version=\d+\.\d+\.\d+", text, re.M)


def test_isro_is_rw(addr):
    assert four_letter(addr, "isro") == "rw"


def test_kazoo_command_and_server_version(zk):
    assert zk.command(b"ruok") == "imok"
    version = zk.server_version()
    assert len(version) >= 3
    assert all(isinstance(part, int) for part in version)


SRVR_BODY = (
    r"Latency min/avg/max: \d+/\d+(\.\d+)?/\d+\n"
    r"Received: \d+\n"
    r"Sent: \d+\n"
    r"Connections: \d+\n"
    r"Outstanding: \d+\n"
    r"Zxid: 0x[0-9a-f]+\n"
    r"Mode: " + MODE + r"\n"
    r"Node count: \d+\n"
)


def test_srvr_exact_layout(addr):
    text = four_letter(addr, "srvr")
    assert re.fullmatch(r"Zookeeper version: \d+\.\d+\.\d+[^\n]*\n" + SRVR_BODY, text), text


def test_stat_exact_layout(addr, zk):
    text = four_letter(addr, "stat")
    client = r" /127\.0\.0\.1:\d+\[\d+\]\(queued=\d+,recved=\d+,sent=\d+\)\n"
    pattern = (r"Zookeeper version: \d+\.\d+\.\d+[^\n]*\nClients:\n(" + client + r")+\n"
               + SRVR_BODY)
    assert re.fullmatch(pattern, text), text


def test_cons_exact_layout(addr, zk):
    zk.get("/")
    text = four_letter(addr, "cons")
    assert text.endswith("\n\n"), repr(text)
    session = (r",sid=0x[0-9a-f]+,lop=[A-Z]{4},est=\d+,to=\d+,lcxid=0x[0-9a-f]+,"
               r"lzxid=(0x[0-9a-f]+|0xffffffffffffffff),lresp=\d+,llat=\d+,minlat=\d+,"
               r"avglat=\d+,maxlat=\d+")
    line = r" /127\.0\.0\.1:\d+\[\d+\]\(queued=\d+,recved=\d+,sent=\d+(" + session + r")?\)"
    for entry in text.splitlines():
        if entry:
            assert re.fullmatch(line, entry), entry
    mine = [e for e in text.splitlines() if f"sid=0x{zk.client_id[0]:x}," in e]
    assert len(mine) == 1
    assert "to=10000," in mine[0]  # kazoo asked for 10 s; within the server's bounds


def test_counts_agree_with_the_tree(addr, zk, base):
    """srvr's Node count and mntr's zk_znode_count match the tree.

    Apache counts the root twice (its node table holds it under both "" and "/"), so the
    count is the number of nodes below the root plus two.
    """
    for i in range(3):
        zk.create(f"{base}/n{i}", b"")

    def counts_agree():
        total = int(zk.command(b"srvr").split("Node count: ")[1].split()[0])
        mntr = dict(line.split("\t", 1) for line in four_letter(addr, "mntr").splitlines())
        descendants = count_descendants(zk, "/")
        return total == descendants + 2 and int(mntr["zk_znode_count"]) == total

    assert wait_until(counts_agree)


def count_descendants(zk, path):
    count = 0
    for child in zk.get_children(path):
        child_path = path.rstrip("/") + "/" + child
        count += 1 + count_descendants(zk, child_path)
    return count


def test_mntr_values_are_numbers(addr, zk):
    values = dict(line.split("\t", 1) for line in four_letter(addr, "mntr").splitlines())
    for key in ("zk_znode_count", "zk_watch_count", "zk_ephemerals_count",
                "zk_num_alive_connections", "zk_outstanding_requests", "zk_packets_received",
                "zk_packets_sent", "zk_max_latency", "zk_min_latency",
                "zk_approximate_data_size"):
        assert re.fullmatch(r"\d+", values[key]), (key, values[key])
    assert re.fullmatch(r"\d+(\.\d+)?", values["zk_avg_latency"])
    assert re.match(r"\d+\.\d+\.\d+", values["zk_version"])


def test_srvr_zxid_follows_writes(addr, zk, base):
    _path, stat = zk.create(base + "/z", b"", include_data=True)
    zxid = int(four_letter(addr, "srvr").split("Zxid: ")[1].split()[0], 16)
    assert zxid >= stat.czxid
