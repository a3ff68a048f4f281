"""Opcodes and wire details kazoo does not exercise, sent with the raw client (rawzk).

kazoo 2.11 exposes no containers, TTL nodes, multiRead, addWatch, removeWatches,
checkWatches, setWatches, getEphemerals, getAllChildrenNumber or whoAmI, so these tests
speak the protocol directly, encoded as the Java and Rust clients encode it.
"""

import struct

import pytest

import rawzk
from rawzk import (
    CHECK,
    CREATE,
    CREATE2,
    DELETE,
    GET_CHILDREN,
    GET_DATA,
    NODE_CHILDREN_CHANGED,
    NODE_CREATED,
    NODE_DATA_CHANGED,
    NODE_DELETED,
    SET_DATA,
    create_body,
    multi_body,
    read_multi,
    ustring,
)
from conftest import WAIT, wait_until


@pytest.fixture
def raw(addr):
    client = rawzk.RawClient(addr)
    yield client
    try:
        client.close()
    except Exception:  # noqa: BLE001 - a test may have closed it already
        client.drop()


def int32(value):
    return struct.pack("!i", value)


def node_events(client, count):
    events = client.wait_events(count, timeout=WAIT)
    return [(ev_type, path) for ev_type, _state, path in events]


# Connection-level details.


def test_ping_reply_uses_xid_minus_2(raw):
    assert raw.ping() == (-2, 0)


def test_requests_pipelined_behind_connect_are_answered(addr):
    """The Rust client writes requests before the ConnectResponse arrives."""
    exists = ustring("/") + b"\0"
    frame = struct.pack("!iii", 8 + len(exists), 1, rawzk.EXISTS) + exists
    client = rawzk.RawClient(addr, pipeline=frame)
    try:
        assert client.session_id != 0
        xid, _zxid, err, body = client._read_reply()
        assert (xid, err) == (1, 0)
        assert body.stat()["numChildren"] >= 1
        client.xid = 1
    finally:
        client.close()


def test_replies_keep_request_order(raw, base):
    """Many requests written back to back are answered in the order sent."""
    payload = b""
    for i in range(1, 51):
        body = ustring(base) + b"\0"
        payload += struct.pack("!iii", 8 + len(body), 100 + i, rawzk.EXISTS) + body
    raw.sock.sendall(payload)
    xids = [raw._read_reply()[0] for _ in range(50)]
    assert xids == [100 + i for i in range(1, 51)]


def test_reply_zxid_tracks_writes(raw, base):
    before = raw.last_zxid
    _path, stat = raw.create(base + "/z")
    assert stat["czxid"] > before
    assert raw.last_zxid >= stat["czxid"]


def test_create_response_for_opcode_1_has_no_stat(raw, base):
    path, stat = raw.create(base + "/plain", opcode=CREATE)
    assert path == base + "/plain"
    assert stat is None


# Create modes.


def test_container_node_stat(raw, base):
    path, stat = raw.create(base + "/box", opcode=rawzk.CREATE_CONTAINER, flags=4)
    assert path == base + "/box"
    assert stat["ephemeralOwner"] == 0
    assert raw.exists(path) == stat


def test_ttl_node_stat(raw, base):
    path, stat = raw.create(base + "/ttl", opcode=rawzk.CREATE_TTL, flags=5, ttl=600_000)
    assert path == base + "/ttl"
    assert stat["ephemeralOwner"] == 0
    seq_path, _stat = raw.create(base + "/ttl-", opcode=rawzk.CREATE_TTL, flags=6, ttl=600_000)
    assert seq_path == base + "/ttl-0000000001"


@pytest.mark.parametrize(
    "opcode,flags,ttl",
    [
        (rawzk.CREATE_TTL, 5, 0),  # TTL must be positive
        (rawzk.CREATE_TTL, 5, -5),
        (rawzk.CREATE_TTL, 0, 100),  # a TTL on a non-TTL mode
        (CREATE2, 9, None),  # no such mode
        (CREATE2, -1, None),
    ],
)
def test_bad_create_modes_are_bad_arguments(raw, base, opcode, flags, ttl):
    _xid, err, _body = raw.call(opcode, create_body(base + "/bad", flags=flags, ttl=ttl))
    assert err == rawzk.BAD_ARGUMENTS
    assert raw.exists(base + "/bad") is None


def test_empty_container_and_expired_ttl_node_are_removed(raw, base):
    """The server's container manager deletes an emptied container and an expired TTL node.

    Apache ZooKeeper checks every 60 s by default, so this waits up to three minutes.
    """
    box, _stat = raw.create(base + "/box", opcode=rawzk.CREATE_CONTAINER, flags=4)
    raw.create(box + "/child")
    raw.delete(box + "/child")
    ttl, _stat = raw.create(base + "/short", opcode=rawzk.CREATE_TTL, flags=5, ttl=1)
    kept, _stat = raw.create(base + "/kept-container", opcode=rawzk.CREATE_CONTAINER, flags=4)
    assert wait_until(lambda: raw.exists(box) is None and raw.exists(ttl) is None, 180, 1.0)
    # A container that never had a child is not removed.
    assert raw.exists(kept) is not None


