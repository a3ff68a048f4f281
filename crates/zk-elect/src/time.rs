//! Logical time as the driver supplies it: milliseconds on the stepping server's own clock.

use core::fmt;
use core::ops::Add;

use serde::{Deserialize, Serialize};

/// A point in time, in milliseconds, on the clock of the server being stepped.
///
/// The state machines never read a clock: the runtime passes its monotonic clock, the simulator
/// its (possibly skewed) virtual clock.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug, Serialize, Deserialize,
)]
pub struct Millis(pub u64);

impl Millis {
    /// The milliseconds from `earlier` to `self`, or 0 when `earlier` is later.
    pub fn since(self, earlier: Millis) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<u64> for Millis {
    type Output = Millis;

    fn add(self, duration_ms: u64) -> Millis {
        Millis(self.0.saturating_add(duration_ms))
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}
