//! multi (14) and multiRead (22): a list of ops, each behind a [`MultiHeader`], closed by the
//! terminator `MultiHeader(-1, true, -1)`; the response has the same shape with one result per
//! op (reference 1.10).
//!
//! Like Java, decoding stops at the first header whose `done` flag is set, whatever its other
//! fields hold, and rejects an op or result type it does not know.

use crate::data::OpCode;
use crate::error_code::ErrorCode;
use crate::header::MultiHeader;
use crate::jute::{DecodeError, Reader, Record};
use crate::request::{
    CheckVersionRequest, CreateRequest, CreateTtlRequest, DeleteRequest, GetChildrenRequest,
    GetDataRequest, SetDataRequest,
};
use crate::response::{
    Create2Response, CreateResponse, ErrorResponse, GetChildrenResponse, GetDataResponse,
    SetDataResponse,
};

/// One op of a multi or multiRead request.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum MultiOp {
    /// create (1).
    Create(CreateRequest),
    /// create2 (15).
    Create2(CreateRequest),
    /// createContainer (19).
    CreateContainer(CreateRequest),
    /// createTTL (21).
    CreateTtl(CreateTtlRequest),
    /// delete (2).
    Delete(DeleteRequest),
    /// setData (5).
    SetData(SetDataRequest),
    /// check (13).
    Check(CheckVersionRequest),
    /// getData (4), multiRead only; its watch flag is ignored.
    GetData(GetDataRequest),
    /// getChildren (8), multiRead only; its watch flag is ignored.
    GetChildren(GetChildrenRequest),
}

impl MultiOp {
    /// The op's opcode, as written in its `MultiHeader`.
    pub fn op(&self) -> OpCode {
        match self {
            MultiOp::Create(_) => OpCode::Create,
            MultiOp::Create2(_) => OpCode::Create2,
            MultiOp::CreateContainer(_) => OpCode::CreateContainer,
            MultiOp::CreateTtl(_) => OpCode::CreateTtl,
            MultiOp::Delete(_) => OpCode::Delete,
            MultiOp::SetData(_) => OpCode::SetData,
            MultiOp::Check(_) => OpCode::Check,
            MultiOp::GetData(_) => OpCode::GetData,
            MultiOp::GetChildren(_) => OpCode::GetChildren,
        }
    }

    /// Whether the op only reads (allowed in multiRead, refused in multi).
    pub fn is_read(&self) -> bool {
        matches!(self, MultiOp::GetData(_) | MultiOp::GetChildren(_))
    }

    /// The path the op names.
    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => &r.path,
            MultiOp::CreateTtl(r) => &r.path,
            MultiOp::Delete(r) => &r.path,
            MultiOp::SetData(r) => &r.path,
            MultiOp::Check(r) => &r.path,
            MultiOp::GetData(r) => &r.path,
            MultiOp::GetChildren(r) => &r.path,
        }
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => r.encode(out),
            MultiOp::CreateTtl(r) => r.encode(out),
            MultiOp::Delete(r) => r.encode(out),
            MultiOp::SetData(r) => r.encode(out),
            MultiOp::Check(r) => r.encode(out),
            MultiOp::GetData(r) => r.encode(out),
            MultiOp::GetChildren(r) => r.encode(out),
        }
    }

    fn decode_body(op: i32, r: &mut Reader<'_>) -> Result<MultiOp, DecodeError> {
        Ok(match OpCode::from_code(op) {
            Some(OpCode::Create) => MultiOp::Create(CreateRequest::decode(r)?),
            Some(OpCode::Create2) => MultiOp::Create2(CreateRequest::decode(r)?),
            Some(OpCode::CreateContainer) => MultiOp::CreateContainer(CreateRequest::decode(r)?),
            Some(OpCode::CreateTtl) => MultiOp::CreateTtl(CreateTtlRequest::decode(r)?),
            Some(OpCode::Delete) => MultiOp::Delete(DeleteRequest::decode(r)?),
            Some(OpCode::SetData) => MultiOp::SetData(SetDataRequest::decode(r)?),
            Some(OpCode::Check) => MultiOp::Check(CheckVersionRequest::decode(r)?),
            Some(OpCode::GetData) => MultiOp::GetData(GetDataRequest::decode(r)?),
            Some(OpCode::GetChildren) => MultiOp::GetChildren(GetChildrenRequest::decode(r)?),
            _ => {
                return Err(DecodeError::BadValue {
                    field: "multi op type",
                    value: i64::from(op),
                })
            }
        })
    }
}