def test_invalid_paths_are_bad_arguments(raw, base):
    for path in ("noslash", base + "/", base + "/.", base + "/..", base + "/a\x01"):
        _xid, err, _body = raw.call(CREATE2, create_body(path))
        assert err == rawzk.BAD_ARGUMENTS, path


def test_delete_of_reserved_nodes_is_bad_arguments(raw):
    for path in ("/", "/zookeeper", "/zookeeper/quota"):
        _xid, err, _body = raw.call(DELETE, ustring(path) + int32(-1))
        assert err == rawzk.BAD_ARGUMENTS, path


# Multi and multiRead.


def test_multi_result_records(raw, base):
    raw.create(base + "/old")
    ops = [
        (CREATE2, create_body(base + "/new", b"n")),
        (CREATE, create_body(base + "/new2")),
        (SET_DATA, ustring(base + "/new") + rawzk.buffer(b"nn") + int32(0)),
        (CHECK, ustring(base + "/new") + int32(1)),
        (DELETE, ustring(base + "/old") + int32(0)),
    ]
    results = read_multi(raw.request(rawzk.MULTI, multi_body(ops)))
    # Apache ZooKeeper 3.8 answers a create2 op with a create (1) result carrying only the
    # path; 3.9 answers create2 (15) with path and Stat. Both clients accept either.
    assert results[0][:2] in ((CREATE, 0), (CREATE2, 0))
    assert [(t, e) for t, e, _r in results[1:]] == [(CREATE, 0), (SET_DATA, 0), (CHECK, 0),
                                                  (DELETE, 0)]
    if results[0][0] == CREATE2:
        created_path, created_stat = results[0][2]
        assert created_stat["version"] == 0
        assert results[2][2]["czxid"] == created_stat["czxid"]
    else:
        created_path = results[0][2]
    assert created_path == base + "/new"
    assert results[1][2] == base + "/new2"
    assert results[2][2]["version"] == 1
    assert raw.get_data(base + "/new") == (b"nn", results[2][2])


def test_multi_failure_results(raw, base):
    raw.create(base + "/v")
    ops = [
        (CREATE2, create_body(base + "/a")),
        (SET_DATA, ustring(base + "/v") + rawzk.buffer(b"") + int32(4)),
        (DELETE, ustring(base + "/v") + int32(-1)),
    ]
    results = read_multi(raw.request(rawzk.MULTI, multi_body(ops)))
    assert results == [(-1, 0, 0), (-1, rawzk.BAD_VERSION, rawzk.BAD_VERSION),
                       (-1, rawzk.RUNTIME_INCONSISTENCY, rawzk.RUNTIME_INCONSISTENCY)]
    assert raw.exists(base + "/a") is None


def test_empty_multi(raw):
    assert read_multi(raw.request(rawzk.MULTI, multi_body([]))) == []


def test_multi_read(raw, base):
    raw.create(base + "/d", b"data")
    raw.create(base + "/d/c1")
    ops = [
        (GET_DATA, ustring(base + "/d") + b"\0"),
        (GET_CHILDREN, ustring(base + "/d") + b"\0"),
        (GET_DATA, ustring(base + "/missing") + b"\0"),
        (GET_CHILDREN, ustring(base + "/d/c1") + b"\0"),
    ]
    results = read_multi(raw.request(rawzk.MULTI_READ, multi_body(ops)))
    assert [(t, e) for t, e, _r in results] == [(GET_DATA, 0), (GET_CHILDREN, 0),
                                              (-1, rawzk.NO_NODE), (GET_CHILDREN, 0)]
    data, stat = results[0][2]
    assert data == b"data"
    assert stat["numChildren"] == 1
    assert results[1][2] == ["c1"]
    assert results[2][2] == rawzk.NO_NODE
    assert results[3][2] == []


# Session-scoped reads.


def test_get_ephemerals(raw, base, addr):
    raw.create(base + "/e1", flags=1)
    raw.create(base + "/sub")
    raw.create(base + "/sub/e2-", flags=3)
    raw.create(base + "/persistent")
    other = rawzk.RawClient(addr)
    try:
        other.create(base + "/theirs", flags=1)
        mine = raw.request(rawzk.GET_EPHEMERALS, ustring(base)).strings()
        assert sorted(mine) == [base + "/e1", base + "/sub/e2-0000000000"]
        below_sub = raw.request(rawzk.GET_EPHEMERALS, ustring(base + "/sub")).strings()
        assert below_sub == [base + "/sub/e2-0000000000"]
        everything = raw.request(rawzk.GET_EPHEMERALS, ustring("/")).strings()
        assert sorted(everything) == sorted(mine)
        assert other.request(rawzk.GET_EPHEMERALS, ustring(base)).strings() == [base + "/theirs"]
    finally:
        other.close()


