// Apache Curator 5 (Debian's libcurator-recipes-java) against the server at ZK_ADDR.
//
// Each check uses its own path under /curator-conformance-<start time>, asserts what ZooKeeper
// 3.8 does, and prints PASS or FAIL with the reason; the last line is
// "curator: N passed, M failed" and the exit status is 1 if any check failed. Waits are bounded
// (WAIT_S) only so that a missing event fails the check instead of hanging it; no check
// depends on how fast anything happens. `cargo xtask conformance --suite curator` compiles and
// runs it against our server, an ensemble of ours and Apache ZooKeeper.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.OperationType;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.nodes.GroupMember;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

public class CuratorConformance {
    /** Upper bound of every wait: a missing event fails its check instead of hanging. */
    static final long WAIT_S = 30;

    interface Check {
        void run(String root) throws Exception;
    }

    /** A call expected to fail. */
    interface Call {
        void run() throws Exception;
    }

    static String addr;
    static final List<CuratorFramework> clients = new CopyOnWriteArrayList<>();

    static CuratorFramework client() throws InterruptedException {
        return client(null);
    }

    static CuratorFramework client(String digest) throws InterruptedException {
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(addr)
                .sessionTimeoutMs(30_000)
                .connectionTimeoutMs(15_000)
                .retryPolicy(new RetryNTimes(20, 250));
        if (digest != null) {
            builder.authorization("digest", digest.getBytes(StandardCharsets.UTF_8));
        }
        CuratorFramework c = builder.build();
        clients.add(c);
        c.start();
        if (!c.blockUntilConnected((int) WAIT_S, TimeUnit.SECONDS)) {
            throw new AssertionError("no connection to " + addr);
        }
        return c;
    }

    static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    static void equal(Object expected, Object actual, String what) {
        if (expected == null ? actual != null : !expected.equals(actual)) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }

