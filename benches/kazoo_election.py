#!/usr/bin/env python3
"""Herd-effect benchmark of kazoo's Election recipe, the outside reference for
`crates/zk-client/examples/election_bench.rs`.

    target/conformance-venv/bin/python benches/kazoo_election.py \
        --server 127.0.0.1:2181 [--sizes 10,100,1000] [--changes 10]

N contenders, each its own KazooClient (own session), all in this process, each running
`client.Election(path, "c<i>").run(func)` in a thread; `func` records when it became leader and
blocks until told to resign. For each of K leader changes the current leader's session is closed
(timestamp taken just before `client.stop()`), and the handover is the time until the successor's
`func` runs.

Notifications are counted client-side: `ConnectionHandler._read_watch_event` (kazoo's reader of
packets with xid -1, i.e. WATCH_XID) is wrapped to count, per client, every watch notification the
server delivers. After each change the herd (if any) is given time to settle, then every remaining
connection is flushed with a round trip (`exists("/")`), whose reply comes after every notification
sent before it; the counts of the remaining contenders before and after are compared.
"""

import argparse
import statistics
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.protocol import connection as kz_connection

_original_read_watch_event = kz_connection.ConnectionHandler._read_watch_event


def _counting_read_watch_event(self, buffer, offset):
    client = self.client
    client.bench_notifications = getattr(client, "bench_notifications", 0) + 1
    return _original_read_watch_event(self, buffer, offset)


kz_connection.ConnectionHandler._read_watch_event = _counting_read_watch_event


class Contender:
    def __init__(self, server, path, index, elected_cb):
        self.index = index
        self.client = KazooClient(hosts=server, timeout=30.0)
        self.client.bench_notifications = 0
        self.client.start(timeout=30)
        self.election = self.client.Election(path, "c%d" % index)
        self.resign = threading.Event()
        self.elected_at = None
        self._elected_cb = elected_cb
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _lead(self):
        self.elected_at = time.perf_counter()
        self._elected_cb(self.index, self.elected_at)
        self.resign.wait()

    def _run(self):
        try:
            self.election.run(self._lead)
        except Exception:
            # The leader's release fails once its client is stopped; that is expected.
            pass

    def start(self):
        self.thread.start()
        # Wait until the contender's lock node exists, so that contenders queue in index order.
        deadline = time.monotonic() + 30
        while self.election.lock.node is None:
            if time.monotonic() > deadline:
                raise RuntimeError("contender %d did not create its node" % self.index)
            time.sleep(0.001)

    def notifications(self):
        return self.client.bench_notifications

    def stop(self):
        try:
            self.client.stop()
        finally:
            self.resign.set()
            self.client.close()


def run(server, size, changes):
    admin = KazooClient(hosts=server, timeout=30.0)
    admin.start(timeout=30)
    path = "/kazoo-election-bench-%d-%d" % (size, int(time.time() * 1000))
    admin.ensure_path(path)

    elected = []
    elected_cv = threading.Condition()

    def on_elected(index, at):
        with elected_cv:
            elected.append((index, at))
            elected_cv.notify_all()

    def next_elected(timeout=60.0):
        with elected_cv:
            if not elected_cv.wait_for(lambda: elected, timeout):
                raise RuntimeError("no successor within %.0f s" % timeout)
            return elected.pop(0)

    contenders = []
    for i in range(size):
        c = Contender(server, path, i, on_elected)
        c.start()
        contenders.append(c)
    first, _ = next_elected()
    if first != 0:
        raise RuntimeError("contender %d led first" % first)
    # Let every contender set its watch before the first change.
    time.sleep(0.2 + size / 1000.0)

    changes = min(changes, size - 1)
    handovers = []
    notifications = 0
    for leader in range(changes):
        rest = contenders[leader + 1:]
        before = sum(c.notifications() for c in rest)
        closed_at = time.perf_counter()
        contenders[leader].stop()
        nxt, at = next_elected()
        if nxt != leader + 1:
            raise RuntimeError("contender %d followed %d" % (nxt, leader))
        handovers.append(at - closed_at)
        # Let the herd (if any) settle, then flush every connection with a round trip.
        time.sleep(0.1 + size / 2000.0)
        flushes = [c.client.exists_async("/") for c in rest]
        for f in flushes:
            f.get(timeout=60)
        after = sum(c.notifications() for c in rest)
        notifications += after - before

    for c in contenders[changes:]:
        c.resign.set()
        c.stop()
    try:
        admin.delete(path, recursive=True)
    except Exception:
        pass
    admin.stop()
    admin.close()
    return {
        "notifications_per_change": notifications / changes,
        "handover_mean": statistics.mean(handovers),
        "handover_max": max(handovers),
        "changes": changes,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--server", default="127.0.0.1:2181")
    p.add_argument("--sizes", default="10,100,1000")
    p.add_argument("--changes", type=int, default=10)
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    threading.stack_size(256 * 1024)

    print("| contenders | variant | notifications per change | handover mean (ms) | handover max (ms) | changes |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in sizes:
        t0 = time.monotonic()
        o = run(args.server, size, args.changes)
        print(
            "| %d | kazoo Election | %.1f | %.1f | %.1f | %d |"
            % (size, o["notifications_per_change"], o["handover_mean"] * 1e3,
               o["handover_max"] * 1e3, o["changes"]),
            flush=True,
        )
        print("  (size %d took %.1f s)" % (size, time.monotonic() - t0), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