/// `MultiOperationRecord`: the body of multi (14) and multiRead (22).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct MultiRequest {
    /// The ops, in order.
    pub ops: Vec<MultiOp>,
}

impl Record for MultiRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        for op in &self.ops {
            MultiHeader {
                op: op.op().code(),
                done: false,
                err: -1,
            }
            .encode(out);
            op.encode_body(out);
        }
        MultiHeader::END.encode(out);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut ops = Vec::new();
        // Every op consumes at least its 9-byte header, so the loop is bounded by the input.
        loop {
            let header = MultiHeader::decode(r)?;
            if header.done {
                return Ok(MultiRequest { ops });
            }
            ops.push(MultiOp::decode_body(header.op, r)?);
        }
    }
}

/// One result of a multi or multiRead response.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum MultiResult {
    /// A create op's result (type 1): the created path.
    Create(CreateResponse),
    /// A create2/createTTL/createContainer op's result (type 15): the path and its Stat.
    Create2(Create2Response),
    /// A delete op's result (type 2), no body.
    Delete,
    /// A setData op's result (type 5).
    SetData(SetDataResponse),
    /// A check op's result (type 13), no body.
    Check,
    /// A getData op's result (type 4), multiRead only.
    GetData(GetDataResponse),
    /// A getChildren op's result (type 8), multiRead only.
    GetChildren(GetChildrenResponse),
    /// A failed op (type -1); the header's err carries the same code.
    Error(ErrorResponse),
}

impl MultiResult {
    /// An error result for a known code.
    pub fn error(code: ErrorCode) -> MultiResult {
        MultiResult::Error(ErrorResponse { err: code.code() })
    }

    /// The result type written in the `MultiHeader`.
    pub fn result_type(&self) -> i32 {
        match self {
            MultiResult::Create(_) => OpCode::Create.code(),
            MultiResult::Create2(_) => OpCode::Create2.code(),
            MultiResult::Delete => OpCode::Delete.code(),
            MultiResult::SetData(_) => OpCode::SetData.code(),
            MultiResult::Check => OpCode::Check.code(),
            MultiResult::GetData(_) => OpCode::GetData.code(),
            MultiResult::GetChildren(_) => OpCode::GetChildren.code(),
            MultiResult::Error(_) => OpCode::Error.code(),
        }
    }

    fn decode_body(result_type: i32, r: &mut Reader<'_>) -> Result<MultiResult, DecodeError> {
        Ok(match OpCode::from_code(result_type) {
            Some(OpCode::Create) => MultiResult::Create(CreateResponse::decode(r)?),
            Some(OpCode::Create2) => MultiResult::Create2(Create2Response::decode(r)?),
            Some(OpCode::Delete) => MultiResult::Delete,
            Some(OpCode::SetData) => MultiResult::SetData(SetDataResponse::decode(r)?),
            Some(OpCode::Check) => MultiResult::Check,
            Some(OpCode::GetData) => MultiResult::GetData(GetDataResponse::decode(r)?),
            Some(OpCode::GetChildren) => MultiResult::GetChildren(GetChildrenResponse::decode(r)?),
            Some(OpCode::Error) => MultiResult::Error(ErrorResponse::decode(r)?),
            _ => {
                return Err(DecodeError::BadValue {
                    field: "multi result type",
                    value: i64::from(result_type),
                })
            }
        })
    }
}