    static void fails(Class<? extends Throwable> kind, Call call, String what) {
        try {
            call.run();
        } catch (Throwable t) {
            if (kind.isInstance(t)) {
                return;
            }
            throw new AssertionError(what + ": expected " + kind.getSimpleName() + ", got " + t, t);
        }
        throw new AssertionError(what + ": expected " + kind.getSimpleName() + ", it succeeded");
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static void await(CountDownLatch latch, String what) throws InterruptedException {
        check(latch.await(WAIT_S, TimeUnit.SECONDS), "never happened: " + what);
    }

    // ---- the checks ----

    static void crud(String root) throws Exception {
        CuratorFramework c = client();
        String p = root + "/a/b/c";
        equal(p, c.create().creatingParentsIfNeeded().forPath(p, bytes("v0")), "created path");
        Stat stat = c.checkExists().forPath(p);
        check(stat != null, "exists after create");
        equal(0, stat.getVersion(), "version after create");
        equal(2, stat.getDataLength(), "dataLength");
        equal("v0", text(c.getData().forPath(p)), "data");
        Stat set = c.setData().withVersion(0).forPath(p, bytes("v1"));
        equal(1, set.getVersion(), "version after setData");
        check(set.getMzxid() > set.getCzxid(), "mzxid moves past czxid");
        fails(KeeperException.BadVersionException.class,
                () -> c.setData().withVersion(0).forPath(p, bytes("v2")), "setData with a stale version");
        fails(KeeperException.NodeExistsException.class,
                () -> c.create().forPath(p), "create of an existing node");
        fails(KeeperException.NoNodeException.class,
                () -> c.create().forPath(root + "/missing/child"), "create under a missing parent");
        fails(KeeperException.NotEmptyException.class,
                () -> c.delete().forPath(root + "/a"), "delete of a node with children");
        c.create().forPath(root + "/a/b/d");
        List<String> children = new ArrayList<>(c.getChildren().forPath(root + "/a/b"));
        Collections.sort(children);
        equal(Arrays.asList("c", "d"), children, "children");
        Stat parent = c.checkExists().forPath(root + "/a/b");
        equal(2, parent.getNumChildren(), "numChildren");
        equal(2, parent.getCversion(), "cversion");
        c.delete().deletingChildrenIfNeeded().forPath(root + "/a");
        check(c.checkExists().forPath(root + "/a") == null, "gone after recursive delete");
        fails(KeeperException.NoNodeException.class,
                () -> c.getData().forPath(p), "getData of a deleted node");
    }

    static void createModes(String root) throws Exception {
        CuratorFramework c = client();
        c.create().forPath(root);
        Stat stat = new Stat();
        String first = c.create().storingStatIn(stat).withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                .forPath(root + "/n-", bytes("x"));
        String second = c.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(root + "/n-");
        check(first.matches(".*/n-\\d{10}"), "sequential name " + first);
        check(second.compareTo(first) > 0, "sequence increases: " + first + " then " + second);
        long session = c.getZookeeperClient().getZooKeeper().getSessionId();
        equal(session, stat.getEphemeralOwner(), "ephemeralOwner of create2's stat");
        equal(session, c.checkExists().forPath(second).getEphemeralOwner(), "ephemeralOwner");
        fails(KeeperException.NoChildrenForEphemeralsException.class,
                () -> c.create().forPath(first + "/child"), "child of an ephemeral");
        String persistentSeq = c.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                .forPath(root + "/p-");
        check(persistentSeq.matches(".*/p-\\d{10}"), "persistent sequential name " + persistentSeq);
        equal(0L, c.checkExists().forPath(persistentSeq).getEphemeralOwner(), "no owner");
        c.create().withMode(CreateMode.CONTAINER).forPath(root + "/container");
        check(c.checkExists().forPath(root + "/container") != null, "container created");
        // Ephemerals go with their session.
        c.close();
        CuratorFramework other = client();
        check(other.checkExists().forPath(first) == null, "ephemeral gone after close");
        check(other.checkExists().forPath(persistentSeq) != null, "persistent stays");
    }

    static void transactions(String root) throws Exception {
        CuratorFramework c = client();
        c.create().forPath(root, bytes("r"));
        CuratorOp create = c.transactionOp().create().forPath(root + "/t1", bytes("a"));
        CuratorOp set = c.transactionOp().setData().withVersion(0).forPath(root, bytes("r1"));
        CuratorOp check = c.transactionOp().check().withVersion(0).forPath(root + "/t1");
        List<CuratorTransactionResult> results = c.transaction().forOperations(create, set, check);
        equal(3, results.size(), "results");
        equal(OperationType.CREATE, results.get(0).getType(), "first result");
        equal(root + "/t1", results.get(0).getResultPath(), "created path");
        equal(1, results.get(1).getResultStat().getVersion(), "setData result version");
        // One failing op rolls back the others.
        CuratorOp create2 = c.transactionOp().create().forPath(root + "/t2");
        CuratorOp stale = c.transactionOp().setData().withVersion(0).forPath(root, bytes("r2"));
        fails(KeeperException.BadVersionException.class,
                () -> c.transaction().forOperations(create2, stale), "transaction with a stale version");
        check(c.checkExists().forPath(root + "/t2") == null, "rolled back create");
        equal("r1", text(c.getData().forPath(root)), "data untouched by the failed transaction");
    }

    static void createOrSetAndTtl(String root) throws Exception {
        CuratorFramework c = client();
        c.create().forPath(root);
        c.create().orSetData().forPath(root + "/k", bytes("1"));
        c.create().orSetData().forPath(root + "/k", bytes("2"));
        equal("2", text(c.getData().forPath(root + "/k")), "create().orSetData() on an existing node");
        equal(1, c.checkExists().forPath(root + "/k").getVersion(), "version after orSetData");
        // `cargo xtask conformance` runs both servers with extendedTypesEnabled=true.
        c.create().withTtl(60_000).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath(root + "/ttl");
        long owner = c.checkExists().forPath(root + "/ttl").getEphemeralOwner();
        // The server keeps the TTL in the owner field and shows clients 0, as for containers.
        equal(0L, owner, "a TTL node's ephemeralOwner as a client sees it");
        String sequential = c.create().withTtl(60_000)
                .withMode(CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL).forPath(root + "/ttl-");
        check(sequential.matches(".*/ttl-\\d{10}"), "sequential TTL name " + sequential);
    }

    static void removeWatches(String root) throws Exception {
        CuratorFramework c = client();
        c.create().forPath(root, bytes("0"));
        BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
        Watcher watcher = events::add;
        c.getData().usingWatcher(watcher).forPath(root);
        c.watchers().remove(watcher).ofType(Watcher.WatcherType.Data).forPath(root);
        WatchedEvent removed = events.poll(WAIT_S, TimeUnit.SECONDS);
        check(removed != null, "no DataWatchRemoved event");
        equal(Watcher.Event.EventType.DataWatchRemoved, removed.getType(), "event of the removal");
        c.setData().forPath(root, bytes("1"));
        noMoreEvents(c, root, events, "a removed watch fired");
        fails(KeeperException.NoWatcherException.class,
                () -> c.watchers().remove(watcher).ofType(Watcher.WatcherType.Data).forPath(root),
                "removing a watch that is not there");
    }

    static void oneShotWatches(String root) throws Exception {
        CuratorFramework c = client();
        c.create().forPath(root, bytes("0"));
        BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
        Watcher watcher = events::add;
        c.getData().usingWatcher(watcher).forPath(root);
        c.checkExists().usingWatcher(watcher).forPath(root + "/later");
        c.getChildren().usingWatcher(watcher).forPath(root);
        CuratorFramework writer = client();
        writer.setData().forPath(root, bytes("1"));
        writer.create().forPath(root + "/later");
        writer.setData().forPath(root, bytes("2"));
        List<Watcher.Event.EventType> seen = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            WatchedEvent event = events.poll(WAIT_S, TimeUnit.SECONDS);
            check(event != null, "only " + seen + " fired");
            seen.add(event.getType());
        }
        check(seen.contains(Watcher.Event.EventType.NodeDataChanged), "data watch: " + seen);
        check(seen.contains(Watcher.Event.EventType.NodeCreated), "exists watch: " + seen);
        check(seen.contains(Watcher.Event.EventType.NodeChildrenChanged), "child watch: " + seen);
        // One-shot: the second setData fired nothing more.
        noMoreEvents(c, root, events, "a one-shot watch fired twice");
    }

