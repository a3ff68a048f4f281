// Prints golden byte vectors produced by Apache ZooKeeper's own jute classes, one per line as
// `name hex`. tests/java_vectors.rs reads them from vectors.txt; regenerate that file with
//   java -cp /usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar \
//     crates/zk-proto/tests/java/JuteVectors.java 2>/dev/null > crates/zk-proto/tests/java/vectors.txt
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.MultiOperationRecord;
import org.apache.zookeeper.MultiResponse;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.proto.*;

public class JuteVectors {
    interface Body { void write(BinaryOutputArchive a) throws IOException; }

    static void emit(String name, Body body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        body.write(BinaryOutputArchive.getArchive(bytes));
        StringBuilder hex = new StringBuilder();
        for (byte b : bytes.toByteArray()) hex.append(String.format("%02x", b & 0xff));
        System.out.println(name + " " + hex);
    }

    static void emit(String name, Record... records) throws IOException {
        emit(name, a -> { for (Record r : records) r.serialize(a, "r"); });
    }

    public static void main(String[] args) throws Exception {
        Stat stat = new Stat(0x100000001L, 0x100000002L, 1700000000000L, 1700000000001L, 3, 4, 5,
            0x0100000000000001L, 5, 2, 0x100000003L);
        byte[] data = "hello".getBytes("UTF-8");
        ACL digest = new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.ADMIN, new Id("digest", "bob:x"));

        emit("connect_request", a -> {
            new ConnectRequest(0, 0, 30000, 0, new byte[16]).serialize(a, "connect");
            a.writeBool(false, "readOnly");
        });
        emit("connect_request_old", new ConnectRequest(0, 0x200000005L, 10000, 0x0100000000000001L, new byte[16]));
        emit("connect_response", a -> {
            new ConnectResponse(0, 30000, 0x0100000000000001L, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}).serialize(a, "connect");
            a.writeBool(true, "readOnly");
        });
        emit("request_header_create", new RequestHeader(1, ZooDefs.OpCode.create),
            new CreateRequest("/app/node", data, ZooDefs.Ids.OPEN_ACL_UNSAFE, 3));
        emit("create_ttl", new CreateTTLRequest("/t", data, Arrays.asList(digest), 5, 60000L));
        emit("delete", new DeleteRequest("/a", -1));
        emit("exists", new ExistsRequest("/a", true));
        emit("get_data", new GetDataRequest("/a", false));
        emit("set_data", new SetDataRequest("/a", data, 7));
        // Null znode data (length -1), what the Java client sends for create/setData(path, null, ...).
        emit("create_null_data", new CreateRequest("/n", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, 0));
        emit("create_ttl_null_data", new CreateTTLRequest("/n", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, 5, 1000L));
        emit("set_data_null", new SetDataRequest("/n", null, -1));
        emit("get_acl", new GetACLRequest("/a"));
        emit("set_acl", new SetACLRequest("/a", Arrays.asList(digest), 2));
        emit("get_children2", new GetChildren2Request("/a", true));
        emit("sync", new SyncRequest("/a"));
        // Outside the BMP Java writes each UTF-16 surrogate as 3 bytes (CESU-8).
        emit("sync_non_bmp", new SyncRequest("/\uD83D\uDE00\u0000\u00e9"));
        emit("check", new CheckVersionRequest("/a", 9));
        emit("reconfig", new ReconfigRequest(null, "3", null, -1L));
        emit("check_watches", new CheckWatchesRequest("/a", 2));
        emit("remove_watches", new RemoveWatchesRequest("/a", 3));
        emit("auth", new AuthPacket(0, "digest", "bob:secret".getBytes("UTF-8")));
        emit("set_watches", new SetWatches(0x100000009L, Arrays.asList("/d"), Arrays.asList("/e", "/f"), Arrays.asList()));
        emit("set_watches2", new SetWatches2(0x10000000aL, Arrays.asList("/d"), Arrays.asList(), Arrays.asList("/c"), Arrays.asList("/p"), Arrays.asList("/r")));
        emit("sasl", new GetSASLRequest(new byte[] {9, 8}));
        emit("get_ephemerals", new GetEphemeralsRequest("/"));
        emit("get_all_children_number", new GetAllChildrenNumberRequest("/a"));
        emit("add_watch", new AddWatchRequest("/a", 1));
        emit("reply_header", new ReplyHeader(5, 0x100000003L, -101));
        emit("ping_reply", new ReplyHeader(-2, 0x100000003L, 0));
        emit("multi_request", new MultiOperationRecord(Arrays.asList(
            Op.create("/m", data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL),
            Op.create("/c", data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER),
            Op.create("/t", data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, 5000L),
            Op.delete("/d", -1),
            Op.setData("/s", data, 4),
            Op.check("/k", 1))));
        emit("multi_request_null_data", new MultiOperationRecord(Arrays.asList(
            Op.create("/n", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
            Op.setData("/n", null, -1))));
        emit("multi_read_request", new MultiOperationRecord(Arrays.asList(
            Op.getData("/g"), Op.getChildren("/h"))));
        MultiResponse multi = new MultiResponse();
        multi.add(new OpResult.CreateResult("/m0000000001"));
        multi.add(new OpResult.CreateResult("/c", stat));
        multi.add(new OpResult.DeleteResult());
        multi.add(new OpResult.SetDataResult(stat));
        multi.add(new OpResult.CheckResult());
        multi.add(new OpResult.GetDataResult(data, stat));
        multi.add(new OpResult.GetChildrenResult(Arrays.asList("x", "y")));
        multi.add(new OpResult.ErrorResult(-101));
        emit("multi_response", multi);
        emit("notification", new ReplyHeader(-1, -1L, 0), new WatcherEvent(3, 3, "/a"));
        emit("create_response", new CreateResponse("/a0000000007"));
        emit("create2_response", new Create2Response("/a", stat));
        emit("exists_response", new ExistsResponse(stat));
        emit("get_data_response", new GetDataResponse(data, stat));
        emit("get_data_response_null", new GetDataResponse(null, stat));
        emit("get_acl_response", new GetACLResponse(Arrays.asList(digest), stat));
        emit("get_children_response", new GetChildrenResponse(Arrays.asList("a", "b")));
        emit("get_children2_response", new GetChildren2Response(Arrays.asList("a"), stat));
        emit("sync_response", new SyncResponse("/a"));
        emit("sasl_response", new SetSASLResponse(new byte[] {7}));
        emit("get_ephemerals_response", new GetEphemeralsResponse(Arrays.asList("/e1", "/e2")));
        emit("get_all_children_number_response", new GetAllChildrenNumberResponse(42));
        emit("who_am_i_response", new WhoAmIResponse(Arrays.asList(new ClientInfo("ip", "127.0.0.1"), new ClientInfo("digest", "bob"))));
        emit("add_watch_response", new ErrorResponse(0));
    }
}
