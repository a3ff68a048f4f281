//! The field-level glue behind the `record!` macro: how each Rust field type maps to a jute type.
//!
//! | Rust type | jute type |
//! | --- | --- |
//! | `i32`, `i64`, `bool` | `int`, `long`, `boolean` |
//! | `Zxid`, `SessionId` | `long` |
//! | `String` | `ustring` (null reads as empty, invalid UTF-8 as U+FFFD) |
//! | `Option<String>` | `ustring` (null is `None`) |
//! | `Vec<u8>` | `buffer` (null reads as empty) |
//! | `Option<Vec<u8>>` | `buffer` (null is `None`, as znode data keeps it) |
//! | `Vec<String>`, `Vec<Acl>`, `Vec<ClientInfo>` | `vector<...>` (null or negative reads as empty) |
//! | `Stat` | the `Stat` record |

use crate::data::{read_acl_vec, write_acl_vec, Acl, Stat};
use crate::ids::{SessionId, Zxid};
use crate::jute::{DecodeError, Reader, Record, Writer};

/// One field of a jute record.
pub(crate) trait Field: Sized {
    fn write_field(&self, out: &mut Vec<u8>);
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

impl Field for i32 {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.write_i32(*self);
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_i32()
    }
}

impl Field for i64 {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.write_i64(*self);
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_i64()
    }
}

impl Field for bool {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.write_bool(*self);
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_bool()
    }
}

impl Field for Zxid {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.write_i64(self.as_i64());
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Zxid::from_i64(r.read_i64()?))
    }
}

impl Field for SessionId {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.write_i64(self.0);
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SessionId(r.read_i64()?))
    }
}

impl Field for String {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.write_str(self);
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_string()
    }
}

impl Field for Option<String> {
    fn write_field(&self, out: &mut Vec<u8>) {
        match self {
            Some(s) => out.write_str(s),
            None => out.write_null(),
        }
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_string_opt()
    }
}

impl Field for Vec<u8> {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.write_buffer(self);
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_buffer()
    }
}

impl Field for Option<Vec<u8>> {
    fn write_field(&self, out: &mut Vec<u8>) {
        match self {
            Some(bytes) => out.write_buffer(bytes),
            None => out.write_null(),
        }
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(r.read_buffer_opt()?.map(<[u8]>::to_vec))
    }
}

impl Field for Vec<String> {
    fn write_field(&self, out: &mut Vec<u8>) {
        out.write_string_vec(self);
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_string_vec()
    }
}

impl Field for Vec<Acl> {
    fn write_field(&self, out: &mut Vec<u8>) {
        write_acl_vec(out, self);
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_acl_vec(r)
    }
}

impl Field for Stat {
    fn write_field(&self, out: &mut Vec<u8>) {
        self.encode(out);
    }
    fn read_field(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Stat::decode(r)
    }
}

/// Declares a jute record: a struct whose fields are encoded in declaration order through
/// [`Field`], plus its [`Record`] implementation.
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$fmeta:meta])* pub $field:ident : $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $crate::jute::Record for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                let _ = &out;
                $($crate::field::Field::write_field(&self.$field, out);)*
            }

            fn decode(
                r: &mut $crate::jute::Reader<'_>,
            ) -> Result<Self, $crate::jute::DecodeError> {
                let _ = &r;
                Ok($name { $($field: $crate::field::Field::read_field(r)?,)* })
            }
        }
    };
}

pub(crate) use record;