def test_get_all_children_number(raw, base):
    raw.create(base + "/a")
    raw.create(base + "/a/b")
    raw.create(base + "/a/b/c")
    raw.create(base + "/d")
    assert raw.request(rawzk.GET_ALL_CHILDREN_NUMBER, ustring(base)).int() == 4
    assert raw.request(rawzk.GET_ALL_CHILDREN_NUMBER, ustring(base + "/a/b/c")).int() == 0
    _xid, err, _body = raw.call(rawzk.GET_ALL_CHILDREN_NUMBER, ustring(base + "/zz"))
    assert err == rawzk.NO_NODE


def test_who_am_i(raw):
    def identities():
        body = raw.request(rawzk.WHO_AM_I)
        return [(body.ustring(), body.ustring()) for _ in range(body.int())]

    assert identities() == [("ip", "127.0.0.1")]
    assert raw.auth("digest", b"zoe:pw") == (-4, 0)
    assert sorted(identities()) == [("digest", "zoe"), ("ip", "127.0.0.1")]


# Watches.


def test_persistent_watch_fires_repeatedly(raw, base, addr):
    path = base + "/p"
    assert raw.add_watch(path, rawzk.PERSISTENT) == 0
    writer = rawzk.RawClient(addr)
    try:
        writer.create(path, b"0")
        writer.set_data(path, b"1")
        writer.set_data(path, b"2")
        writer.create(path + "/child")
        writer.set_data(path + "/child", b"not watched")
        writer.delete(path + "/child")
        writer.delete(path)
    finally:
        writer.close()
    expected = [
        (NODE_CREATED, path),
        (NODE_DATA_CHANGED, path),
        (NODE_DATA_CHANGED, path),
        (NODE_CHILDREN_CHANGED, path),
        (NODE_CHILDREN_CHANGED, path),
        (NODE_DELETED, path),
    ]
    assert node_events(raw, len(expected)) == expected


def test_persistent_recursive_watch_sees_descendants(raw, base, addr):
    root = base + "/r"
    raw.create(root)
    assert raw.add_watch(root, rawzk.PERSISTENT_RECURSIVE) == 0
    writer = rawzk.RawClient(addr)
    try:
        writer.create(root + "/a")
        writer.create(root + "/a/b", b"x")
        writer.set_data(root + "/a/b", b"y")
        writer.delete(root + "/a/b")
        writer.set_data(root, b"root")
        writer.create(base + "/outside")
    finally:
        writer.close()
    expected = [
        (NODE_CREATED, root + "/a"),
        (NODE_CREATED, root + "/a/b"),
        (NODE_DATA_CHANGED, root + "/a/b"),
        (NODE_DELETED, root + "/a/b"),
        (NODE_DATA_CHANGED, root),
    ]
    assert node_events(raw, len(expected)) == expected


def test_remove_watches_stops_persistent_watch(raw, base):
    path = base + "/rm"
    raw.create(path)
    raw.add_watch(path, rawzk.PERSISTENT)
    assert raw.watch_request(rawzk.REMOVE_WATCHES, path, rawzk.WATCHER_ANY) == 0
    raw.set_data(path, b"no event")
    # A one-shot marker on another node proves the stream has no event for `path`.
    raw.get_data(base, watch=True)
    raw.set_data(base, b"marker")
    assert node_events(raw, 1) == [(NODE_DATA_CHANGED, base)]


def test_check_and_remove_one_shot_watches(raw, base):
    path = base + "/cw"
    raw.create(path)
    assert raw.watch_request(rawzk.CHECK_WATCHES, path, rawzk.WATCHER_DATA) == rawzk.NO_WATCHER
    raw.get_data(path, watch=True)
    assert raw.watch_request(rawzk.CHECK_WATCHES, path, rawzk.WATCHER_DATA) == 0
    assert raw.watch_request(rawzk.CHECK_WATCHES, path, rawzk.WATCHER_CHILDREN) == rawzk.NO_WATCHER
    raw.get_children(path, watch=True)
    assert raw.watch_request(rawzk.CHECK_WATCHES, path, rawzk.WATCHER_CHILDREN) == 0
    assert raw.watch_request(rawzk.REMOVE_WATCHES, path, rawzk.WATCHER_DATA) == 0
    assert raw.watch_request(rawzk.CHECK_WATCHES, path, rawzk.WATCHER_DATA) == rawzk.NO_WATCHER
    assert raw.watch_request(rawzk.CHECK_WATCHES, path, rawzk.WATCHER_CHILDREN) == 0
    assert raw.watch_request(rawzk.REMOVE_WATCHES, path, rawzk.WATCHER_ANY) == 0
    assert raw.watch_request(rawzk.REMOVE_WATCHES, path, rawzk.WATCHER_ANY) == rawzk.NO_WATCHER
    raw.create(path + "/child")
    raw.set_data(path, b"x")
    raw.get_data(base, watch=True)
    raw.set_data(base, b"marker")
    assert node_events(raw, 1) == [(NODE_DATA_CHANGED, base)]


