"""A minimal, synchronous ZooKeeper wire-protocol client for the opcodes kazoo does not send.

kazoo 2.11 never sends createContainer, createTTL, multiRead, addWatch, removeWatches,
checkWatches, setWatches/setWatches2, getEphemerals, getAllChildrenNumber or whoAmI. The
conformance suite covers those here, byte for byte as the Java and Rust clients encode them
(reference: section 1 of the protocol notes). One connection, requests answered in order,
watch notifications (xid -1) collected in ``events``.
"""

import socket
import struct
import time

# Opcodes.
CREATE = 1
DELETE = 2
EXISTS = 3
GET_DATA = 4
SET_DATA = 5
GET_CHILDREN = 8
SYNC = 9
PING = 11
GET_CHILDREN2 = 12
CHECK = 13
MULTI = 14
CREATE2 = 15
CHECK_WATCHES = 17
REMOVE_WATCHES = 18
CREATE_CONTAINER = 19
CREATE_TTL = 21
MULTI_READ = 22
AUTH = 100
SET_WATCHES = 101
GET_EPHEMERALS = 103
GET_ALL_CHILDREN_NUMBER = 104
SET_WATCHES2 = 105
ADD_WATCH = 106
WHO_AM_I = 107
CLOSE_SESSION = -11

# Error codes.
OK = 0
RUNTIME_INCONSISTENCY = -2
UNIMPLEMENTED = -6
BAD_ARGUMENTS = -8
NO_NODE = -101
NO_AUTH = -102
BAD_VERSION = -103
NO_CHILDREN_FOR_EPHEMERALS = -108
NODE_EXISTS = -110
NOT_EMPTY = -111
INVALID_ACL = -114
NO_WATCHER = -121

# Event types.
NODE_CREATED = 1
NODE_DELETED = 2
NODE_DATA_CHANGED = 3
NODE_CHILDREN_CHANGED = 4

# WatcherType for removeWatches / checkWatches.
WATCHER_CHILDREN = 1
WATCHER_DATA = 2
WATCHER_ANY = 3
WATCHER_PERSISTENT = 4
WATCHER_PERSISTENT_RECURSIVE = 5

# addWatch modes.
PERSISTENT = 0
PERSISTENT_RECURSIVE = 1

OPEN_ACL = [(31, "world", "anyone")]
STAT = struct.Struct("!qqqqiiiqiiq")
STAT_FIELDS = (
    "czxid mzxid ctime mtime version cversion aversion "
    "ephemeralOwner dataLength numChildren pzxid"
).split()


class ZkError(Exception):
    """A reply whose header carried a non-zero error code."""

    def __init__(self, code, op):
        super().__init__(f"opcode {op} failed with error {code}")
        self.code = code


class Closed(Exception):
    """The server closed the connection."""


def ustring(value):
    if value is None:
        return struct.pack("!i", -1)
    raw = value.encode("utf-8")
    return struct.pack("!i", len(raw)) + raw


def buffer(value):
    if value is None:
        return struct.pack("!i", -1)
    return struct.pack("!i", len(value)) + value


def string_vector(values):
    return struct.pack("!i", len(values)) + b"".join(ustring(v) for v in values)


def acl_vector(acls):
    out = struct.pack("!i", len(acls))
    for perms, scheme, ident in acls:
        out += struct.pack("!i", perms) + ustring(scheme) + ustring(ident)
    return out


def create_body(path, data=b"", flags=0, acls=OPEN_ACL, ttl=None):
    body = ustring(path) + buffer(data) + acl_vector(acls) + struct.pack("!i", flags)
    if ttl is not None:
        body += struct.pack("!q", ttl)
    return body


