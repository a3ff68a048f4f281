//! Property tests: every record survives encode then decode, and no decoder panics on arbitrary
//! bytes.

mod common;

use common::*;
use proptest::collection::vec;
use proptest::prelude::*;
use zk_proto::*;

/// Decodes `T` from `bytes` and checks that every byte was used.
fn decode_exact<T: Record>(bytes: &[u8]) -> T {
    let mut r = Reader::new(bytes);
    let value = T::decode(&mut r).expect("decode");
    assert!(r.is_empty(), "{} bytes left", r.remaining());
    value
}

proptest! {
    #[test]
    fn every_request_round_trips(request in request()) {
        let bytes = request.to_bytes();
        let mut r = Reader::new(&bytes);
        prop_assert_eq!(Request::decode(request.op(), &mut r), Ok(request.clone()));
        prop_assert!(r.is_empty());
    }

    #[test]
    fn every_framed_request_round_trips(xid in any::<i32>(), request in request()) {
        let mut wire = Vec::new();
        write_frame(&mut wire, |out| {
            RequestHeader::new(Xid(xid), request.op()).encode(out);
            request.encode(out);
        });
        let (consumed, payload) = decode_frame(&wire, usize::MAX).unwrap().unwrap();
        prop_assert_eq!(consumed, wire.len());
        let mut r = Reader::new(payload);
        let header = RequestHeader::decode(&mut r).unwrap();
        prop_assert_eq!(header.xid, Xid(xid));
        prop_assert_eq!(header.op_code(), Some(request.op()));
        prop_assert_eq!(Request::decode(request.op(), &mut r), Ok(request));
        prop_assert!(r.is_empty());
    }

    #[test]
    fn every_response_round_trips(response in response()) {
        let bytes = response.to_bytes();
        let mut r = Reader::new(&bytes);
        prop_assert_eq!(
            Response::decode(op_for_response(&response), &mut r),
            Ok(response.clone())
        );
        prop_assert!(r.is_empty());
    }

    #[test]
    fn every_reply_round_trips(header in reply_header(), response in response()) {
        let reply = Reply {
            header,
            body: header.is_ok().then_some(response.clone()),
        };
        let mut bytes = Vec::new();
        reply.encode(&mut bytes);
        let mut r = Reader::new(&bytes);
        prop_assert_eq!(Reply::decode(op_for_response(&response), &mut r), Ok(reply));
        prop_assert!(r.is_empty());
    }

    #[test]
    fn multi_records_round_trip(request in multi_request(), response in multi_response()) {
        prop_assert_eq!(decode_exact::<MultiRequest>(&request.to_bytes()), request);
        prop_assert_eq!(decode_exact::<MultiResponse>(&response.to_bytes()), response);
    }

    #[test]
    fn connect_records_round_trip(request in connect_request(), response in connect_response()) {
        prop_assert_eq!(decode_exact::<ConnectRequest>(&request.to_bytes()), request);
        prop_assert_eq!(decode_exact::<ConnectResponse>(&response.to_bytes()), response);
    }

    #[test]
    fn headers_and_events_round_trip(
        request_header in request_header(),
        reply_header in reply_header(),
        multi in (any::<i32>(), any::<bool>(), any::<i32>()),
        event in watcher_event(),
        stat in stat(),
    ) {
        prop_assert_eq!(decode_exact::<RequestHeader>(&request_header.to_bytes()), request_header);
        prop_assert_eq!(decode_exact::<ReplyHeader>(&reply_header.to_bytes()), reply_header);
        let multi = MultiHeader { op: multi.0, done: multi.1, err: multi.2 };
        prop_assert_eq!(decode_exact::<MultiHeader>(&multi.to_bytes()), multi);
        prop_assert_eq!(decode_exact::<WatcherEvent>(&event.to_bytes()), event);
        prop_assert_eq!(decode_exact::<Stat>(&stat.to_bytes()), stat);
    }

    #[test]
    fn notifications_decode_as_header_and_event(event in watcher_event()) {
        let mut bytes = Vec::new();
        encode_notification(event.event_type, &event.path, &mut bytes);
        let mut r = Reader::new(&bytes);
        let header = ReplyHeader::decode(&mut r).unwrap();
        prop_assert_eq!(header.xid, Xid::NOTIFICATION);
        prop_assert_eq!(header.zxid.as_i64(), -1);
        let decoded = WatcherEvent::decode(&mut r).unwrap();
        prop_assert_eq!(decoded.event_type, event.event_type);
        prop_assert_eq!(decoded.state, KeeperState::SyncConnected);
        prop_assert_eq!(decoded.path, event.path);
        prop_assert!(r.is_empty());
    }

    #[test]
    fn non_bmp_strings_read_back_as_java_does(s in ".{0,12}") {
        let mut bytes = Vec::new();
        bytes.write_str(&s);
        let expected: String = s
            .chars()
            .flat_map(|c| {
                if u32::from(c) > 0xffff {
                    vec![char::REPLACEMENT_CHARACTER; 2]
                } else {
                    vec![c]
                }
            })
            .collect();
        let mut r = Reader::new(&bytes);
        prop_assert_eq!(r.read_string(), Ok(expected));
        prop_assert!(r.is_empty());
    }

    #[test]
    fn frames_round_trip_back_to_back(payloads in vec(vec(any::<u8>(), 0..64), 0..5)) {
        let mut wire = Vec::new();
        for payload in &payloads {
            encode_frame(payload, &mut wire);
        }
        let mut rest = &wire[..];
        for payload in &payloads {
            let (consumed, got) = decode_frame(rest, DEFAULT_MAX_BUFFER).unwrap().unwrap();
            prop_assert_eq!(got, &payload[..]);
            rest = &rest[consumed..];
        }
        prop_assert!(rest.is_empty());
    }
}

