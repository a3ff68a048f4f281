"""Four-letter words on the client port."""

import re

from conftest import four_letter


def test_ruok(addr):
    assert four_letter(addr, "ruok") == "imok"


def test_srvr_is_standalone(addr):
    text = four_letter(addr, "srvr")
    lines = text.splitlines()
    assert lines[0].startswith("Zookeeper version: ")
    assert "Mode: standalone" in lines
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
    assert "Mode: standalone" in lines
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
    assert values["zk_server_state"] == "standalone"
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
