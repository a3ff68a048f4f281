"""multi through kazoo's transaction(): commit, rollback, exact per-op results."""

from kazoo.exceptions import (
    BadVersionError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
    RuntimeInconsistency,
)
from kazoo.protocol.states import ZnodeStat


def test_commit_returns_each_result(zk, base):
    zk.create(base + "/old", b"")
    zk.create(base + "/data", b"")
    tx = zk.transaction()
    tx.create(base + "/new", b"n")
    tx.delete(base + "/old")
    tx.set_data(base + "/data", b"changed")
    tx.check(base + "/new", 0)
    results = tx.commit()
    assert len(results) == 4
    assert results[0] == base + "/new"
    assert results[1] is True
    assert isinstance(results[2], ZnodeStat)
    assert results[2].version == 1
    assert results[2].dataLength == len(b"changed")
    assert results[3] is True
    assert zk.get(base + "/new")[0] == b"n"
    assert zk.exists(base + "/old") is None
    assert zk.get(base + "/data")[0] == b"changed"


def test_commit_is_one_zxid(zk, base):
    tx = zk.transaction()
    tx.create(base + "/a", b"")
    tx.create(base + "/b", b"")
    tx.commit()
    a = zk.exists(base + "/a")
    b = zk.exists(base + "/b")
    assert a.czxid == b.czxid


def test_sequential_create_in_transaction(zk, base):
    tx = zk.transaction()
    tx.create(base + "/s-", b"", sequence=True)
    tx.create(base + "/s-", b"", sequence=True)
    results = tx.commit()
    assert results == [base + "/s-0000000000", base + "/s-0000000001"]


def test_rollback_on_bad_version_reports_each_op(zk, base):
    zk.create(base + "/v", b"")
    tx = zk.transaction()
    tx.create(base + "/created-then-rolled-back", b"")
    tx.check(base + "/v", 7)
    tx.set_data(base + "/v", b"x")
    results = tx.commit()
    assert len(results) == 3
    assert isinstance(results[0], RolledBackError)
    assert isinstance(results[1], BadVersionError)
    assert isinstance(results[2], RuntimeInconsistency)
    assert zk.exists(base + "/created-then-rolled-back") is None
    assert zk.get(base + "/v")[1].version == 0


def test_rollback_on_node_exists(zk, base):
    zk.create(base + "/exists", b"")
    tx = zk.transaction()
    tx.delete(base + "/exists")
    tx.create(base + "/fresh", b"")
    tx.create(base + "/fresh", b"")
    results = tx.commit()
    assert [type(r) for r in results] == [RolledBackError, RolledBackError, NodeExistsError]
    assert zk.exists(base + "/exists") is not None
    assert zk.exists(base + "/fresh") is None


def test_rollback_on_missing_node_first(zk, base):
    tx = zk.transaction()
    tx.delete(base + "/missing")
    tx.create(base + "/x", b"")
    results = tx.commit()
    assert [type(r) for r in results] == [NoNodeError, RuntimeInconsistency]
    assert zk.exists(base + "/x") is None


def test_ops_see_earlier_ops_of_the_same_transaction(zk, base):
    tx = zk.transaction()
    tx.create(base + "/p", b"")
    tx.create(base + "/p/c", b"")
    tx.set_data(base + "/p/c", b"1", version=0)
    tx.check(base + "/p/c", 1)
    tx.delete(base + "/p/c", version=1)
    results = tx.commit()
    assert results[0] == base + "/p"
    assert results[1] == base + "/p/c"
    assert results[2].version == 1
    assert results[3] is True
    assert results[4] is True
    assert zk.get_children(base + "/p") == []


def test_delete_non_empty_in_transaction(zk, base):
    zk.create(base + "/p/c", b"", makepath=True)
    tx = zk.transaction()
    tx.delete(base + "/p")
    results = tx.commit()
    assert [type(r) for r in results] == [NotEmptyError]


def test_failed_transaction_changes_no_stat(zk, base):
    before = zk.exists(base)
    tx = zk.transaction()
    tx.create(base + "/a", b"")
    tx.check(base + "/does-not-exist", 0)
    results = tx.commit()
    assert [type(r) for r in results] == [RolledBackError, NoNodeError]
    after = zk.exists(base)
    assert after.cversion == before.cversion
    assert after.numChildren == before.numChildren
    assert after.pzxid == before.pzxid


def test_context_manager_commits(zk, base):
    with zk.transaction() as tx:
        tx.create(base + "/cm", b"1")
    assert zk.get(base + "/cm")[0] == b"1"
    assert tx.committed