    /**
     * Checks that `events` got nothing more. A sync and a read of `path` through `c` come after
     * every change made so far, and ZooKeeper delivers a watch event before the reply of a
     * later read, so any stray event is queued by then.
     */
    static void noMoreEvents(CuratorFramework c, String path, BlockingQueue<WatchedEvent> events,
            String what) throws Exception {
        c.sync().forPath(path);
        c.getData().forPath(path);
        equal(null, events.poll(), what);
    }

    static void persistentRecursiveWatch(String root) throws Exception {
        CuratorFramework c = client();
        c.create().forPath(root);
        BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
        try (PersistentWatcher watcher = new PersistentWatcher(c, root, true)) {
            CountDownLatch registered = new CountDownLatch(1);
            watcher.getResetListenable().addListener(registered::countDown);
            watcher.getListenable().addListener(events::add);
            watcher.start();
            await(registered, "addWatch registered");
            c.create().creatingParentsIfNeeded().forPath(root + "/x/y", bytes("1"));
            c.setData().forPath(root + "/x/y", bytes("2"));
            c.setData().forPath(root + "/x/y", bytes("3"));
            c.delete().forPath(root + "/x/y");
            List<String> seen = new ArrayList<>();
            while (seen.size() < 5) {
                WatchedEvent event = events.poll(WAIT_S, TimeUnit.SECONDS);
                check(event != null, "only " + seen + " arrived");
                seen.add(event.getType() + " " + event.getPath());
            }
            equal(Arrays.asList(
                    "NodeCreated " + root + "/x",
                    "NodeCreated " + root + "/x/y",
                    "NodeDataChanged " + root + "/x/y",
                    "NodeDataChanged " + root + "/x/y",
                    "NodeDeleted " + root + "/x/y"), seen, "recursive watch events");
        }
    }

