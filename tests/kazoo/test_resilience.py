"""Connection drops, pipelining and load through kazoo's real code paths."""

import socket
import threading

import pytest
from kazoo.exceptions import ConnectionLoss, NoAuthError
from kazoo.protocol.states import EventType, KazooState
from kazoo.security import make_digest_acl

from conftest import WAIT, EventLog, wait_until


def test_oversized_request_drops_the_connection_not_the_session(zk, base):
    """A frame above jute.maxbuffer (1 MiB - 1) closes the connection; kazoo reconnects."""
    session_id = zk.client_id[0]
    path = zk.create(base + "/big", b"small")
    with pytest.raises(ConnectionLoss):
        zk.set(path, b"x" * 1_100_000)
    assert wait_until(lambda: zk.state == KazooState.CONNECTED)
    assert zk.client_id[0] == session_id
    assert zk.get(path)[0] == b"small"


def test_reconnect_after_socket_drop_keeps_session_and_ephemerals(make_client, zk, base):
    client = make_client()
    states = []
    client.add_listener(states.append)
    session_id = client.client_id[0]
    path = client.create(base + "/eph", b"", ephemeral=True)
    client._connection._socket.shutdown(socket.SHUT_RDWR)  # as if the network broke
    assert wait_until(lambda: states[-2:] == [KazooState.SUSPENDED, KazooState.CONNECTED])
    assert client.client_id[0] == session_id
    assert zk.exists(path).ephemeralOwner == session_id
    # The re-attached session still works and still owns its ephemerals.
    client.delete(path)
    assert zk.exists(path) is None


def test_pipelined_async_requests(zk, base):
    creates = [zk.create_async(f"{base}/n{i:04d}", str(i).encode()) for i in range(400)]
    assert [c.get(timeout=WAIT) for c in creates] == [f"{base}/n{i:04d}" for i in range(400)]
    gets = [zk.get_async(f"{base}/n{i:04d}") for i in range(400)]
    assert [g.get(timeout=WAIT)[0] for g in gets] == [str(i).encode() for i in range(400)]
    assert zk.exists(base).numChildren == 400


def test_concurrent_sequential_creates_are_unique(make_client, base):
    clients = [make_client() for _ in range(4)]
    created = []
    lock = threading.Lock()

    def worker(client):
        for _ in range(50):
            path = client.create(base + "/q-", b"", sequence=True)
            with lock:
                created.append(path)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert len(created) == 200
    assert sorted(created) == [f"{base}/q-{i:010d}" for i in range(200)]


def test_watch_storm_from_one_multi(make_client, zk, base):
    watcher = make_client()
    logs = []
    for i in range(100):
        path = zk.create(f"{base}/w{i:03d}", b"")
        log = EventLog()
        watcher.get(path, watch=log)
        logs.append((path, log))
    children = EventLog()
    watcher.get_children(base, watch=children)
    tx = zk.transaction()
    for path, _log in logs:
        tx.delete(path)
    assert all(result is True for result in tx.commit())
    for path, log in logs:
        assert [(e.type, e.path) for e in log.wait_for(1)] == [(EventType.DELETED, path)]
    assert [e.type for e in children.wait_for(1)] == [EventType.CHILD]


def test_several_digest_identities_on_one_session(zk, base, make_client):
    zk.add_auth("digest", "ann:pw")
    zk.create(base + "/ann", b"a", acl=[make_digest_acl("ann", "pw", all=True)])
    zk.add_auth("digest", "ben:pw")
    zk.create(base + "/ben", b"b", acl=[make_digest_acl("ben", "pw", all=True)])
    both = make_client(auth_data=[("digest", "ann:pw"), ("digest", "ben:pw")])
    assert both.get(base + "/ann")[0] == b"a"
    assert both.get(base + "/ben")[0] == b"b"
    only_ben = make_client(auth_data=[("digest", "ben:pw")])
    with pytest.raises(NoAuthError):
        only_ben.get(base + "/ann")
