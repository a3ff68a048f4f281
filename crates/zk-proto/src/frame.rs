//! Framing on the client port: every message is a 4-byte big-endian length followed by that many
//! payload bytes (reference 1.1). A length below 0 or above `jute.maxbuffer` closes the
//! connection in Java; [`decode_frame`] reports it as a [`FrameError`].

use thiserror::Error;

/// `jute.maxbuffer`'s default: the largest frame payload Java accepts (1 MiB - 1).
pub const DEFAULT_MAX_BUFFER: usize = 0xfffff;

/// The size of the length prefix.
pub const FRAME_LEN_PREFIX: usize = 4;

/// Why a frame cannot be accepted; either way the connection must be closed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The length exceeds the configured maximum.
    #[error("frame length {len} exceeds the maximum {max}")]
    TooLarge {
        /// The announced payload length.
        len: usize,
        /// The maximum allowed.
        max: usize,
    },
    /// The length is negative.
    #[error("negative frame length {0}")]
    Negative(i32),
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FrameError>();
};

/// Appends `payload` to `out` as one frame.
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) {
    write_frame(out, |out| out.extend_from_slice(payload));
}

/// Appends one frame to `out` whose payload `body` writes directly into `out`: the 4 length
/// bytes are reserved first and filled in afterwards, so the payload is never copied.
///
/// Panics if the payload exceeds `i32::MAX` bytes (a caller bug: frames are bounded far lower).
pub fn write_frame<T>(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_LEN_PREFIX]);
    let result = body(out);
    let len = out.len() - start - FRAME_LEN_PREFIX;
    let len = i32::try_from(len).expect("frame payload exceeds i32::MAX");
    out[start..start + FRAME_LEN_PREFIX].copy_from_slice(&len.to_be_bytes());
    result
}

/// Splits the first frame off `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, or `Ok(Some((consumed, payload)))` where
/// `consumed` counts the length prefix and the payload. A length equal to `max_frame_len` is
/// accepted, as in Java (`len > maxBuffer` is the error).
pub fn decode_frame(
    buf: &[u8],
    max_frame_len: usize,
) -> Result<Option<(usize, &[u8])>, FrameError> {
    let Some(prefix) = buf.first_chunk::<FRAME_LEN_PREFIX>() else {
        return Ok(None);
    };
    let len = i32::from_be_bytes(*prefix);
    let Ok(len) = usize::try_from(len) else {
        return Err(FrameError::Negative(len));
    };
    if len > max_frame_len {
        return Err(FrameError::TooLarge {
            len,
            max: max_frame_len,
        });
    }
    let end = FRAME_LEN_PREFIX + len;
    if buf.len() < end {
        return Ok(None);
    }
    Ok(Some((end, &buf[FRAME_LEN_PREFIX..end])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trips_and_waits_for_more_bytes() {
        let mut out = Vec::new();
        encode_frame(b"abc", &mut out);
        encode_frame(b"", &mut out);
        assert_eq!(out, [0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0]);
        assert_eq!(
            decode_frame(&out, DEFAULT_MAX_BUFFER),
            Ok(Some((7, &b"abc"[..])))
        );
        assert_eq!(
            decode_frame(&out[7..], DEFAULT_MAX_BUFFER),
            Ok(Some((4, &b""[..])))
        );
        for cut in 0..7 {
            assert_eq!(decode_frame(&out[..cut], DEFAULT_MAX_BUFFER), Ok(None));
        }
    }

    #[test]
    fn frame_length_limits_follow_java() {
        let at_max = (DEFAULT_MAX_BUFFER as i32).to_be_bytes();
        assert_eq!(decode_frame(&at_max, DEFAULT_MAX_BUFFER), Ok(None));
        let over = (DEFAULT_MAX_BUFFER as i32 + 1).to_be_bytes();
        assert_eq!(
            decode_frame(&over, DEFAULT_MAX_BUFFER),
            Err(FrameError::TooLarge {
                len: DEFAULT_MAX_BUFFER + 1,
                max: DEFAULT_MAX_BUFFER
            })
        );
        assert_eq!(
            decode_frame(&(-1i32).to_be_bytes(), DEFAULT_MAX_BUFFER),
            Err(FrameError::Negative(-1))
        );
    }

    #[test]
    fn write_frame_back_fills_the_length() {
        let mut out = vec![9];
        let n = write_frame(&mut out, |out| {
            out.extend_from_slice(&[1, 2]);
            2
        });
        assert_eq!(n, 2);
        assert_eq!(out, [9, 0, 0, 0, 2, 1, 2]);
    }
}