    static void curatorCache(String root) throws Exception {
        CuratorFramework c = client();
        c.create().forPath(root);
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        CountDownLatch initialized = new CountDownLatch(1);
        try (CuratorCache cache = CuratorCache.build(c, root)) {
            cache.listenable().addListener(CuratorCacheListener.builder()
                    .forCreates(node -> events.add("created " + node.getPath()))
                    .forChanges((before, after) -> events.add("changed " + after.getPath() + " "
                            + text(after.getData())))
                    .forDeletes(node -> events.add("deleted " + node.getPath()))
                    .forInitialized(initialized::countDown)
                    .build());
            cache.start();
            await(initialized, "cache initialized");
            equal("created " + root, events.poll(WAIT_S, TimeUnit.SECONDS), "the root itself");
            CuratorFramework writer = client();
            writer.create().forPath(root + "/k", bytes("v1"));
            equal("created " + root + "/k", events.poll(WAIT_S, TimeUnit.SECONDS), "create");
            writer.setData().forPath(root + "/k", bytes("v2"));
            equal("changed " + root + "/k v2", events.poll(WAIT_S, TimeUnit.SECONDS), "change");
            writer.delete().forPath(root + "/k");
            equal("deleted " + root + "/k", events.poll(WAIT_S, TimeUnit.SECONDS), "delete");
            check(cache.get(root + "/k").isEmpty(), "the cache forgot the deleted node");
        }
    }