/// `MultiResponse`: the body of a multi or multiRead reply.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct MultiResponse {
    /// One result per op, in order.
    pub results: Vec<MultiResult>,
}

impl Record for MultiResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        for result in &self.results {
            let err = match result {
                MultiResult::Error(e) => e.err,
                _ => 0,
            };
            MultiHeader {
                op: result.result_type(),
                done: false,
                err,
            }
            .encode(out);
            match result {
                MultiResult::Create(r) => r.encode(out),
                MultiResult::Create2(r) => r.encode(out),
                MultiResult::SetData(r) => r.encode(out),
                MultiResult::GetData(r) => r.encode(out),
                MultiResult::GetChildren(r) => r.encode(out),
                MultiResult::Error(r) => r.encode(out),
                MultiResult::Delete | MultiResult::Check => {}
            }
        }
        MultiHeader::END.encode(out);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut results = Vec::new();
        // Every result consumes at least its 9-byte header, so the loop is bounded by the input.
        loop {
            let header = MultiHeader::decode(r)?;
            if header.done {
                return Ok(MultiResponse { results });
            }
            results.push(MultiResult::decode_body(header.op, r)?);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Stat;

    #[test]
    fn multi_request_ends_with_the_terminator() {
        let request = MultiRequest {
            ops: vec![
                MultiOp::Delete(DeleteRequest {
                    path: "/a".into(),
                    version: -1,
                }),
                MultiOp::Check(CheckVersionRequest {
                    path: "/b".into(),
                    version: 3,
                }),
            ],
        };
        let bytes = request.to_bytes();
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0, 0, 0, 2, 0, 0xff, 0xff, 0xff, 0xff, // MultiHeader(delete, false, -1)
            0, 0, 0, 2, b'/', b'a', 0xff, 0xff, 0xff, 0xff, // DeleteRequest("/a", -1)
            0, 0, 0, 13, 0, 0xff, 0xff, 0xff, 0xff, // MultiHeader(check, false, -1)
            0, 0, 0, 2, b'/', b'b', 0, 0, 0, 3, // CheckVersionRequest("/b", 3)
            0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff, // MultiHeader(-1, true, -1)
        ];
        assert_eq!(bytes, expected);
        assert_eq!(MultiRequest::from_bytes(&bytes), Ok(request));
    }

    #[test]
    fn multi_error_result_repeats_its_code_in_the_header() {
        let response = MultiResponse {
            results: vec![
                MultiResult::error(ErrorCode::Ok),
                MultiResult::error(ErrorCode::NoNode),
                MultiResult::error(ErrorCode::RuntimeInconsistency),
            ],
        };
        let bytes = response.to_bytes();
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0x9b, 0xff, 0xff, 0xff, 0x9b,
            0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfe,
            0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(bytes, expected);
        assert_eq!(MultiResponse::from_bytes(&bytes), Ok(response));
    }

    #[test]
    fn multi_results_without_a_body_are_header_only() {
        let response = MultiResponse {
            results: vec![
                MultiResult::Delete,
                MultiResult::Check,
                MultiResult::SetData(SetDataResponse {
                    stat: Stat::default(),
                }),
            ],
        };
        let bytes = response.to_bytes();
        assert_eq!(bytes.len(), 9 + 9 + 9 + 68 + 9);
        assert_eq!(MultiResponse::from_bytes(&bytes), Ok(response));
    }

    #[test]
    fn unknown_multi_op_type_is_refused() {
        let mut bytes = Vec::new();
        MultiHeader {
            op: OpCode::Sync.code(),
            done: false,
            err: -1,
        }
        .encode(&mut bytes);
        assert!(matches!(
            MultiRequest::from_bytes(&bytes),
            Err(DecodeError::BadValue { value: 9, .. })
        ));
    }
}
