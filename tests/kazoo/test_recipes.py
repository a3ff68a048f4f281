"""kazoo's recipes, built only from the primitives, work unchanged against the server."""

import threading

from kazoo.recipe.barrier import Barrier, DoubleBarrier
from kazoo.recipe.counter import Counter
from kazoo.recipe.election import Election
from kazoo.recipe.lock import Lock, ReadLock, Semaphore, WriteLock
from kazoo.recipe.party import Party, ShallowParty
from kazoo.recipe.queue import LockingQueue, Queue

from conftest import WAIT, EventLog, wait_until


def run_threads(targets):
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert not any(t.is_alive() for t in threads), "a recipe thread did not finish"


def test_lock_is_mutually_exclusive(make_client, base):
    clients = [make_client() for _ in range(3)]
    holders = []
    inside = []
    guard = threading.Lock()

    def worker(client, name):
        def run():
            for _ in range(3):
                with Lock(client, base + "/lock", identifier=name):
                    with guard:
                        inside.append(name)
                        assert len(inside) == 1, inside
                    holders.append(name)
                    with guard:
                        inside.remove(name)
        return run

    run_threads([worker(c, f"w{i}") for i, c in enumerate(clients)])
    assert sorted(holders) == sorted([f"w{i}" for i in range(3)] * 3)


def test_lock_contenders_and_release(make_client, base):
    first, second = make_client(), make_client()
    lock1 = Lock(first, base + "/lock", identifier="one")
    lock2 = Lock(second, base + "/lock", identifier="two")
    assert lock1.acquire(timeout=WAIT)
    assert not lock2.acquire(blocking=False)
    assert lock1.contenders() == ["one"]
    acquired = threading.Event()

    def take():
        if lock2.acquire(timeout=WAIT):
            acquired.set()

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    lock1.release()
    assert acquired.wait(WAIT)
    thread.join(WAIT)
    lock2.release()


def test_lock_released_when_holder_session_closes(make_client, base):
    first, second = make_client(), make_client()
    assert Lock(first, base + "/lock").acquire(timeout=WAIT)
    first.stop()
    lock = Lock(second, base + "/lock")
    assert lock.acquire(timeout=WAIT)
    lock.release()


def test_read_write_locks(make_client, base):
    a, b = make_client(), make_client()
    read_a = ReadLock(a, base + "/rw")
    read_b = ReadLock(b, base + "/rw")
    assert read_a.acquire(timeout=WAIT)
    assert read_b.acquire(timeout=WAIT)
    write = WriteLock(a, base + "/rw")
    assert not write.acquire(blocking=False)
    read_a.release()
    read_b.release()
    assert write.acquire(timeout=WAIT)
    write.release()


def test_semaphore(make_client, base):
    a, b, c = make_client(), make_client(), make_client()
    sem_a = Semaphore(a, base + "/sem", max_leases=2)
    sem_b = Semaphore(b, base + "/sem", max_leases=2)
    sem_c = Semaphore(c, base + "/sem", max_leases=2)
    assert sem_a.acquire(timeout=WAIT)
    assert sem_b.acquire(timeout=WAIT)
    assert not sem_c.acquire(blocking=False)
    sem_a.release()
    assert sem_c.acquire(timeout=WAIT)
    sem_b.release()
    sem_c.release()


def test_election_picks_one_leader_then_the_next(make_client, base):
    a, b = make_client(), make_client()
    elected = []
    a_leads = threading.Event()
    release_a = threading.Event()
    b_leads = threading.Event()

    def lead_a():
        elected.append("a")
        a_leads.set()
        release_a.wait(WAIT)

    def lead_b():
        elected.append("b")
        b_leads.set()

    election_a = Election(a, base + "/election", "a")
    election_b = Election(b, base + "/election", "b")
    thread_a = threading.Thread(target=election_a.run, args=(lead_a,), daemon=True)
    thread_a.start()
    assert a_leads.wait(WAIT)
    thread_b = threading.Thread(target=election_b.run, args=(lead_b,), daemon=True)
    thread_b.start()
    assert sorted(election_a.contenders()) == ["a", "b"] or wait_contenders(election_a)
    assert not b_leads.is_set()
    release_a.set()
    assert b_leads.wait(WAIT)
    thread_a.join(WAIT)
    thread_b.join(WAIT)
    assert elected == ["a", "b"]


def wait_contenders(election):

    return wait_until(lambda: sorted(election.contenders()) == ["a", "b"])


def test_barrier(make_client, base):
    a, b = make_client(), make_client()
    barrier = Barrier(a, base + "/barrier")
    barrier.create()
    waiter = Barrier(b, base + "/barrier")
    assert waiter.wait(timeout=0.2) is False
    passed = threading.Event()

    def wait():
        if waiter.wait(timeout=WAIT):
            passed.set()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    barrier.remove()
    assert passed.wait(WAIT)
    thread.join(WAIT)


def test_double_barrier(make_client, base):
    clients = [make_client() for _ in range(3)]
    entered = []
    left = []

    def member(client, name):
        def run():
            barrier = DoubleBarrier(client, base + "/double", 3, identifier=name)
            barrier.enter()
            entered.append(name)
            barrier.leave()
            left.append(name)
        return run

    run_threads([member(c, f"m{i}") for i, c in enumerate(clients)])
    assert sorted(entered) == ["m0", "m1", "m2"]
    assert sorted(left) == ["m0", "m1", "m2"]


