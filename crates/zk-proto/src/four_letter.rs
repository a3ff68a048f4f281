//! Four-letter words: admin commands sent as the first 4 bytes of a connection instead of a
//! ConnectRequest (reference 3.1). The server reads those bytes as a big-endian int and
//! compares it with the known codes (`FourLetterCommands`).

/// The big-endian int of a 4-byte ASCII name.
const fn code_of(name: &str) -> i32 {
    let b = name.as_bytes();
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

macro_rules! four_letter_words {
    ($($(#[$doc:meta])* $variant:ident = $name:literal;)*) => {
        /// A four-letter word known to ZooKeeper 3.8.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum FourLetterWord {
            $($(#[$doc])* $variant,)*
            /// The telnet interrupt sequence `IAC IP IAC DO` (0xfff4fffd): just close.
            TelnetClose,
        }

        impl FourLetterWord {
            /// Every known word.
            pub const ALL: &'static [FourLetterWord] =
                &[$(FourLetterWord::$variant,)* FourLetterWord::TelnetClose];

            /// The command's name (`"ruok"`, ...); `"telnet close"` for the telnet sequence.
            pub fn name(self) -> &'static str {
                match self {
                    $(FourLetterWord::$variant => $name,)*
                    FourLetterWord::TelnetClose => "telnet close",
                }
            }

            /// The first 4 bytes of the connection as Java reads them (a big-endian int).
            pub fn code(self) -> i32 {
                match self {
                    $(FourLetterWord::$variant => code_of($name),)*
                    FourLetterWord::TelnetClose => 0xfff4_fffd_u32 as i32,
                }
            }

            /// The word whose code is `code`, if any.
            pub fn from_i32(code: i32) -> Option<FourLetterWord> {
                FourLetterWord::ALL.iter().copied().find(|word| word.code() == code)
            }
        }
    };
}

four_letter_words! {
    /// Liveness check, answers `imok`.
    Ruok = "ruok";
    /// Server details.
    Srvr = "srvr";
    /// Server details and connected clients.
    Stat = "stat";
    /// Configuration.
    Conf = "conf";
    /// Connection details.
    Cons = "cons";
    /// Reset connection statistics.
    Crst = "crst";
    /// Reset server statistics.
    Srst = "srst";
    /// Environment.
    Envi = "envi";
    /// Monitoring variables.
    Mntr = "mntr";
    /// Watch summary.
    Wchs = "wchs";
    /// Watches by connection.
    Wchc = "wchc";
    /// Watches by path.
    Wchp = "wchp";
    /// Outstanding sessions and ephemerals.
    Dump = "dump";
    /// Read-only status: `ro` or `rw`.
    Isro = "isro";
    /// Data directory sizes.
    Dirs = "dirs";
    /// Get the trace mask.
    Gtmk = "gtmk";
    /// Set the trace mask (followed by an 8-byte long).
    Stmk = "stmk";
    /// Tree digest history.
    Hash = "hash";
}

impl FourLetterWord {
    /// The word the first 4 bytes of a connection spell, if any.
    pub fn from_bytes(bytes: [u8; 4]) -> Option<FourLetterWord> {
        FourLetterWord::from_i32(i32::from_be_bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruok_is_0x72756f6b() {
        assert_eq!(
            FourLetterWord::from_i32(0x7275_6f6b),
            Some(FourLetterWord::Ruok)
        );
        assert_eq!(FourLetterWord::Ruok.name(), "ruok");
        assert_eq!(
            FourLetterWord::from_bytes(*b"isro"),
            Some(FourLetterWord::Isro)
        );
        assert_eq!(FourLetterWord::from_bytes(*b"nope"), None);
        assert_eq!(
            FourLetterWord::from_i32(0xfff4_fffd_u32 as i32),
            Some(FourLetterWord::TelnetClose)
        );
    }

    #[test]
    fn every_word_round_trips_and_no_code_is_a_connect_length() {
        for &word in FourLetterWord::ALL {
            assert_eq!(FourLetterWord::from_i32(word.code()), Some(word));
            // A ConnectRequest frame starts with its small length; no word may look like one.
            assert!(!(0..=1024).contains(&word.code()));
        }
        assert_eq!(FourLetterWord::ALL.len(), 19);
    }
}