class Reader:
    """Decodes jute primitives from a reply body."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def int(self):
        (value,) = struct.unpack_from("!i", self.data, self.pos)
        self.pos += 4
        return value

    def long(self):
        (value,) = struct.unpack_from("!q", self.data, self.pos)
        self.pos += 8
        return value

    def bool(self):
        value = self.data[self.pos] != 0
        self.pos += 1
        return value

    def buffer(self):
        length = self.int()
        if length < 0:
            return None
        value = self.data[self.pos : self.pos + length]
        self.pos += length
        return value

    def ustring(self):
        raw = self.buffer()
        return None if raw is None else raw.decode("utf-8")

    def strings(self):
        count = self.int()
        return [self.ustring() for _ in range(max(count, 0))]

    def stat(self):
        values = STAT.unpack_from(self.data, self.pos)
        self.pos += STAT.size
        return dict(zip(STAT_FIELDS, values))

    def remaining(self):
        return len(self.data) - self.pos


class RawClient:
    """One session on one TCP connection."""

    def __init__(self, addr, timeout_ms=30000, session_id=0, password=b"\0" * 16,
                 last_zxid=0, read_only_byte=True, pipeline=b""):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.xid = 0
        self.events = []
        self.last_zxid = last_zxid
        request = struct.pack("!iqiq", 0, last_zxid, timeout_ms, session_id) + buffer(password)
        if read_only_byte:
            request += b"\0"
        self._send_frame(request + b"")
        if pipeline:
            self.sock.sendall(pipeline)
        reply = Reader(self._read_frame())
        self.protocol_version = reply.int()
        self.timeout_ms = reply.int()
        self.session_id = reply.long()
        self.password = reply.buffer()
        self.read_only = reply.bool() if reply.remaining() else None
        self.connect_reply_len = len(reply.data)

    # Framing.

    def _send_frame(self, payload):
        self.sock.sendall(struct.pack("!i", len(payload)) + payload)

    def _recv_exact(self, count):
        chunks = b""
        while len(chunks) < count:
            chunk = self.sock.recv(count - len(chunks))
            if not chunk:
                raise Closed("server closed the connection")
            chunks += chunk
        return chunks

    def _read_frame(self):
        (length,) = struct.unpack("!i", self._recv_exact(4))
        return self._recv_exact(length)

    def _read_reply(self):
        """Reads one non-notification reply; notifications go to ``events``."""
        while True:
            frame = self._read_frame()
            xid, zxid, err = struct.unpack_from("!iqi", frame, 0)
            body = Reader(frame[16:])
            if xid == -1:
                ev_type, state, path = body.int(), body.int(), body.ustring()
                self.events.append((ev_type, state, path))
                continue
            if zxid > 0:
                self.last_zxid = max(self.last_zxid, zxid)
            return xid, zxid, err, body

    # Requests.

    def next_xid(self):
        self.xid += 1
        return self.xid

    def call(self, opcode, body=b"", xid=None):
        """Sends one request, returns (reply xid, error code, body reader)."""
        xid = self.next_xid() if xid is None else xid
        self._send_frame(struct.pack("!ii", xid, opcode) + body)
        got_xid, _zxid, err, reader = self._read_reply()
        assert got_xid == xid, f"reply xid {got_xid} for request xid {xid}"
        return got_xid, err, reader

    def request(self, opcode, body=b""):
        """Sends one request and raises ZkError on a non-zero error code."""
        _xid, err, reader = self.call(opcode, body)
        if err != OK:
            raise ZkError(err, opcode)
        return reader

    def create(self, path, data=b"", flags=0, acls=OPEN_ACL, opcode=CREATE2, ttl=None):
        """create2/createContainer/createTTL: returns (path, stat)."""
        reader = self.request(opcode, create_body(path, data, flags, acls, ttl))
        created = reader.ustring()
        stat = reader.stat() if opcode != CREATE else None
        return created, stat

    def exists(self, path, watch=False):
        _xid, err, reader = self.call(EXISTS, ustring(path) + bytes([watch]))
        if err == NO_NODE:
            return None
        if err != OK:
            raise ZkError(err, EXISTS)
        return reader.stat()

    def get_data(self, path, watch=False):
        reader = self.request(GET_DATA, ustring(path) + bytes([watch]))
        return reader.buffer(), reader.stat()

    def set_data(self, path, data, version=-1):
        reader = self.request(SET_DATA, ustring(path) + buffer(data) + struct.pack("!i", version))
        return reader.stat()

    def get_children(self, path, watch=False):
        return self.request(GET_CHILDREN, ustring(path) + bytes([watch])).strings()

    def delete(self, path, version=-1):
        self.request(DELETE, ustring(path) + struct.pack("!i", version))

    def add_watch(self, path, mode):
        reader = self.request(ADD_WATCH, ustring(path) + struct.pack("!i", mode))
        return reader.int() if reader.remaining() >= 4 else None

    def watch_request(self, opcode, path, watcher_type):
        """removeWatches / checkWatches: returns the error code."""
        _xid, err, _reader = self.call(opcode, ustring(path) + struct.pack("!i", watcher_type))
        return err

    def auth(self, scheme, credential):
        xid, err, _reader = self.call(
            AUTH, struct.pack("!i", 0) + ustring(scheme) + buffer(credential), xid=-4
        )
        return xid, err

    def ping(self):
        xid, err, _reader = self.call(PING, b"", xid=-2)
        return xid, err

    def close(self):
        """Sends closeSession and waits for the reply, then closes the socket."""
        try:
            self.call(CLOSE_SESSION)
        finally:
            self.sock.close()

    def drop(self):
        """Closes the socket without closing the session."""
        self.sock.close()

    def wait_events(self, count, timeout=30.0):
        """Pings until at least ``count`` notifications arrived or the timeout passes."""
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            self.ping()
            if len(self.events) < count:
                time.sleep(0.05)
        return list(self.events)

    def take_events(self):
        events, self.events = self.events, []
        return events


def multi_body(ops):
    """ops: list of (opcode, record bytes). Encodes a multi / multiRead request body."""
    body = b""
    for opcode, record in ops:
        body += struct.pack("!i?i", opcode, False, -1) + record
    return body + struct.pack("!i?i", -1, True, -1)


def read_multi(reader):
    """Decodes a MultiResponse into a list of (type, err, decoded result)."""
    results = []
    while True:
        op_type, done, err = reader.int(), reader.bool(), reader.int()
        if done:
            return results
        if op_type == -1:
            results.append((op_type, err, reader.int()))
        elif op_type == CREATE:
            results.append((op_type, err, reader.ustring()))
        elif op_type == CREATE2:
            results.append((op_type, err, (reader.ustring(), reader.stat())))
        elif op_type in (DELETE, CHECK):
            results.append((op_type, err, None))
        elif op_type == SET_DATA:
            results.append((op_type, err, reader.stat()))
        elif op_type == GET_DATA:
            results.append((op_type, err, (reader.buffer(), reader.stat())))
        elif op_type == GET_CHILDREN:
            results.append((op_type, err, reader.strings()))
        else:
            raise AssertionError(f"unexpected multi result type {op_type}")
