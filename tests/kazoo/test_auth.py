"""ACL enforcement and digest authentication."""

import base64
import hashlib

import pytest
from kazoo.exceptions import NoAuthError
from kazoo.security import ACL, Id, make_acl, make_digest_acl, make_digest_acl_credential

import rawzk


def digest_id(user, password):
    raw = f"{user}:{password}".encode()
    return f"{user}:{base64.b64encode(hashlib.sha1(raw).digest()).decode()}"


def test_kazoo_digest_matches_the_documented_formula():
    assert make_digest_acl_credential("bob", "pw") == digest_id("bob", "pw")


def test_digest_auth_grants_access(zk, base, make_client):
    zk.add_auth("digest", "alice:pw")
    zk.create(base + "/locked", b"secret", acl=[make_digest_acl("alice", "pw", all=True)])
    friend = make_client(auth_data=[("digest", "alice:pw")])
    assert friend.get(base + "/locked")[0] == b"secret"
    stranger = make_client(auth_data=[("digest", "alice:wrong")])
    with pytest.raises(NoAuthError):
        stranger.get(base + "/locked")


def test_add_auth_later_grants_access(zk, base, make_client):
    zk.add_auth("digest", "carol:pw")
    zk.create(base + "/c", b"x", acl=[make_digest_acl("carol", "pw", all=True)])
    other = make_client()
    with pytest.raises(NoAuthError):
        other.get(base + "/c")
    other.add_auth("digest", "carol:pw")
    assert other.get(base + "/c")[0] == b"x"


def test_auth_scheme_acl_expands_to_the_callers_ids(zk, base):
    zk.add_auth("digest", "dave:pw")
    zk.create(base + "/auth", b"", acl=[ACL(31, Id("auth", ""))])
    acls, _stat = zk.get_acls(base + "/auth")
    assert acls == [ACL(31, Id("digest", digest_id("dave", "pw")))]


def test_per_permission_checks(zk, base, make_client):
    # Anyone may read; only erin may write, create, delete, admin.
    acl = [
        make_acl("world", "anyone", read=True),
        make_digest_acl("erin", "pw", all=True),
    ]
    zk.add_auth("digest", "erin:pw")
    zk.create(base + "/mixed", b"v", acl=acl)
    other = make_client()
    assert other.get(base + "/mixed")[0] == b"v"
    assert sorted(other.get_children(base + "/mixed")) == []
    with pytest.raises(NoAuthError):
        other.set(base + "/mixed", b"w")
    with pytest.raises(NoAuthError):
        other.create(base + "/mixed/child", b"")
    with pytest.raises(NoAuthError):
        other.set_acls(base + "/mixed", [make_acl("world", "anyone", all=True)])
    zk.create(base + "/mixed/child", b"")
    with pytest.raises(NoAuthError):
        other.delete(base + "/mixed/child")
    zk.delete(base + "/mixed/child")


def test_delete_needs_delete_on_the_parent_not_the_node(zk, base, make_client):
    frank = make_digest_acl("frank", "pw", all=True)
    zk.add_auth("digest", "frank:pw")
    zk.create(base + "/parent", b"", acl=[make_acl("world", "anyone", delete=True, read=True), frank])
    zk.create(base + "/parent/locked-child", b"", acl=[frank])
    other = make_client()
    # No CREATE on the parent for others ...
    with pytest.raises(NoAuthError):
        other.create(base + "/parent/mine", b"")
    # ... but DELETE on the parent lets them delete a child whose own ACL denies everything.
    other.delete(base + "/parent/locked-child")
    assert other.exists(base + "/parent/locked-child") is None


def test_get_acl_without_admin_hides_digest_hash(zk, base, make_client):
    zk.add_auth("digest", "gina:pw")
    zk.create(base + "/g", b"", acl=[
        make_acl("world", "anyone", read=True),
        make_digest_acl("gina", "pw", all=True),
    ])
    owner_view = zk.get_acls(base + "/g")[0]
    assert ACL(31, Id("digest", digest_id("gina", "pw"))) in owner_view
    stranger_view = make_client().get_acls(base + "/g")[0]
    assert ACL(1, Id("world", "anyone")) in stranger_view
    assert ACL(31, Id("digest", "gina:x")) in stranger_view


def test_raw_auth_reply_echoes_xid_minus_4(addr):
    raw = rawzk.RawClient(addr)
    try:
        assert raw.auth("digest", b"user:pw") == (-4, 0)
    finally:
        raw.close()


def test_raw_bad_auth_scheme_is_auth_failed_then_closed(addr):
    raw = rawzk.RawClient(addr)
    try:
        xid, err = raw.auth("nosuchscheme", b"x")
        assert (xid, err) == (-4, -115)
        with pytest.raises((rawzk.Closed, ConnectionError, OSError)):
            raw.ping()
            raw.ping()
    finally:
        raw.drop()
