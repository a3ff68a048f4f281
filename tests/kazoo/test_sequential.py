"""Sequential naming: %010d suffixes, monotonic per parent, also after deletes."""

import re


def suffix(path):
    match = re.search(r"(\d{10})$", path)
    assert match, f"{path!r} does not end in a 10-digit sequence number"
    return int(match.group(1))


def test_first_sequential_child_is_zero_padded(zk, base):
    path = zk.create(base + "/n-", b"", sequence=True)
    assert path == base + "/n-0000000000"


def test_suffix_counts_every_create_under_the_parent(zk, base):
    zk.create(base + "/plain", b"")
    path = zk.create(base + "/seq-", b"", sequence=True)
    assert path == base + "/seq-0000000001"


def test_sequence_is_monotonic_after_deletes(zk, base):
    first = zk.create(base + "/s-", b"", sequence=True)
    second = zk.create(base + "/s-", b"", sequence=True)
    zk.delete(first)
    zk.delete(second)
    third = zk.create(base + "/s-", b"", sequence=True)
    assert suffix(first) == 0
    assert suffix(second) == 1
    assert suffix(third) == 2


def test_sequence_is_shared_across_prefixes_and_modes(zk, base):
    a = zk.create(base + "/a-", b"", sequence=True)
    b = zk.create(base + "/b-", b"", sequence=True, ephemeral=True)
    c = zk.create(base + "/", b"", sequence=True)
    assert [suffix(a), suffix(b), suffix(c)] == [0, 1, 2]
    assert c == base + "/0000000002"


def test_sequence_is_per_parent(zk, base):
    zk.create(base + "/p1", b"")
    zk.create(base + "/p2", b"")
    x = zk.create(base + "/p1/x", b"", sequence=True)
    y = zk.create(base + "/p2/y", b"", sequence=True)
    assert suffix(x) == 0
    assert suffix(y) == 0


def test_failed_create_does_not_consume_a_number(zk, base):
    zk.create(base + "/dup", b"")
    try:
        zk.create(base + "/dup", b"")
    except Exception:  # noqa: BLE001 - NodeExists is expected; the counter is what matters
        pass
    path = zk.create(base + "/s-", b"", sequence=True)
    assert suffix(path) == 1


def test_many_sequentials_are_unique_and_increasing(zk, base):
    paths = [zk.create(base + "/m-", b"", sequence=True) for _ in range(50)]
    numbers = [suffix(p) for p in paths]
    assert numbers == list(range(50))
    assert sorted(zk.get_children(base)) == sorted(p.rsplit("/", 1)[1] for p in paths)


def test_sequential_create2_returns_stat_of_the_new_node(zk, base):
    path, stat = zk.create(base + "/z-", b"data", sequence=True, include_data=True)
    assert suffix(path) == 0
    assert stat.dataLength == 4
    assert zk.exists(path) == stat
