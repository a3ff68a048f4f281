"""Server semantics clients rely on: zxids, watch de-duplication, limits, session life."""

import struct
import threading

import pytest
from kazoo.client import KazooClient
from kazoo.protocol.states import EventType, KazooState

import rawzk
from conftest import WAIT, EventLog, four_letter


@pytest.fixture
def raw(addr):
    client = rawzk.RawClient(addr)
    yield client
    try:
        client.close()
    except Exception:  # noqa: BLE001 - a test may have closed it already
        client.drop()


def marker_flush(raw, base):
    """Fires a one-shot watch on ``base`` and returns every event up to and including it."""
    before = len(raw.events)
    raw.get_data(base, watch=True)
    raw.set_data(base, b"marker")
    events = raw.wait_events(before + 1)
    raw.take_events()
    assert events[-1][0] == rawzk.NODE_DATA_CHANGED and events[-1][2] == base, events
    return [(t, p) for t, _s, p in events[:-1]]


# zxids.


def test_failed_write_consumes_a_zxid(raw, base):
    """Every state-changing request takes a zxid, even one that fails."""
    _path, first = raw.create(base + "/a")
    _xid, err, _body = raw.call(rawzk.CREATE2, rawzk.create_body(base + "/a"))
    assert err == rawzk.NODE_EXISTS
    _path, second = raw.create(base + "/b")
    assert second["czxid"] >= first["czxid"] + 2


def test_reads_do_not_consume_zxids(raw, base):
    _path, first = raw.create(base + "/a")
    for _ in range(5):
        raw.get_data(base + "/a")
        raw.exists(base + "/missing")
        raw.get_children(base)
    _path, second = raw.create(base + "/b")
    # Only unrelated writes (say, another session expiring) may come in between.
    assert second["czxid"] > first["czxid"]
    assert raw.last_zxid >= second["czxid"]


def test_multi_consumes_one_zxid(raw, base):
    ops = [(rawzk.CREATE, rawzk.create_body(base + f"/m{i}")) for i in range(3)]
    raw.request(rawzk.MULTI, rawzk.multi_body(ops))
    stats = [raw.exists(base + f"/m{i}") for i in range(3)]
    assert len({s["czxid"] for s in stats}) == 1


def test_null_data_reads_back_as_null(raw, base):
    body = (rawzk.ustring(base + "/null") + rawzk.buffer(None)
            + rawzk.acl_vector(rawzk.OPEN_ACL) + struct.pack("!i", 0))
    raw.request(rawzk.CREATE, body)
    data, stat = raw.get_data(base + "/null")
    assert data is None
    assert stat["dataLength"] == 0


# Watch de-duplication and scope.


def test_one_notification_per_connection_on_delete(raw, base):
    path = base + "/dedup"
    raw.create(path)
    raw.get_data(path, watch=True)
    raw.exists(path, watch=True)
    raw.get_children(path, watch=True)
    raw.delete(path)
    assert marker_flush(raw, base) == [(rawzk.NODE_DELETED, path)]


def test_one_notification_per_connection_on_data_change(raw, base):
    path = base + "/dedup"
    raw.create(path)
    raw.get_data(path, watch=True)
    raw.exists(path, watch=True)
    raw.set_data(path, b"x")
    raw.set_data(path, b"y")
    assert marker_flush(raw, base) == [(rawzk.NODE_DATA_CHANGED, path)]


def test_create_fires_created_and_parent_children_changed(raw, base):
    parent = base + "/parent"
    raw.create(parent)
    child = parent + "/child"
    raw.exists(child, watch=True)
    raw.get_children(parent, watch=True)
    raw.get_data(parent, watch=True)
    raw.create(child)
    events = marker_flush(raw, base)
    assert sorted(events) == sorted([(rawzk.NODE_CREATED, child),
                                     (rawzk.NODE_CHILDREN_CHANGED, parent)])


def test_child_watch_ignores_grandchildren_and_data(raw, base):
    parent = base + "/p"
    raw.create(parent)
    raw.create(parent + "/c")
    raw.get_children(parent, watch=True)
    raw.create(parent + "/c/grandchild")
    raw.set_data(parent + "/c", b"data")
    raw.set_data(parent, b"data")
    assert marker_flush(raw, base) == []


def test_set_acl_fires_no_watch(raw, base):
    path = base + "/acl"
    raw.create(path)
    raw.get_data(path, watch=True)
    body = rawzk.ustring(path) + rawzk.acl_vector(rawzk.OPEN_ACL) + struct.pack("!i", -1)
    raw.request(7, body)
    assert marker_flush(raw, base) == []