proptest! {
    #[test]
    fn request_decode_never_panics(bytes in vec(any::<u8>(), 0..256)) {
        for &op in OpCode::ALL {
            check_stable(&bytes, |r| Request::decode(op, r), |v, out| v.encode(out));
        }
    }

    #[test]
    fn response_decode_never_panics(bytes in vec(any::<u8>(), 0..256)) {
        for &op in OpCode::ALL {
            check_stable(&bytes, |r| Response::decode(op, r), |v, out| v.encode(out));
            check_stable(&bytes, |r| Reply::decode(op, r), |v, out| v.encode(out));
        }
    }

    #[test]
    fn record_decoders_never_panic(bytes in vec(any::<u8>(), 0..256)) {
        check_stable(&bytes, ConnectRequest::decode, ConnectRequest::encode);
        check_stable(&bytes, ConnectResponse::decode, ConnectResponse::encode);
        check_stable(&bytes, WatcherEvent::decode, WatcherEvent::encode);
        check_stable(&bytes, MultiRequest::decode, MultiRequest::encode);
        check_stable(&bytes, MultiResponse::decode, MultiResponse::encode);
        check_stable(&bytes, RequestHeader::decode, RequestHeader::encode);
        check_stable(&bytes, ReplyHeader::decode, ReplyHeader::encode);
    }

    #[test]
    fn frame_decode_never_panics(bytes in vec(any::<u8>(), 0..64), max in 0usize..128) {
        match decode_frame(&bytes, max) {
            Ok(Some((consumed, payload))) => {
                prop_assert!(consumed <= bytes.len());
                prop_assert_eq!(payload.len() + 4, consumed);
                prop_assert!(payload.len() <= max);
            }
            Ok(None) => prop_assert!(
                bytes.len() < 4
                    || (i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
                        > bytes.len() - 4
            ),
            Err(FrameError::Negative(len)) => prop_assert!(len < 0),
            Err(FrameError::TooLarge { len, max: m }) => prop_assert!(len > m),
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn truncated_requests_fail_cleanly(request in request(), cut in any::<prop::sample::Index>()) {
        let bytes = request.to_bytes();
        if !bytes.is_empty() {
            let cut = cut.index(bytes.len());
            let mut r = Reader::new(&bytes[..cut]);
            // A prefix of a valid body either fails or (for the optional tails) decodes to
            // something; it never panics.
            let _ = Request::decode(request.op(), &mut r);
        }
    }
}
