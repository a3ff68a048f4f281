//! The handful of client records the generator sends (connect, create, delete, getData, setData,
//! closeSession), hand-encoded with [`zk_proto::jute::Writer`], and the reply headers it reads.
//!
//! Reply bodies are never parsed: ZooKeeper answers a session's requests in the order they were
//! sent, so the generator only checks each [`ReplyHeader`]'s xid and error code.

use anyhow::{ensure, Result};
use zk_proto::data::write_acl_vec;
use zk_proto::jute::Writer;
use zk_proto::{Acl, ErrorCode, OpCode, Reader};

/// The session timeout the generator asks for, in milliseconds.
const SESSION_TIMEOUT_MS: i32 = 30_000;

/// One request the generator can send.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Request<'a> {
    /// `create` of a persistent node with an open ACL.
    Create {
        /// The node's path.
        path: &'a str,
        /// The node's data.
        data: &'a [u8],
    },
    /// `delete` at any version.
    Delete {
        /// The node's path.
        path: &'a str,
    },
    /// `getData` without a watch.
    GetData {
        /// The node's path.
        path: &'a str,
    },
    /// `setData` at any version.
    SetData {
        /// The node's path.
        path: &'a str,
        /// The new data.
        data: &'a [u8],
    },
    /// `closeSession`.
    CloseSession,
}

impl Request<'_> {
    fn op_code(&self) -> OpCode {
        match self {
            Request::Create { .. } => OpCode::Create,
            Request::Delete { .. } => OpCode::Delete,
            Request::GetData { .. } => OpCode::GetData,
            Request::SetData { .. } => OpCode::SetData,
            Request::CloseSession => OpCode::CloseSession,
        }
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        match *self {
            Request::Create { path, data } => {
                out.write_str(path);
                out.write_buffer(data);
                write_acl_vec(out, &Acl::open_unsafe());
                out.write_i32(0); // flags: persistent
            }
            Request::Delete { path } => {
                out.write_str(path);
                out.write_i32(-1);
            }
            Request::GetData { path } => {
                out.write_str(path);
                out.write_bool(false);
            }
            Request::SetData { path, data } => {
                out.write_str(path);
                out.write_buffer(data);
                out.write_i32(-1);
            }
            Request::CloseSession => {}
        }
    }
}

/// Appends one length-prefixed frame to `out`: `RequestHeader { xid, type }` and the body.
pub(crate) fn encode_request(out: &mut Vec<u8>, xid: i32, request: &Request<'_>) {
    let start = out.len();
    out.write_i32(0); // length, patched below
    out.write_i32(xid);
    out.write_i32(request.op_code().code());
    request.encode_body(out);
    patch_length(out, start);
}

/// Appends a length-prefixed `ConnectRequest` for a new session (with the readOnly byte).
pub(crate) fn encode_connect(out: &mut Vec<u8>) {
    let start = out.len();
    out.write_i32(0);
    out.write_i32(0); // protocolVersion
    out.write_i64(0); // lastZxidSeen
    out.write_i32(SESSION_TIMEOUT_MS);
    out.write_i64(0); // sessionId: new session
    out.write_buffer(&[0u8; 16]);
    out.write_bool(false); // readOnly
    patch_length(out, start);
}

fn patch_length(out: &mut [u8], start: usize) {
    let len = i32::try_from(out.len() - start - 4).expect("request frame fits in an i32");
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// The fields of a `ConnectResponse` the generator needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConnectResponse {
    /// The negotiated session timeout (0 means the session was refused).
    pub(crate) timeout_ms: i32,
    /// The new session's id.
    pub(crate) session_id: i64,
}

/// Decodes a `ConnectResponse` payload (without its length prefix).
pub(crate) fn decode_connect_response(payload: &[u8]) -> Result<ConnectResponse> {
    let mut r = Reader::new(payload);
    let protocol_version = r.read_i32()?;
    ensure!(
        protocol_version == 0,
        "server answered protocol version {protocol_version}"
    );
    let timeout_ms = r.read_i32()?;
    let session_id = r.read_i64()?;
    let _password = r.read_buffer_opt()?;
    Ok(ConnectResponse {
        timeout_ms,
        session_id,
    })
}

/// `ReplyHeader { xid, zxid, err }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReplyHeader {
    /// The request's xid (or -1 for a notification, -2 for a ping).
    pub(crate) xid: i32,
    /// The server's last zxid.
    pub(crate) zxid: i64,
    /// The error code, 0 for success.
    pub(crate) err: i32,
}

/// Decodes the `ReplyHeader` at the start of a reply payload.
pub(crate) fn decode_reply_header(payload: &[u8]) -> Result<ReplyHeader> {
    let mut r = Reader::new(payload);
    Ok(ReplyHeader {
        xid: r.read_i32()?,
        zxid: r.read_i64()?,
        err: r.read_i32()?,
    })
}

/// The name of an error code, for messages.
pub(crate) fn error_name(err: i32) -> String {
    match ErrorCode::from_code(err) {
        Some(code) => format!("{code:?} ({err})"),
        None => format!("error {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_request_is_45_bytes_as_in_the_reference_example() {
        let mut out = Vec::new();
        encode_connect(&mut out);
        assert_eq!(out.len(), 4 + 45);
        assert_eq!(&out[..4], &[0, 0, 0, 0x2d]);
        assert_eq!(&out[16..20], &[0, 0, 0x75, 0x30]);
    }

    #[test]
    fn get_data_request_layout() {
        let mut out = Vec::new();
        encode_request(&mut out, 7, &Request::GetData { path: "/a" });
        assert_eq!(
            out,
            [0, 0, 0, 15, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 2, b'/', b'a', 0]
        );
    }

    #[test]
    fn reply_header_and_connect_response_decode() {
        let mut payload = Vec::new();
        payload.write_i32(3);
        payload.write_i64(0x1_0000_0002);
        payload.write_i32(-101);
        let header = decode_reply_header(&payload).unwrap();
        assert_eq!(
            header,
            ReplyHeader {
                xid: 3,
                zxid: 0x1_0000_0002,
                err: -101
            }
        );
        assert_eq!(error_name(-101), "NoNode (-101)");

        let mut payload = Vec::new();
        payload.write_i32(0);
        payload.write_i32(30_000);
        payload.write_i64(42);
        payload.write_buffer(&[0; 16]);
        payload.write_bool(false);
        let response = decode_connect_response(&payload).unwrap();
        assert_eq!(response.session_id, 42);
        assert_eq!(response.timeout_ms, 30_000);
    }
}