def test_set_watches_on_reconnect_replays_missed_changes(addr, base):
    """A client re-attaching its session re-registers watches relative to its last zxid."""
    first = rawzk.RawClient(addr)
    changed, created, children, quiet = (base + n for n in ("/changed", "/created", "/kids", "/quiet"))
    first.create(changed)
    first.create(children)
    first.create(quiet)
    first.get_data(changed, watch=True)
    assert first.exists(created, watch=True) is None
    first.get_children(children, watch=True)
    first.get_data(quiet, watch=True)
    last_zxid = first.last_zxid
    first.drop()

    writer = rawzk.RawClient(addr)
    writer.set_data(changed, b"while away")
    writer.create(created)
    writer.create(children + "/k")

    body = (struct.pack("!q", last_zxid) + rawzk.string_vector([changed, quiet])
            + rawzk.string_vector([created]) + rawzk.string_vector([children]))
    second = rawzk.RawClient(addr, session_id=first.session_id, password=first.password,
                             last_zxid=last_zxid)
    try:
        assert second.session_id == first.session_id
        xid, err, _body = second.call(rawzk.SET_WATCHES, body, xid=-8)
        assert (xid, err) == (-8, 0)
        events = sorted(node_events(second, 3))
        assert events == sorted([
            (NODE_DATA_CHANGED, changed),
            (NODE_CREATED, created),
            (NODE_CHILDREN_CHANGED, children),
        ])
        # The watch on the unchanged node is armed again and fires on the next change.
        second.take_events()
        writer.set_data(quiet, b"now")
        assert node_events(second, 1) == [(NODE_DATA_CHANGED, quiet)]
    finally:
        writer.close()
        second.close()


def test_set_watches2_restores_persistent_watches(addr, base):
    first = rawzk.RawClient(addr)
    root = base + "/tree"
    first.create(root)
    last_zxid = first.last_zxid
    first.drop()
    body = (struct.pack("!q", last_zxid) + rawzk.string_vector([]) + rawzk.string_vector([])
            + rawzk.string_vector([]) + rawzk.string_vector([root])
            + rawzk.string_vector([base]))
    second = rawzk.RawClient(addr, session_id=first.session_id, password=first.password,
                             last_zxid=last_zxid)
    writer = rawzk.RawClient(addr)
    try:
        xid, err, _body = second.call(rawzk.SET_WATCHES2, body, xid=-8)
        assert (xid, err) == (-8, 0)
        writer.create(root + "/leaf")
        writer.set_data(root + "/leaf", b"x")
        events = node_events(second, 3)
        assert sorted(events) == sorted([
            (NODE_CHILDREN_CHANGED, root),  # persistent watch on root
            (NODE_CREATED, root + "/leaf"),  # recursive watch on base
            (NODE_DATA_CHANGED, root + "/leaf"),
        ])
    finally:
        writer.close()
        second.close()


def test_exists_watch_on_missing_node_is_registered(raw, base, addr):
    path = base + "/nothing"
    assert raw.exists(path, watch=True) is None
    writer = rawzk.RawClient(addr)
    try:
        writer.create(path)
    finally:
        writer.close()
    assert node_events(raw, 1) == [(NODE_CREATED, path)]


def test_notification_precedes_the_reply_of_the_triggering_write(raw, base):
    path = base + "/self"
    raw.create(path)
    raw.get_data(path, watch=True)
    raw.set_data(path, b"mine")
    # set_data returned: the notification must already have been read before its reply.
    assert [(t, p) for t, _s, p in raw.events] == [(NODE_DATA_CHANGED, path)]


def test_notification_state_is_sync_connected(raw, base):
    path = base + "/state"
    raw.create(path)
    raw.get_data(path, watch=True)
    raw.delete(path)
    events = raw.wait_events(1)
    assert events == [(NODE_DELETED, 3, path)]


def test_close_session_reply_then_socket_closed(addr):
    client = rawzk.RawClient(addr)
    xid, err, _body = client.call(rawzk.CLOSE_SESSION)
    assert err == 0
    with pytest.raises((rawzk.Closed, ConnectionError, OSError)):
        client.ping()
        client.ping()
    client.drop()
