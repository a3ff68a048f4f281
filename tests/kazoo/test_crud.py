"""Create / get / set / delete / exists / children / ACL / sync through kazoo, with Stat checks."""

from kazoo.security import ACL, Id, OPEN_ACL_UNSAFE, make_digest_acl


def test_create_returns_path_and_get_returns_data(zk, base):
    path = zk.create(base + "/a", b"hello")
    assert path == base + "/a"
    data, stat = zk.get(path)
    assert data == b"hello"
    assert stat.version == 0
    assert stat.cversion == 0
    assert stat.aversion == 0
    assert stat.dataLength == 5
    assert stat.numChildren == 0
    assert stat.ephemeralOwner == 0
    assert stat.czxid == stat.mzxid == stat.pzxid
    assert stat.czxid > 0
    assert stat.ctime == stat.mtime
    assert stat.ctime > 0


def test_create2_include_data_returns_stat(zk, base):
    path, stat = zk.create(base + "/b", b"xyz", include_data=True)
    assert path == base + "/b"
    assert stat.dataLength == 3
    assert stat.version == 0
    _data, fetched = zk.get(path)
    assert fetched == stat


def test_create_empty_and_none_data(zk, base):
    zk.create(base + "/empty", b"")
    data, stat = zk.get(base + "/empty")
    assert data == b""
    assert stat.dataLength == 0


def test_set_bumps_version_and_mzxid_only(zk, base):
    path = zk.create(base + "/n", b"v0")
    _d, before = zk.get(path)
    after = zk.set(path, b"version-one")
    assert after.version == 1
    assert after.dataLength == len(b"version-one")
    assert after.czxid == before.czxid
    assert after.mzxid > before.mzxid
    assert after.pzxid == before.pzxid
    assert after.cversion == before.cversion
    assert after.ctime == before.ctime
    assert after.mtime >= before.mtime
    data, stat = zk.get(path)
    assert data == b"version-one"
    assert stat == after


def test_set_with_matching_version(zk, base):
    path = zk.create(base + "/n", b"a")
    assert zk.set(path, b"b", version=0).version == 1
    assert zk.set(path, b"c", version=1).version == 2


def test_children_update_parent_stat(zk, base):
    _d, parent0 = zk.get(base)
    zk.create(base + "/c1", b"")
    created2 = zk.create(base + "/c2", b"", include_data=True)[1]
    _d, parent1 = zk.get(base)
    assert parent1.numChildren == 2
    assert parent1.cversion == parent0.cversion + 2
    assert parent1.pzxid == created2.czxid
    assert parent1.mzxid == parent0.mzxid
    assert parent1.version == parent0.version
    zk.delete(base + "/c1")
    _d, parent2 = zk.get(base)
    assert parent2.numChildren == 1
    assert parent2.cversion == parent0.cversion + 3
    assert parent2.pzxid > parent1.pzxid
    assert sorted(zk.get_children(base)) == ["c2"]


def test_get_children_with_stat(zk, base):
    for name in ("x", "y", "z"):
        zk.create(f"{base}/{name}", b"")
    children, stat = zk.get_children(base, include_data=True)
    assert sorted(children) == ["x", "y", "z"]
    assert stat.numChildren == 3
    assert stat == zk.exists(base)


def test_get_children_of_leaf_is_empty(zk, base):
    zk.create(base + "/leaf", b"")
    assert zk.get_children(base + "/leaf") == []


def test_exists(zk, base):
    assert zk.exists(base + "/missing") is None
    zk.create(base + "/there", b"12")
    stat = zk.exists(base + "/there")
    assert stat is not None
    assert stat.dataLength == 2


def test_delete_with_version(zk, base):
    path = zk.create(base + "/d", b"")
    zk.set(path, b"1")
    zk.delete(path, version=1)
    assert zk.exists(path) is None


def test_delete_any_version(zk, base):
    path = zk.create(base + "/d", b"")
    zk.set(path, b"1")
    zk.delete(path, version=-1)
    assert zk.exists(path) is None


def test_ensure_path_and_recursive_delete(zk, base):
    zk.ensure_path(base + "/p/q/r")
    assert zk.exists(base + "/p/q/r") is not None
    zk.delete(base + "/p", recursive=True)
    assert zk.exists(base + "/p") is None


def test_root_and_zookeeper_nodes_exist(zk):
    assert zk.exists("/") is not None
    assert "zookeeper" in zk.get_children("/")
    assert zk.exists("/zookeeper") is not None
    assert "quota" in zk.get_children("/zookeeper")


def test_acl_default_open(zk, base):
    acls, stat = zk.get_acls(base)
    assert acls == OPEN_ACL_UNSAFE
    assert stat.aversion == 0


def test_set_acls_bumps_aversion(zk, base):
    path = zk.create(base + "/acl", b"")
    read_admin = [ACL(1 | 16, Id("world", "anyone"))]
    stat = zk.set_acls(path, read_admin)
    assert stat.aversion == 1
    assert stat.version == 0
    acls, stat2 = zk.get_acls(path)
    assert acls == read_admin
    assert stat2.aversion == 1
    stat3 = zk.set_acls(path, OPEN_ACL_UNSAFE, version=1)
    assert stat3.aversion == 2


def test_create_with_digest_acl_roundtrips(zk, base):
    acl = make_digest_acl("alice", "secret", all=True)
    zk.add_auth("digest", "alice:secret")
    path = zk.create(base + "/digest", b"", acl=[acl])
    acls, _stat = zk.get_acls(path)
    assert acls == [acl]


def test_sync(zk, base):
    assert zk.sync(base) == base


def test_binary_data_roundtrip(zk, base):
    payload = bytes(range(256)) * 4
    path = zk.create(base + "/bin", payload)
    assert zk.get(path)[0] == payload


def test_large_data_roundtrip(zk, base):
    payload = b"z" * (1024 * 1000)
    path = zk.create(base + "/large", payload)
    data, stat = zk.get(path)
    assert data == payload
    assert stat.dataLength == len(payload)


def test_unicode_path(zk, base):
    path = zk.create(base + "/naïve-ünïcode-名前", b"")
    assert "naïve-ünïcode-名前" in zk.get_children(base)
    assert zk.exists(path) is not None


def test_acl_with_ip_scheme_is_accepted(zk, base):
    acl = ACL(31, Id("ip", "127.0.0.1"))
    path = zk.create(base + "/ip", b"", acl=[acl])
    assert zk.get_acls(path)[0] == [acl]
    assert zk.get(path)[0] == b""
