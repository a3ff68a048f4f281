"""Every error code a kazoo client can provoke, raised as kazoo's exception class."""

import pytest
import rawzk
from kazoo.exceptions import (
    AuthFailedError,
    BadArgumentsError,
    BadVersionError,
    InvalidACLError,
    NoAuthError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
)
from kazoo.security import ACL, Id, make_digest_acl


def test_create_existing_is_node_exists(zk, base):
    zk.create(base + "/a", b"")
    with pytest.raises(NodeExistsError):
        zk.create(base + "/a", b"")


def test_create_without_parent_is_no_node(zk, base):
    with pytest.raises(NoNodeError):
        zk.create(base + "/missing/child", b"")


def test_get_set_delete_missing_is_no_node(zk, base):
    with pytest.raises(NoNodeError):
        zk.get(base + "/nope")
    with pytest.raises(NoNodeError):
        zk.set(base + "/nope", b"")
    with pytest.raises(NoNodeError):
        zk.delete(base + "/nope")
    with pytest.raises(NoNodeError):
        zk.get_children(base + "/nope")
    with pytest.raises(NoNodeError):
        zk.get_acls(base + "/nope")
    with pytest.raises(NoNodeError):
        zk.set_acls(base + "/nope", [ACL(31, Id("world", "anyone"))])


def test_set_with_wrong_version_is_bad_version(zk, base):
    zk.create(base + "/v", b"")
    with pytest.raises(BadVersionError):
        zk.set(base + "/v", b"x", version=3)
    assert zk.get(base + "/v")[1].version == 0


def test_delete_with_wrong_version_is_bad_version(zk, base):
    zk.create(base + "/v", b"")
    with pytest.raises(BadVersionError):
        zk.delete(base + "/v", version=1)
    assert zk.exists(base + "/v") is not None


def test_set_acls_with_wrong_version_is_bad_version(zk, base):
    zk.create(base + "/v", b"")
    with pytest.raises(BadVersionError):
        zk.set_acls(base + "/v", [ACL(31, Id("world", "anyone"))], version=5)


def test_delete_with_children_is_not_empty(zk, base):
    zk.create(base + "/p/c", b"", makepath=True)
    with pytest.raises(NotEmptyError):
        zk.delete(base + "/p")


def test_child_of_ephemeral_is_no_children_for_ephemerals(zk, base):
    zk.create(base + "/eph", b"", ephemeral=True)
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(base + "/eph/child", b"")


def test_read_without_permission_is_no_auth(zk, base, make_client):
    owner = make_digest_acl("owner", "pw", all=True)
    zk.add_auth("digest", "owner:pw")
    zk.create(base + "/secret", b"s", acl=[owner])
    other = make_client()
    with pytest.raises(NoAuthError):
        other.get(base + "/secret")
    with pytest.raises(NoAuthError):
        other.set(base + "/secret", b"x")
    with pytest.raises(NoAuthError):
        other.get_children(base + "/secret")
    with pytest.raises(NoAuthError):
        other.create(base + "/secret/child", b"")
    # exists needs no permission.
    assert other.exists(base + "/secret") is not None


def test_empty_acl_is_invalid_acl(addr, base):
    # kazoo replaces an empty ACL list by its default, so send the request raw.
    raw = rawzk.RawClient(addr)
    try:
        with pytest.raises(rawzk.ZkError) as failure:
            raw.create(base + "/bad", b"", acls=[], opcode=rawzk.CREATE)
        assert failure.value.code == rawzk.INVALID_ACL
    finally:
        raw.close()


def test_auth_scheme_without_authenticated_id_is_invalid_acl(zk, base):
    with pytest.raises(InvalidACLError):
        zk.create(base + "/bad", b"", acl=[ACL(31, Id("auth", ""))])


def test_malformed_digest_id_is_invalid_acl(zk, base):
    with pytest.raises(InvalidACLError):
        zk.create(base + "/bad", b"", acl=[ACL(31, Id("digest", "no-colon-here"))])


def test_unknown_scheme_is_invalid_acl(zk, base):
    with pytest.raises(InvalidACLError):
        zk.create(base + "/bad", b"", acl=[ACL(31, Id("nosuchscheme", "x"))])


def test_delete_zookeeper_node_is_bad_arguments(zk):
    with pytest.raises(BadArgumentsError):
        zk.delete("/zookeeper")


def test_unknown_auth_scheme_fails_the_session(make_client):
    client = make_client()
    with pytest.raises(AuthFailedError):
        client.add_auth("nosuchscheme", "whatever")