def test_queue_orders_by_priority_then_fifo(zk, base, make_client):
    queue = Queue(zk, base + "/queue")
    queue.put(b"low", priority=200)
    queue.put(b"first")
    queue.put(b"second")
    queue.put(b"urgent", priority=1)
    consumer = Queue(make_client(), base + "/queue")
    assert len(consumer) == 4
    assert [consumer.get() for _ in range(4)] == [b"urgent", b"first", b"second", b"low"]
    assert consumer.get() is None


def test_locking_queue(zk, base, make_client):
    producer = LockingQueue(zk, base + "/lq")
    producer.put_all([b"a", b"b"])
    consumer = LockingQueue(make_client(), base + "/lq")
    assert consumer.get(timeout=WAIT) == b"a"
    assert consumer.holds_lock()
    assert consumer.consume()
    assert consumer.get(timeout=WAIT) == b"b"
    # Released without consuming: the item goes back for the next consumer.
    assert consumer.release()
    other = LockingQueue(make_client(), base + "/lq")
    assert other.get(timeout=WAIT) == b"b"
    assert other.consume()
    assert len(other) == 0


def test_counter_concurrent_increments(make_client, base):
    clients = [make_client() for _ in range(3)]

    def bump(client):
        def run():
            counter = Counter(client, base + "/counter")
            for _ in range(10):
                counter += 1
        return run

    run_threads([bump(c) for c in clients])
    assert Counter(clients[0], base + "/counter").value == 30


def test_counter_float_and_decrement(zk, base):
    counter = Counter(zk, base + "/fc", default=0.0)
    counter += 2.5
    counter -= 1.0
    assert counter.value == 1.5


def test_party(make_client, base):
    a, b = make_client(), make_client()
    party_a = Party(a, base + "/party", "alpha")
    party_b = Party(b, base + "/party", "beta")
    party_a.join()
    party_b.join()
    assert sorted(party_a) == ["alpha", "beta"]
    assert len(party_b) == 2
    party_b.leave()
    assert list(party_a) == ["alpha"]
    b.stop()
    party_a.leave()
    assert len(party_a) == 0


def test_party_member_leaves_with_its_session(make_client, base):
    a, b = make_client(), make_client()
    Party(b, base + "/party", "beta").join()
    observer = Party(a, base + "/party")
    assert list(observer) == ["beta"]
    b.stop()

    assert wait_until(lambda: len(observer) == 0)


def test_shallow_party(make_client, base):
    a, b = make_client(), make_client()
    party_a = ShallowParty(a, base + "/shallow", "alpha")
    party_b = ShallowParty(b, base + "/shallow", "beta")
    party_a.join()
    party_b.join()
    assert sorted(party_a) == ["alpha", "beta"]
    party_a.leave()
    assert list(party_b) == ["beta"]


def test_tree_cache_follows_the_tree(zk, base, make_client):
    from kazoo.recipe.cache import TreeCache, TreeEvent

    cache = TreeCache(make_client(), base)
    log = EventLog()
    cache.listen(log)
    cache.start()
    try:
        assert wait_until(lambda: any(e.event_type == TreeEvent.INITIALIZED for e in log.events))
        zk.create(base + "/a/b", b"deep", makepath=True)
        assert wait_until(lambda: cache.get_data(base + "/a/b") is not None)
        zk.set(base + "/a", b"changed")
        assert wait_until(lambda: cache.get_data(base + "/a").data == b"changed")
        zk.delete(base + "/a/b")
        assert wait_until(lambda: cache.get_data(base + "/a/b") is None)

        def seen(kind, path):
            return wait_until(lambda: any(
                e.event_type == kind and e.event_data and e.event_data.path == path
                for e in list(log.events)))

        assert seen(TreeEvent.NODE_ADDED, base + "/a")
        assert seen(TreeEvent.NODE_ADDED, base + "/a/b")
        assert seen(TreeEvent.NODE_UPDATED, base + "/a")
        assert seen(TreeEvent.NODE_REMOVED, base + "/a/b")
        assert cache.get_data(base + "/a").data == b"changed"
        assert cache.get_children(base + "/a") == frozenset()
    finally:
        cache.close()


def test_set_partitioner_splits_the_set(make_client, base):
    from kazoo.recipe.partitioner import SetPartitioner

    items = [f"item-{i}" for i in range(6)]
    a = SetPartitioner(make_client(), base + "/part", items, identifier="a", time_boundary=0.5)
    b = SetPartitioner(make_client(), base + "/part", items, identifier="b", time_boundary=0.5)
    try:
        def settled():
            for partitioner in (a, b):
                if partitioner.release:
                    partitioner.release_set()
                elif partitioner.allocating:
                    partitioner.wait_for_acquire(timeout=WAIT)
            return a.acquired and b.acquired


        assert wait_until(settled, interval=0.2)
        mine, theirs = set(a), set(b)
        assert mine | theirs == set(items)
        assert not mine & theirs
        assert mine and theirs
    finally:
        a.finish()
        b.finish()
