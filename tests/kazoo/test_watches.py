"""One-shot watches through kazoo: each kind fires once, with the right type and path.

To show that a watch did NOT fire a second time without sleeping, each test ends with a
"marker" watch on another node: kazoo delivers events in order on one callback thread, so
once the marker event has arrived, any earlier event would have arrived too.
"""

from kazoo.protocol.states import EventType

from conftest import EventLog


def flush(zk, base, log, expected_count):
    """Triggers a marker watch and returns every event seen up to and including it."""
    marker = base + "-marker"
    if zk.exists(marker) is None:
        zk.create(marker, b"")
    zk.get(marker, watch=log)
    zk.set(marker, b"tick")
    events = log.wait_for(expected_count + 1)
    zk.delete(marker)
    assert events[-1].path == marker, f"marker event missing: {events}"
    return events[:-1]


def test_get_watch_fires_once_on_data_change(zk, base):
    path = zk.create(base + "/w", b"")
    log = EventLog()
    zk.get(path, watch=log)
    zk.set(path, b"1")
    zk.set(path, b"2")
    events = flush(zk, base, log, 1)
    assert [(e.type, e.path) for e in events] == [(EventType.CHANGED, path)]


def test_exists_watch_on_missing_node_fires_created(zk, base):
    path = base + "/later"
    log = EventLog()
    assert zk.exists(path, watch=log) is None
    zk.create(path, b"")
    zk.set(path, b"x")
    events = flush(zk, base, log, 1)
    assert [(e.type, e.path) for e in events] == [(EventType.CREATED, path)]


def test_exists_watch_on_existing_node_fires_deleted(zk, base):
    path = zk.create(base + "/gone", b"")
    log = EventLog()
    assert zk.exists(path, watch=log) is not None
    zk.delete(path)
    events = flush(zk, base, log, 1)
    assert [(e.type, e.path) for e in events] == [(EventType.DELETED, path)]


def test_child_watch_fires_once_on_create_and_delete(zk, base):
    log = EventLog()
    zk.get_children(base, watch=log)
    zk.create(base + "/c1", b"")
    zk.create(base + "/c2", b"")
    zk.delete(base + "/c1")
    events = flush(zk, base, log, 1)
    assert [(e.type, e.path) for e in events] == [(EventType.CHILD, base)]


def test_child_watch_not_fired_by_child_data_change(zk, base):
    zk.create(base + "/c", b"")
    log = EventLog()
    zk.get_children(base, watch=log)
    zk.set(base + "/c", b"changed")
    zk.set(base, b"parent data change")
    events = flush(zk, base, log, 0)
    assert events == []


def test_child_watch_fires_deleted_when_node_is_deleted(zk, base):
    path = zk.create(base + "/p", b"")
    log = EventLog()
    zk.get_children(path, watch=log)
    zk.delete(path)
    events = flush(zk, base, log, 1)
    assert [(e.type, e.path) for e in events] == [(EventType.DELETED, path)]


def test_data_and_child_watch_on_deleted_node_both_fire(zk, base):
    path = zk.create(base + "/both", b"")
    data_log = EventLog()
    child_log = EventLog()
    zk.get(path, watch=data_log)
    zk.get_children(path, watch=child_log)
    zk.delete(path)
    assert [e.type for e in data_log.wait_for(1)] == [EventType.DELETED]
    assert [e.type for e in child_log.wait_for(1)] == [EventType.DELETED]


def test_watch_set_by_one_client_fires_on_change_by_another(zk, base, make_client):
    other = make_client()
    path = zk.create(base + "/shared", b"")
    log = EventLog()
    other.get(path, watch=log)
    zk.set(path, b"from zk")
    events = log.wait_for(1)
    assert [(e.type, e.path) for e in events] == [(EventType.CHANGED, path)]


def test_watch_rearmed_after_firing_fires_again(zk, base):
    path = zk.create(base + "/again", b"")
    first = EventLog()
    zk.get(path, watch=first)
    zk.set(path, b"1")
    assert [e.type for e in first.wait_for(1)] == [EventType.CHANGED]
    second = EventLog()
    zk.get(path, watch=second)
    zk.set(path, b"2")
    assert [e.type for e in second.wait_for(1)] == [EventType.CHANGED]


def test_event_arrives_before_the_data_is_visible(zk, base, make_client):
    """The ordering guarantee: a watcher sees the event before reading the new data."""
    other = make_client()
    path = zk.create(base + "/order", b"old")
    log = EventLog()
    zk.get(path, watch=log)
    other.set(path, b"new")
    # Poll with reads on the watching client; once it reads "new", the event is queued.
    from conftest import wait_until

    assert wait_until(lambda: zk.get(path)[0] == b"new")
    assert [e.type for e in log.wait_for(1)] == [EventType.CHANGED]


def test_data_watch_recipe_follows_changes(zk, base):
    path = zk.create(base + "/dw", b"0")
    seen = EventLog()

    @zk.DataWatch(path)
    def watcher(data, _stat):
        seen(data)

    assert seen.wait_for(1)[0] == b"0"
    zk.set(path, b"1")
    assert seen.wait_for(2)[1] == b"1"
    zk.set(path, b"2")
    assert seen.wait_for(3)[2] == b"2"


def test_children_watch_recipe_follows_changes(zk, base):
    seen = EventLog()

    @zk.ChildrenWatch(base)
    def watcher(children):
        seen(sorted(children))

    assert seen.wait_for(1)[0] == []
    zk.create(base + "/a", b"")
    assert seen.wait_for(2)[1] == ["a"]
    zk.create(base + "/b", b"")
    assert seen.wait_for(3)[2] == ["a", "b"]
