"""Sessions: ephemerals die with the session (close or expiry), re-attach with id+password."""

import threading

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError
from kazoo.protocol.states import EventType, KazooState

import rawzk
from conftest import WAIT, EventLog, wait_until


def test_ephemeral_owner_is_the_session_id(zk, base):
    path, stat = zk.create(base + "/e", b"", ephemeral=True, include_data=True)
    session_id, _password = zk.client_id
    assert stat.ephemeralOwner == session_id
    assert zk.exists(path).ephemeralOwner == session_id


def test_ephemeral_removed_when_session_closes(zk, base, make_client):
    owner = make_client()
    path = owner.create(base + "/e", b"", ephemeral=True)
    log = EventLog()
    assert zk.exists(path, watch=log) is not None
    owner.stop()
    owner.close()
    events = log.wait_for(1)
    assert [(e.type, e.path) for e in events] == [(EventType.DELETED, path)]
    assert zk.exists(path) is None


def test_ephemeral_sequential_removed_when_session_closes(zk, base, make_client):
    owner = make_client()
    path = owner.create(base + "/es-", b"", ephemeral=True, sequence=True)
    assert path == base + "/es-0000000000"
    owner.stop()
    assert wait_until(lambda: zk.exists(path) is None)


def test_ephemeral_removed_on_expiry(zk, base, addr):
    """A session whose connection dropped without closeSession expires after its timeout."""
    raw = rawzk.RawClient(addr, timeout_ms=4000)
    assert raw.timeout_ms > 0
    path, _stat = raw.create(base + "/expiring", b"", flags=1)
    log = EventLog()
    assert zk.exists(path, watch=log) is not None
    raw.drop()
    events = log.wait_for(1, timeout=WAIT + raw.timeout_ms / 1000 * 3)
    assert [(e.type, e.path) for e in events] == [(EventType.DELETED, path)]
    # The expired session cannot be re-attached: timeOut 0, sessionId 0.
    again = rawzk.RawClient(addr, session_id=raw.session_id, password=raw.password)
    assert again.timeout_ms == 0
    assert again.session_id == 0
    assert len(again.password) == 16
    with pytest.raises((rawzk.Closed, ConnectionError, OSError)):
        again.ping()
        again.ping()


def test_reattach_with_client_id_keeps_the_session(zk, base, addr):
    # The first connection (raw, so it cannot reconnect and fight over the session) drops
    # without closing its session; kazoo then re-attaches with (session id, password).
    first = rawzk.RawClient(addr, timeout_ms=20000)
    path, _stat = first.create(base + "/mine", flags=1)
    first.drop()
    second = KazooClient(hosts=addr, timeout=20.0, client_id=(first.session_id, first.password))
    try:
        second.start(timeout=WAIT)
        assert second.client_id[0] == first.session_id
        assert zk.exists(path).ephemeralOwner == first.session_id
        # The re-attached connection owns the session: its ephemerals are its own.
        second.create(base + "/also-mine", b"", ephemeral=True)
        assert zk.exists(base + "/also-mine").ephemeralOwner == first.session_id
        second.delete(path)
    finally:
        second.stop()
        second.close()
    assert wait_until(lambda: zk.exists(base + "/also-mine") is None)


def test_reattach_with_wrong_password_is_expired(addr):
    raw = rawzk.RawClient(addr)
    bad = bytes(b ^ 0xFF for b in raw.password)
    other = rawzk.RawClient(addr, session_id=raw.session_id, password=bad)
    assert other.timeout_ms == 0
    assert other.session_id == 0
    other.drop()
    # The attempt closed the connection that was bound to the session ...
    with pytest.raises((rawzk.Closed, ConnectionError, OSError)):
        raw.ping()
    raw.drop()
    # ... but the session itself lives on and re-attaches with the right password.
    good = rawzk.RawClient(addr, session_id=raw.session_id, password=raw.password)
    assert good.session_id == raw.session_id
    assert good.timeout_ms > 0
    good.close()


def test_kazoo_sees_session_lost_when_session_is_closed_elsewhere(addr, base):
    """Another connection takes the session over and closes it: kazoo reports LOST."""
    client = KazooClient(hosts=addr, timeout=10.0)
    lost = threading.Event()

    def listener(state):
        if state == KazooState.LOST:
            lost.set()

    client.add_listener(listener)
    client.start(timeout=WAIT)
    try:
        path = client.create(base + "/victim", b"", ephemeral=True)
        session_id, password = client.client_id
        # kazoo reconnects when kicked off; should it win the race and kick the thief off
        # first, the thief simply tries again.
        for _attempt in range(10):
            thief = rawzk.RawClient(addr, session_id=session_id, password=password)
            assert thief.session_id == session_id
            try:
                thief.close()
                break
            except (rawzk.Closed, ConnectionError, OSError):
                thief.drop()
        assert lost.wait(WAIT * 2), "kazoo never reported the session as lost"
        with pytest.raises(Exception):  # noqa: B017 - any error: the handle is dead
            client.get(path)
    finally:
        client.stop()
        client.close()


def test_negotiated_timeout_is_clamped(addr):
    """A tiny request is raised to minSessionTimeout, a huge one lowered to the maximum."""
    small = rawzk.RawClient(addr, timeout_ms=1)
    large = rawzk.RawClient(addr, timeout_ms=10_000_000)
    try:
        assert 0 < small.timeout_ms < large.timeout_ms < 10_000_000
    finally:
        small.close()
        large.close()


def test_connect_response_echoes_read_only_byte(addr):
    """New clients send the readOnly byte and get it back (37-byte response)."""
    new = rawzk.RawClient(addr)
    try:
        assert new.protocol_version == 0
        assert new.read_only is False
        assert new.connect_reply_len == 37
        assert new.session_id != 0
        assert len(new.password) == 16
    finally:
        new.close()


def test_old_client_without_read_only_byte(addr):
    old = rawzk.RawClient(addr, read_only_byte=False)
    try:
        assert old.connect_reply_len == 36
        assert old.read_only is None
        assert old.ping() == (-2, 0)
    finally:
        old.close()


def test_closed_session_ephemerals_gone_and_get_fails(zk, base, addr):
    raw = rawzk.RawClient(addr)
    path, _stat = raw.create(base + "/raw-eph", b"", flags=1)
    raw.close()
    with pytest.raises(NoNodeError):
        zk.get(path)