def test_multi_fires_a_watch_per_op(raw, base, addr):
    a, b = base + "/a", base + "/b"
    raw.create(a)
    raw.get_data(a, watch=True)
    raw.exists(b, watch=True)
    raw.get_children(base, watch=True)
    writer = rawzk.RawClient(addr)
    try:
        ops = [(rawzk.SET_DATA, rawzk.ustring(a) + rawzk.buffer(b"1") + struct.pack("!i", -1)),
               (rawzk.CREATE, rawzk.create_body(b))]
        writer.request(rawzk.MULTI, rawzk.multi_body(ops))
    finally:
        writer.close()
    events = raw.wait_events(3)
    assert sorted((t, p) for t, _s, p in events) == sorted([
        (rawzk.NODE_DATA_CHANGED, a),
        (rawzk.NODE_CREATED, b),
        (rawzk.NODE_CHILDREN_CHANGED, base),
    ])


def test_failed_multi_fires_no_watch(raw, base):
    a = base + "/a"
    raw.create(a)
    raw.get_data(a, watch=True)
    ops = [(rawzk.SET_DATA, rawzk.ustring(a) + rawzk.buffer(b"1") + struct.pack("!i", -1)),
           (rawzk.CHECK, rawzk.ustring(a) + struct.pack("!i", 99))]
    results = rawzk.read_multi(raw.request(rawzk.MULTI, rawzk.multi_body(ops)))
    assert [e for _t, e, _r in results] == [0, rawzk.BAD_VERSION]
    assert marker_flush(raw, base) == []


def test_watches_die_with_their_connection(raw, base, addr):
    path = base + "/w"
    raw.create(path)
    other = rawzk.RawClient(addr)
    other.get_data(path, watch=True)
    other.close()
    raw.get_data(path, watch=True)
    raw.set_data(path, b"x")
    # Only the live connection hears about it; the closed one must not break the server.
    assert [(t, p) for t, _s, p in raw.wait_events(1)] == [(rawzk.NODE_DATA_CHANGED, path)]


def test_ephemeral_cleanup_fires_parent_child_watch(raw, base, addr):
    owner = rawzk.RawClient(addr)
    owner.create(base + "/e", flags=1)
    raw.get_children(base, watch=True)
    raw.exists(base + "/e", watch=True)
    owner.close()
    events = raw.wait_events(2)
    assert sorted((t, p) for t, _s, p in events) == sorted([
        (rawzk.NODE_CHILDREN_CHANGED, base),
        (rawzk.NODE_DELETED, base + "/e"),
    ])


def test_set_watches_reports_deleted_nodes(addr, base):
    first = rawzk.RawClient(addr)
    data_node, child_node = base + "/d", base + "/c"
    first.create(data_node)
    first.create(child_node)
    last_zxid = first.last_zxid
    first.drop()
    writer = rawzk.RawClient(addr)
    writer.delete(data_node)
    writer.delete(child_node)
    writer.close()
    second = rawzk.RawClient(addr, session_id=first.session_id, password=first.password,
                             last_zxid=last_zxid)
    try:
        body = (struct.pack("!q", last_zxid) + rawzk.string_vector([data_node])
                + rawzk.string_vector([]) + rawzk.string_vector([child_node]))
        assert second.call(rawzk.SET_WATCHES, body, xid=-8)[:2] == (-8, 0)
        events = second.wait_events(2)
        assert sorted((t, p) for t, _s, p in events) == sorted([
            (rawzk.NODE_DELETED, data_node),
            (rawzk.NODE_DELETED, child_node),
        ])
    finally:
        second.close()


# Connection limits and session life.


def test_client_ahead_of_the_server_is_refused(addr):
    """A ConnectRequest whose lastZxidSeen is ahead of the server gets no session."""
    with pytest.raises((rawzk.Closed, ConnectionError, OSError)):
        rawzk.RawClient(addr, last_zxid=1 << 50)


def test_oversized_frame_closes_the_connection(raw):
    raw.sock.sendall(struct.pack("!i", 2 * 1024 * 1024) + b"\0" * 1024)
    with pytest.raises((rawzk.Closed, ConnectionError, OSError)):
        raw.ping()
        raw.ping()


def test_explicitly_closed_session_cannot_be_reattached(addr):
    client = rawzk.RawClient(addr)
    session_id, password = client.session_id, client.password
    client.close()
    again = rawzk.RawClient(addr, session_id=session_id, password=password)
    try:
        assert again.timeout_ms == 0
        assert again.session_id == 0
    finally:
        again.drop()


