//! Criterion benches of the jute codec: a GetData request and its response with a 100-byte value,
//! a Create request, and a multi of 10 ops, each encoded (header included, into a reused buffer)
//! and decoded.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use zk_proto::*;

fn stat() -> Stat {
    Stat {
        czxid: Zxid(0x1_0000_0001),
        mzxid: Zxid(0x1_0000_0002),
        ctime: 1_700_000_000_000,
        mtime: 1_700_000_000_001,
        version: 3,
        cversion: 0,
        aversion: 0,
        ephemeral_owner: SessionId(0),
        data_length: 100,
        num_children: 0,
        pzxid: Zxid(0x1_0000_0001),
    }
}

fn create(i: usize) -> CreateRequest {
    CreateRequest {
        path: format!("/bench/app/node-{i:04}"),
        data: Some(vec![0x5a; 100]),
        acl: Acl::open_unsafe(),
        flags: CreateMode::Persistent.flags(),
    }
}

/// Benches encoding `request` behind a header into a reused buffer, then decoding it.
fn bench_request(c: &mut Criterion, name: &str, request: &Request) {
    let mut out = Vec::with_capacity(4096);
    c.bench_function(&format!("encode/{name}"), |b| {
        b.iter(|| {
            out.clear();
            write_frame(&mut out, |out| {
                RequestHeader::new(Xid(1), request.op()).encode(out);
                black_box(request).encode(out);
            });
            black_box(out.len())
        })
    });
    let mut wire = Vec::new();
    write_frame(&mut wire, |out| {
        RequestHeader::new(Xid(1), request.op()).encode(out);
        request.encode(out);
    });
    c.bench_function(&format!("decode/{name}"), |b| {
        b.iter(|| {
            let (_, payload) = decode_frame(black_box(&wire), DEFAULT_MAX_BUFFER)
                .unwrap()
                .unwrap();
            let mut r = Reader::new(payload);
            let header = RequestHeader::decode(&mut r).unwrap();
            black_box(Request::decode(header.op_code().unwrap(), &mut r).unwrap())
        })
    });
}

fn codec(c: &mut Criterion) {
    bench_request(
        c,
        "get_data_request",
        &Request::GetData(GetDataRequest {
            path: "/bench/app/node-0001".into(),
            watch: true,
        }),
    );
    bench_request(c, "create_request", &Request::Create(create(1)));
    bench_request(
        c,
        "multi_10_ops",
        &Request::Multi(MultiRequest {
            ops: (0..10).map(|i| MultiOp::Create(create(i))).collect(),
        }),
    );

    let reply = Reply {
        header: ReplyHeader::new(Xid(1), Zxid(0x1_0000_0002), ErrorCode::Ok),
        body: Some(Response::GetData(GetDataResponse {
            data: Some(vec![0xa5; 100]),
            stat: stat(),
        })),
    };
    let mut out = Vec::with_capacity(4096);
    c.bench_function("encode/get_data_response", |b| {
        b.iter(|| {
            out.clear();
            write_frame(&mut out, |out| black_box(&reply).encode(out));
            black_box(out.len())
        })
    });
    let mut wire = Vec::new();
    write_frame(&mut wire, |out| reply.encode(out));
    c.bench_function("decode/get_data_response", |b| {
        b.iter(|| {
            let (_, payload) = decode_frame(black_box(&wire), DEFAULT_MAX_BUFFER)
                .unwrap()
                .unwrap();
            black_box(Reply::decode(OpCode::GetData, &mut Reader::new(payload)).unwrap())
        })
    });
}

criterion_group!(benches, codec);
criterion_main!(benches);
