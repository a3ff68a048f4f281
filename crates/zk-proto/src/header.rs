//! The headers in front of every request and reply after the handshake, and the header in front
//! of every op of a multi.

use crate::data::OpCode;
use crate::error_code::ErrorCode;
use crate::ids::{Xid, Zxid};
use crate::jute::{DecodeError, Reader, Record, Writer};

/// The size of an encoded [`RequestHeader`].
pub const REQUEST_HEADER_LEN: usize = 8;
/// The size of an encoded [`ReplyHeader`].
pub const REPLY_HEADER_LEN: usize = 16;
/// The size of an encoded [`MultiHeader`].
pub const MULTI_HEADER_LEN: usize = 9;

/// `RequestHeader { int xid; int type; }`, in front of every client request but the first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct RequestHeader {
    /// The client's request id, echoed in the reply.
    pub xid: Xid,
    /// The opcode as sent; kept raw so that an unknown one can be reported.
    pub op: i32,
}

impl RequestHeader {
    /// A header for a known opcode.
    pub fn new(xid: Xid, op: OpCode) -> RequestHeader {
        RequestHeader { xid, op: op.code() }
    }

    /// The opcode, or `None` when ZooKeeper 3.8 has no such opcode.
    pub fn op_code(&self) -> Option<OpCode> {
        OpCode::from_code(self.op)
    }
}

impl Record for RequestHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        out.write_i32(self.xid.0);
        out.write_i32(self.op);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(RequestHeader {
            xid: Xid(r.read_i32()?),
            op: r.read_i32()?,
        })
    }
}

/// `ReplyHeader { int xid; long zxid; int err; }`, in front of every server message but the
/// first. When `err != 0` nothing follows it (except inside a multi, whose header err stays 0).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct ReplyHeader {
    /// The xid of the request answered, -1 for a notification, -2 for a ping reply.
    pub xid: Xid,
    /// The server's last applied zxid when the reply was produced (-1 in 3.8 notifications).
    pub zxid: Zxid,
    /// The error code as sent (0 = success); kept raw so an unknown code survives a round trip.
    pub err: i32,
}

impl ReplyHeader {
    /// A header with a known error code.
    pub fn new(xid: Xid, zxid: Zxid, err: ErrorCode) -> ReplyHeader {
        ReplyHeader {
            xid,
            zxid,
            err: err.code(),
        }
    }

    /// The error code, or `None` when ZooKeeper 3.8 has no such code.
    pub fn error_code(&self) -> Option<ErrorCode> {
        ErrorCode::from_code(self.err)
    }

    /// Whether `err` is 0, so that a response body follows.
    pub fn is_ok(&self) -> bool {
        self.err == 0
    }
}

impl Record for ReplyHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        out.write_i32(self.xid.0);
        out.write_i64(self.zxid.as_i64());
        out.write_i32(self.err);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ReplyHeader {
            xid: Xid(r.read_i32()?),
            zxid: Zxid::from_i64(r.read_i64()?),
            err: r.read_i32()?,
        })
    }
}

/// `MultiHeader { int type; boolean done; int err; }`, in front of each op and each result of
/// a multi, and (with `done` set) after the last one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct MultiHeader {
    /// The op's opcode, or -1 (error result, terminator).
    pub op: i32,
    /// Set only on the terminator.
    pub done: bool,
    /// -1 on request ops, the error code on error results, 0 on other results.
    pub err: i32,
}

impl MultiHeader {
    /// The terminator both Java encoders write: `MultiHeader(-1, true, -1)`.
    pub const END: MultiHeader = MultiHeader {
        op: -1,
        done: true,
        err: -1,
    };
}

impl Record for MultiHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        out.write_i32(self.op);
        out.write_bool(self.done);
        out.write_i32(self.err);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(MultiHeader {
            op: r.read_i32()?,
            done: r.read_bool()?,
            err: r.read_i32()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_header_is_xid_zxid_err_big_endian() {
        let header = ReplyHeader::new(Xid(7), Zxid(0x1_0000_0002), ErrorCode::NoNode);
        let bytes = header.to_bytes();
        assert_eq!(
            bytes,
            [0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0x9b]
        );
        assert_eq!(bytes.len(), REPLY_HEADER_LEN);
        assert_eq!(ReplyHeader::from_bytes(&bytes), Ok(header));
        assert_eq!(header.error_code(), Some(ErrorCode::NoNode));
    }

    #[test]
    fn request_header_keeps_an_unknown_opcode() {
        let header = RequestHeader::from_bytes(&[0, 0, 0, 1, 0, 0, 0, 10]).unwrap();
        assert_eq!(header.xid, Xid(1));
        assert_eq!(header.op, 10);
        assert_eq!(header.op_code(), None);
        assert_eq!(
            RequestHeader::new(Xid(-2), OpCode::Ping).to_bytes(),
            [0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11]
        );
    }

    #[test]
    fn multi_terminator_is_nine_bytes() {
        assert_eq!(
            MultiHeader::END.to_bytes(),
            [0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff]
        );
    }
}