def test_many_sessions_get_distinct_ids(addr):
    clients = [rawzk.RawClient(addr) for _ in range(64)]
    try:
        ids = {c.session_id for c in clients}
        assert len(ids) == 64
        assert 0 not in ids
        assert all(c.ping() == (-2, 0) for c in clients)
    finally:
        for c in clients:
            c.close()


def test_idle_session_is_kept_alive_by_pings(make_client, zk, base):
    """kazoo pings an idle connection; the session outlives several timeouts."""
    idle = make_client(timeout=6.0)
    path = idle.create(base + "/alive", b"", ephemeral=True)
    states = []
    idle.add_listener(states.append)
    # Wait (not a timing assertion) for well over the negotiated session timeout.
    threading.Event().wait(idle._session_timeout / 1000 * 2.5)
    assert states == []
    assert idle.state == KazooState.CONNECTED
    assert zk.exists(path).ephemeralOwner == idle.client_id[0]


def test_kazoo_read_only_client_gets_a_read_write_session(addr, base):
    client = KazooClient(hosts=addr, timeout=10.0, read_only=True)
    client.start(timeout=WAIT)
    try:
        assert client.client_state == "CONNECTED"
        client.create(base + "/rw", b"")
    finally:
        client.stop()
        client.close()


def test_kazoo_chroot(zk, base, addr):
    chrooted = KazooClient(hosts=addr + base, timeout=10.0)
    chrooted.start(timeout=WAIT)
    try:
        assert chrooted.create("/inside", b"x") == "/inside"
        assert zk.get(base + "/inside")[0] == b"x"
        assert chrooted.create("/seq-", b"", sequence=True) == "/seq-0000000001"
        log = EventLog()
        chrooted.get("/inside", watch=log)
        zk.set(base + "/inside", b"y")
        events = log.wait_for(1)
        assert [(e.type, e.path) for e in events] == [(EventType.CHANGED, "/inside")]
        assert chrooted.sync("/") == "/"
    finally:
        chrooted.stop()
        chrooted.close()


# More four-letter words.


def test_dump_lists_sessions_and_ephemerals(addr, zk, base):
    path = zk.create(base + "/eph", b"", ephemeral=True)
    text = four_letter(addr, "dump")
    assert text.startswith("SessionTracker dump:")
    assert "ephemeral nodes dump:" in text
    assert f"0x{zk.client_id[0]:x}" in text
    assert f"\t{path}" in text


def test_wchc_and_wchp(addr, zk, base):
    zk.get(base, watch=lambda event: None)
    sid = f"0x{zk.client_id[0]:x}"
    by_connection = four_letter(addr, "wchc")
    assert sid in by_connection.splitlines()
    assert f"\t{base}" in by_connection.splitlines()
    by_path = four_letter(addr, "wchp")
    lines = by_path.splitlines()
    assert base in lines
    assert f"\t{sid}" in lines[lines.index(base) + 1:]


def test_dirs_crst_srst_gtmk(addr):
    dirs = four_letter(addr, "dirs").splitlines()
    assert dirs[0].startswith("datadir_size: ")
    assert dirs[1].startswith("logdir_size: ")
    assert int(dirs[0].split(": ")[1]) >= 0
    assert four_letter(addr, "crst") == "Connection stats reset.\n"
    assert four_letter(addr, "srst") == "Server stats reset.\n"
    assert four_letter(addr, "gtmk").strip().isdigit()


def test_conf_session_timeouts(addr):
    keys = dict(line.split("=", 1) for line in four_letter(addr, "conf").splitlines()
                if "=" in line)
    assert int(keys["minSessionTimeout"]) == 2 * int(keys["tickTime"])
    assert int(keys["maxSessionTimeout"]) == 20 * int(keys["tickTime"])
    assert keys["maxClientCnxns"] == "0"
    assert keys["serverId"] == "0"
    assert keys["dataDir"].endswith("version-2")


def test_srst_resets_counters(addr, zk):
    zk.get_children("/")
    four_letter(addr, "srst")
    lines = four_letter(addr, "srvr").splitlines()
    received = int(next(line for line in lines if line.startswith("Received: ")).split(": ")[1])
    # Only what arrived after the reset counts (the srvr command itself is not a packet).
    assert received < 1000


def test_unknown_four_letter_word_closes_without_output(addr):
    """An unknown 4-byte prefix is an oversized frame length: the server just closes."""
    assert four_letter(addr, "xyzw") == ""