    /** PathChildrenCache and TreeCache: the older caches, built on one-shot watches. */
    @SuppressWarnings("deprecation")
    static void legacyCaches(String root) throws Exception {
        CuratorFramework c = client();
        c.create().forPath(root);
        BlockingQueue<String> children = new LinkedBlockingQueue<>();
        BlockingQueue<String> tree = new LinkedBlockingQueue<>();
        try (PathChildrenCache childCache = new PathChildrenCache(c, root, true);
             TreeCache treeCache = TreeCache.newBuilder(c, root).build()) {
            childCache.getListenable().addListener((client, event) -> children.add(event.getType()
                    + (event.getData() == null ? "" : " " + event.getData().getPath()
                    + " " + text(event.getData().getData()))));
            treeCache.getListenable().addListener((client, event) -> tree.add(event.getType()
                    + (event.getData() == null ? "" : " " + event.getData().getPath())));
            childCache.start(PathChildrenCache.StartMode.POST_INITIALIZED_EVENT);
            treeCache.start();
            equal("INITIALIZED", children.poll(WAIT_S, TimeUnit.SECONDS), "child cache initialised");
            equal("NODE_ADDED " + root, tree.poll(WAIT_S, TimeUnit.SECONDS), "tree cache root");
            equal("INITIALIZED", tree.poll(WAIT_S, TimeUnit.SECONDS), "tree cache initialised");
            CuratorFramework writer = client();
            writer.create().forPath(root + "/a", bytes("1"));
            equal("CHILD_ADDED " + root + "/a 1", children.poll(WAIT_S, TimeUnit.SECONDS), "child added");
            equal("NODE_ADDED " + root + "/a", tree.poll(WAIT_S, TimeUnit.SECONDS), "tree: added");
            writer.create().forPath(root + "/a/deep", bytes("d"));
            equal("NODE_ADDED " + root + "/a/deep", tree.poll(WAIT_S, TimeUnit.SECONDS), "tree: nested");
            writer.setData().forPath(root + "/a", bytes("2"));
            equal("CHILD_UPDATED " + root + "/a 2", children.poll(WAIT_S, TimeUnit.SECONDS), "child updated");
            equal("NODE_UPDATED " + root + "/a", tree.poll(WAIT_S, TimeUnit.SECONDS), "tree: updated");
            writer.delete().deletingChildrenIfNeeded().forPath(root + "/a");
            String removed = children.poll(WAIT_S, TimeUnit.SECONDS);
            check(removed != null && removed.startsWith("CHILD_REMOVED " + root + "/a "), "child removed: " + removed);
            List<String> gone = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                gone.add(tree.poll(WAIT_S, TimeUnit.SECONDS));
            }
            Collections.sort(gone);
            equal(Arrays.asList("NODE_REMOVED " + root + "/a", "NODE_REMOVED " + root + "/a/deep"), gone,
                    "tree: removed");
        }
    }

    static void mutex(String root) throws Exception {
        InterProcessMutex first = new InterProcessMutex(client(), root);
        InterProcessMutex second = new InterProcessMutex(client(), root);
        check(first.acquire(WAIT_S, TimeUnit.SECONDS), "first acquires");
        check(first.acquire(WAIT_S, TimeUnit.SECONDS), "re-entrant acquire");
        check(!second.acquire(1, TimeUnit.SECONDS), "second acquired a held lock");
        first.release();
        check(first.isAcquiredInThisProcess(), "still held once after one release");
        first.release();
        check(second.acquire(WAIT_S, TimeUnit.SECONDS), "second acquires after release");
        second.release();
    }

    static void semaphore(String root) throws Exception {
        List<Lease> leases = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Lease lease = new InterProcessSemaphoreV2(client(), root, 2).acquire(WAIT_S, TimeUnit.SECONDS);
            check(lease != null, "lease " + i);
            leases.add(lease);
        }
        InterProcessSemaphoreV2 third = new InterProcessSemaphoreV2(client(), root, 2);
        check(third.acquire(1, TimeUnit.SECONDS) == null, "a third lease out of two");
        leases.get(0).close();
        Lease late = third.acquire(WAIT_S, TimeUnit.SECONDS);
        check(late != null, "a lease after one was returned");
        late.close();
        leases.get(1).close();
    }

    static void leaderLatch(String root) throws Exception {
        List<LeaderLatch> latches = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            LeaderLatch latch = new LeaderLatch(client(), root, "c" + i);
            latch.start();
            latches.add(latch);
        }
        LeaderLatch leader = onlyLeader(latches);
        equal(leader.getId(), latches.get(0).getLeader().getId(), "everyone names the leader");
        latches.remove(leader);
        leader.close();
        onlyLeader(latches);
        for (LeaderLatch latch : latches) {
            latch.close();
        }
    }

    /** Waits until one of `latches` leads, and checks that no other does. */
    static LeaderLatch onlyLeader(List<LeaderLatch> latches) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (System.nanoTime() < deadline) {
            List<LeaderLatch> leaders = new ArrayList<>();
            for (LeaderLatch latch : latches) {
                if (latch.hasLeadership()) {
                    leaders.add(latch);
                }
            }
            check(leaders.size() <= 1, leaders.size() + " leaders at once");
            if (leaders.size() == 1) {
                return leaders.get(0);
            }
            Thread.sleep(20);
        }
        throw new AssertionError("nobody leads");
    }

    static void leaderSelector(String root) throws Exception {
        List<String> order = new CopyOnWriteArrayList<>();
        CountDownLatch allLed = new CountDownLatch(3);
        AtomicInteger leadingNow = new AtomicInteger();
        AtomicInteger overlap = new AtomicInteger();
        List<LeaderSelector> selectors = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String name = "s" + i;
            LeaderSelector selector = new LeaderSelector(client(), root, new LeaderSelectorListenerAdapter() {
                @Override
                public void takeLeadership(CuratorFramework c) throws Exception {
                    if (leadingNow.incrementAndGet() > 1) {
                        overlap.incrementAndGet();
                    }
                    order.add(name);
                    Thread.sleep(50);
                    leadingNow.decrementAndGet();
                    allLed.countDown();
                }
            });
            selectors.add(selector);
            selector.start();
        }
        await(allLed, "each selector led once; led so far: " + order);
        equal(0, overlap.get(), "two leaders at once");
        equal(3L, order.stream().distinct().count(), "distinct leaders " + order);
        for (LeaderSelector selector : selectors) {
            selector.close();
        }
    }

    static void counters(String root) throws Exception {
        CuratorFramework a = client();
        CuratorFramework b = client();
        DistributedAtomicLong la = new DistributedAtomicLong(a, root + "/long", new RetryNTimes(50, 10));
        DistributedAtomicLong lb = new DistributedAtomicLong(b, root + "/long", new RetryNTimes(50, 10));
        for (int i = 0; i < 10; i++) {
            AtomicValue<Long> va = la.increment();
            AtomicValue<Long> vb = lb.increment();
            check(va.succeeded() && vb.succeeded(), "increment " + i);
        }
        equal(20L, la.get().postValue(), "atomic long after 20 increments");
        try (SharedCount ca = new SharedCount(a, root + "/count", 0);
             SharedCount cb = new SharedCount(b, root + "/count", 0)) {
            ca.start();
            cb.start();
            VersionedValue<Integer> stale = cb.getVersionedValue();
            check(ca.trySetCount(ca.getVersionedValue(), 5), "first versioned set");
            check(!cb.trySetCount(stale, 7), "a set with a stale version succeeded");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
            while (cb.getCount() != 5 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            equal(5, cb.getCount(), "the other client sees the count");
        }
    }

    static void doubleBarrier(String root) throws Exception {
        int members = 3;
        CountDownLatch entered = new CountDownLatch(members);
        CountDownLatch left = new CountDownLatch(members);
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        for (int i = 0; i < members; i++) {
            CuratorFramework c = client();
            new Thread(() -> {
                try {
                    DistributedDoubleBarrier barrier = new DistributedDoubleBarrier(c, root, members);
                    check(barrier.enter(WAIT_S, TimeUnit.SECONDS), "enter");
                    entered.countDown();
                    check(barrier.leave(WAIT_S, TimeUnit.SECONDS), "leave");
                    left.countDown();
                } catch (Throwable t) {
                    errors.add(t);
                }
            }).start();
        }
        await(entered, "all entered (errors " + errors + ")");
        await(left, "all left (errors " + errors + ")");
        check(errors.isEmpty(), "barrier errors " + errors);
    }

    static void queue(String root) throws Exception {
        SimpleDistributedQueue producer = new SimpleDistributedQueue(client(), root);
        SimpleDistributedQueue consumer = new SimpleDistributedQueue(client(), root);
        for (int i = 0; i < 5; i++) {
            check(producer.offer(bytes("item" + i)), "offer " + i);
        }
        for (int i = 0; i < 5; i++) {
            byte[] item = consumer.poll(WAIT_S, TimeUnit.SECONDS);
            check(item != null, "item " + i + " never came");
            equal("item" + i, text(item), "queue order");
        }
        equal(null, consumer.poll(), "queue empty");
    }

    static void groupAndPersistentNode(String root) throws Exception {
        CuratorFramework watcher = client();
        try (GroupMember m1 = new GroupMember(client(), root + "/group", "m1", bytes("one"));
             GroupMember m2 = new GroupMember(client(), root + "/group", "m2", bytes("two"))) {
            m1.start();
            m2.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
            Map<String, byte[]> members = m1.getCurrentMembers();
            while (members.size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
                members = m1.getCurrentMembers();
            }
            equal(2, members.size(), "group members " + members.keySet());
            equal("two", text(members.get("m2")), "member data");
        }
        PersistentNode node = new PersistentNode(client(), CreateMode.EPHEMERAL, false,
                root + "/persistent", bytes("p"));
        node.start();
        check(node.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS), "persistent node created");
        equal("p", text(watcher.getData().forPath(root + "/persistent")), "its data");
        node.close();
        watcher.sync().forPath(root);
        check(watcher.checkExists().forPath(root + "/persistent") == null, "removed on close");
    }

    static void sessionExpiry(String root) throws Exception {
        CuratorFramework c = client();
        BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
        c.getConnectionStateListenable().addListener((client, state) -> states.add(state));
        PersistentNode node = new PersistentNode(c, CreateMode.EPHEMERAL, false, root + "/mine", bytes("m"));
        node.start();
        check(node.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS), "ephemeral created");
        CuratorFramework observer = client();
        long first = observer.checkExists().forPath(root + "/mine").getEphemeralOwner();
        ZooKeeper zk = c.getZookeeperClient().getZooKeeper();
        equal(zk.getSessionId(), first, "owner is the session");
        // Another connection that takes over the session with its id and password and closes it
        // ends the session, as a session expiry does.
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper thief = new ZooKeeper(addr, 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        }, zk.getSessionId(), zk.getSessionPasswd());
        await(connected, "a second connection attaches to the session");
        thief.close();
        List<ConnectionState> seen = new ArrayList<>();
        while (!seen.contains(ConnectionState.LOST) || seen.get(seen.size() - 1) != ConnectionState.RECONNECTED) {
            ConnectionState state = states.poll(WAIT_S, TimeUnit.SECONDS);
            check(state != null, "connection states so far " + seen);
            seen.add(state);
        }
        // The recipe puts its node back under the new session.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        long owner = first;
        while (owner == first && System.nanoTime() < deadline) {
            Stat stat = observer.checkExists().forPath(root + "/mine");
            owner = stat == null ? first : stat.getEphemeralOwner();
            Thread.sleep(20);
        }
        check(owner != first, "the node is back under a new session");
        equal(c.getZookeeperClient().getZooKeeper().getSessionId(), owner, "owned by the new session");
        node.close();
    }

    static void aclAndAuth(String root) throws Exception {
        CuratorFramework owner = client("alice:secret");
        String digest = DigestAuthenticationProvider.generateDigest("alice:secret");
        List<ACL> acl = Collections.singletonList(new ACL(ZooDefs.Perms.ALL, new Id("digest", digest)));
        owner.create().withACL(acl).forPath(root, bytes("private"));
        equal("private", text(owner.getData().forPath(root)), "the owner reads");
        equal(acl, owner.getACL().forPath(root), "getACL");
        CuratorFramework stranger = client();
        fails(KeeperException.NoAuthException.class,
                () -> stranger.getData().forPath(root), "read without auth");
        fails(KeeperException.NoAuthException.class,
                () -> stranger.setData().forPath(root, bytes("x")), "write without auth");
        CuratorFramework wrong = client("alice:wrong");
        fails(KeeperException.NoAuthException.class,
                () -> wrong.getData().forPath(root), "read with the wrong password");
        fails(KeeperException.InvalidACLException.class,
                () -> owner.create().withACL(Collections.singletonList(
                        new ACL(ZooDefs.Perms.ALL, new Id("nosuchscheme", "x")))).forPath(root + "-bad"),
                "an ACL of an unknown scheme");
        Stat stat = owner.setACL().withVersion(0).withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath(root);
        equal(1, stat.getAversion(), "aversion after setACL");
        equal("private", text(stranger.getData().forPath(root)), "readable once open");
    }

    static void namespace(String root) throws Exception {
        CuratorFramework c = client();
        String ns = root.substring(1) + "/ns";
        CuratorFramework scoped = c.usingNamespace(ns);
        scoped.create().creatingParentsIfNeeded().forPath("/inside", bytes("n"));
        equal("n", text(c.getData().forPath("/" + ns + "/inside")), "namespaced path");
        equal(Collections.singletonList("inside"), scoped.getChildren().forPath("/"), "namespaced children");
    }

    public static void main(String[] args) throws Exception {
        addr = System.getenv().getOrDefault("ZK_ADDR", "127.0.0.1:2181");
        String base = "/curator-conformance-" + System.currentTimeMillis();
        Object[][] checks = {
            {"crud", (Check) CuratorConformance::crud},
            {"create_modes", (Check) CuratorConformance::createModes},
            {"transactions", (Check) CuratorConformance::transactions},
            {"create_or_set_and_ttl", (Check) CuratorConformance::createOrSetAndTtl},
            {"one_shot_watches", (Check) CuratorConformance::oneShotWatches},
            {"remove_watches", (Check) CuratorConformance::removeWatches},
            {"persistent_recursive_watch", (Check) CuratorConformance::persistentRecursiveWatch},
            {"curator_cache", (Check) CuratorConformance::curatorCache},
            {"legacy_caches", (Check) CuratorConformance::legacyCaches},
            {"mutex", (Check) CuratorConformance::mutex},
            {"semaphore", (Check) CuratorConformance::semaphore},
            {"leader_latch", (Check) CuratorConformance::leaderLatch},
            {"leader_selector", (Check) CuratorConformance::leaderSelector},
            {"counters", (Check) CuratorConformance::counters},
            {"double_barrier", (Check) CuratorConformance::doubleBarrier},
            {"queue", (Check) CuratorConformance::queue},
            {"group_and_persistent_node", (Check) CuratorConformance::groupAndPersistentNode},
            {"session_expiry", (Check) CuratorConformance::sessionExpiry},
            {"acl_and_auth", (Check) CuratorConformance::aclAndAuth},
            {"namespace", (Check) CuratorConformance::namespace},
        };
        CuratorFramework setup = client();
        setup.create().forPath(base);
        setup.close();
        clients.clear();
        String only = System.getenv("CURATOR_ONLY");
        int passed = 0;
        int failed = 0;
        for (Object[] entry : checks) {
            String name = (String) entry[0];
            if (only != null && !only.equals(name)) {
                continue;
            }
            try {
                ((Check) entry[1]).run(base + "/" + name);
                passed++;
                System.out.println("PASS " + name);
            } catch (Throwable t) {
                failed++;
                System.out.println("FAIL " + name + ": " + t);
                t.printStackTrace(System.out);
            } finally {
                for (CuratorFramework c : clients) {
                    c.close();
                }
                clients.clear();
            }
            System.out.flush();
        }
        System.out.println("curator: " + passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
