"""The built-in /zookeeper nodes, reconfig on a standalone server, unvalidated read paths."""

import pytest
from kazoo.exceptions import BadArgumentsError, NoAuthError, ReconfigDisabledError
from kazoo.security import ACL, Id, OPEN_ACL_UNSAFE

import rawzk


def test_zookeeper_node_children(zk):
    assert sorted(zk.get_children("/zookeeper")) == ["config", "quota"]


def test_config_node(zk):
    data, stat = zk.get("/zookeeper/config")
    assert data == b""
    # Installed through setACL with version -1, so aversion is -1; everything else zero.
    assert (stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime) == (0, 0, 0, 0, 0)
    assert (stat.version, stat.cversion, stat.aversion) == (0, 0, -1)
    acls, _stat = zk.get_acls("/zookeeper/config")
    assert acls == [ACL(1, Id("world", "anyone"))]


def test_quota_node(zk):
    data, stat = zk.get("/zookeeper/quota")
    assert data == b""
    assert (stat.czxid, stat.version, stat.cversion, stat.aversion, stat.numChildren) == (
        0, 0, 0, 0, 0)


def test_zookeeper_node_stat(zk):
    """Built without txns: cversion shows as 2 * 0 - numChildren = -2."""
    stat = zk.exists("/zookeeper")
    assert (stat.czxid, stat.mzxid, stat.ctime) == (0, 0, 0)
    assert stat.numChildren == 2
    assert stat.cversion == -2
    assert zk.get_acls("/zookeeper")[0] == OPEN_ACL_UNSAFE


def test_root_stat(zk):
    stat = zk.exists("/")
    assert (stat.czxid, stat.mzxid, stat.ctime, stat.mtime) == (0, 0, 0, 0)
    assert stat.ephemeralOwner == 0
    assert stat.numChildren >= 1
    assert zk.get_acls("/")[0] == OPEN_ACL_UNSAFE


def test_config_node_is_protected(zk):
    with pytest.raises(BadArgumentsError):
        zk.delete("/zookeeper/config")
    with pytest.raises(NoAuthError):
        zk.set("/zookeeper/config", b"x")


def test_reconfig_is_disabled(zk):
    with pytest.raises(ReconfigDisabledError):
        zk.reconfig(joining="server.5=127.0.0.1:2888:3888;2181", leaving=None, new_members=None)


def test_reads_of_invalid_paths_are_no_node(addr):
    raw = rawzk.RawClient(addr)
    try:
        for opcode in (rawzk.EXISTS, rawzk.GET_DATA, rawzk.GET_CHILDREN):
            _xid, err, _body = raw.call(opcode, rawzk.ustring("/zookeeper/") + b"\0")
            assert err == rawzk.NO_NODE, opcode
        _xid, err, _body = raw.call(
            rawzk.SET_DATA, rawzk.ustring("/zookeeper/") + rawzk.buffer(b"") + b"\xff\xff\xff\xff")
        assert err == rawzk.BAD_ARGUMENTS
    finally:
        raw.close()
