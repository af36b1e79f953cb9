//! Time as plain integers: the core never reads a clock, the caller passes `now` in.
//!
//! Both types count **milliseconds**. [`Instant`] is measured from an epoch the caller picks
//! (boot, say); only differences between instants matter. All arithmetic saturates, so a
//! deadline computed from a huge duration is "never" rather than a wrap-around into the past.

use crate::wide::Wide;

/// A point in time, in milliseconds since a caller-chosen epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant(Wide);

/// A span of time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Duration(Wide);

impl Instant {
    /// The earliest instant.
    pub const ZERO: Instant = Instant(Wide::new(0));
    /// The latest representable instant; used for "no deadline".
    pub const MAX: Instant = Instant(Wide::MAX);

    /// An instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(Wide::new(ms))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0.get()
    }

    /// `self + d`, saturating at [`Instant::MAX`].
    #[must_use]
    pub const fn saturating_add(self, d: Duration) -> Self {
        Instant(Wide::new(self.as_millis().saturating_add(d.as_millis())))
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    #[must_use]
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration(Wide::new(
            self.as_millis().saturating_sub(earlier.as_millis()),
        ))
    }
}

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration(Wide::new(0));
    /// The longest representable duration.
    pub const MAX: Duration = Duration(Wide::MAX);

    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Duration(Wide::new(ms))
    }

    /// A duration of `s` seconds, saturating.
    pub const fn from_secs(s: u64) -> Self {
        // A compare and a plain multiply: smaller than an overflow-checked 64-bit multiply
        // on 32-bit targets, same result.
        Duration(Wide::new(if s > u64::MAX / 1000 {
            u64::MAX
        } else {
            s * 1000
        }))
    }

    /// The duration in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0.get()
    }

    /// `self + other`, saturating.
    #[must_use]
    pub const fn saturating_add(self, other: Duration) -> Self {
        Duration(Wide::new(
            self.as_millis().saturating_add(other.as_millis()),
        ))
    }

    /// `self * n`, saturating.
    #[must_use]
    pub const fn saturating_mul(self, n: u64) -> Self {
        Duration(Wide::new(self.as_millis().saturating_mul(n)))
    }
}

impl core::fmt::Display for Duration {
    /// Seconds with two decimals, e.g. `1.08 s`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let ms = self.as_millis();
        write!(f, "{}.{:02} s", ms / 1000, (ms % 1000) / 10)
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Instant;
    /// Saturating: adding any duration to [`Instant::MAX`] stays there.
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

#[cfg(feature = "embassy-time")]
mod embassy {
    //! One-line conversions at the boundary with embassy-time.
    use super::{Duration, Instant};

    impl From<embassy_time::Instant> for Instant {
        fn from(i: embassy_time::Instant) -> Self {
            Instant::from_millis(i.as_millis())
        }
    }
    impl From<Instant> for embassy_time::Instant {
        fn from(i: Instant) -> Self {
            // Saturating: `Instant::MAX` (no deadline) would overflow embassy's tick count.
            embassy_time::Instant::from_millis(
                i.as_millis().min(embassy_time::Instant::MAX.as_millis()),
            )
        }
    }
    impl From<embassy_time::Duration> for Duration {
        fn from(d: embassy_time::Duration) -> Self {
            Duration::from_millis(d.as_millis())
        }
    }
    impl From<Duration> for embassy_time::Duration {
        fn from(d: Duration) -> Self {
            embassy_time::Duration::from_millis(
                d.as_millis().min(embassy_time::Duration::MAX.as_millis()),
            )
        }
    }
}

impl From<Duration> for core::time::Duration {
    fn from(d: Duration) -> Self {
        core::time::Duration::from_millis(d.as_millis())
    }
}

impl From<core::time::Duration> for Duration {
    /// Saturates at [`Duration::MAX`].
    fn from(d: core::time::Duration) -> Self {
        Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

#[cfg(feature = "std")]
mod host {
    //! The host's clocks, for adapters that run under std (feature `std`).
    use super::{Duration, Instant};
    use std::time::{SystemTime, UNIX_EPOCH};

    /// Monotonic [`Instant`]s counted from the clock's creation, and the wall-clock time a
    /// call needs for HTTP-date `Retry-After` values
    /// ([`Call::set_unix_time`](crate::call::Call::set_unix_time)).
    #[derive(Debug, Clone, Copy)]
    pub struct StdClock {
        epoch: std::time::Instant,
    }

    impl StdClock {
        /// A clock whose epoch is now.
        pub fn new() -> Self {
            StdClock {
                epoch: std::time::Instant::now(),
            }
        }

        /// The current instant.
        pub fn now(&self) -> Instant {
            Instant::from_millis(
                u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX),
            )
        }

        /// The std instant of `at`, for `sleep_until`-style APIs.
        pub fn to_std(&self, at: Instant) -> std::time::Instant {
            let far = core::time::Duration::from_secs(100 * 365 * 24 * 3600);
            self.epoch
                .checked_add(Duration::from_millis(at.as_millis()).into())
                .unwrap_or(self.epoch + far)
        }

        /// Seconds since the Unix epoch (0 if the system clock is before it).
        pub fn unix_secs() -> u64 {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        }
    }

    impl Default for StdClock {
        fn default() -> Self {
            Self::new()
        }
    }
}

#[cfg(feature = "std")]
pub use host::StdClock;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn core_durations_convert_both_ways() {
        let d: core::time::Duration = Duration::from_millis(1500).into();
        assert_eq!(d.as_millis(), 1500);
        assert_eq!(Duration::from(core::time::Duration::MAX), Duration::MAX);
    }

    #[cfg(feature = "std")]
    #[test]
    fn std_clock_is_monotonic_and_maps_back() {
        extern crate std;
        let clock = StdClock::new();
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
        assert!(clock.to_std(a) <= std::time::Instant::now());
        assert!(
            clock.to_std(Instant::MAX) > std::time::Instant::now(),
            "no overflow"
        );
        assert!(StdClock::unix_secs() > 1_700_000_000);
    }

    #[test]
    fn max_is_sticky() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Duration::from_secs(u64::MAX), Duration::MAX);
    }

    proptest! {
        /// Seconds convert exactly as a saturating multiplication would.
        #[test]
        fn from_secs_saturates(s in any::<u64>(), near in 0u64..2_000) {
            for s in [s, u64::MAX / 1000 - 1_000 + near] {
                prop_assert_eq!(Duration::from_secs(s).as_millis(), s.saturating_mul(1000));
            }
        }
    }

    proptest! {
        /// Deadlines never wrap: `now + d` is at least `now` and at least `d` past the epoch or MAX.
        #[test]
        fn deadlines_saturate(now in any::<u64>(), d in any::<u64>()) {
            let t = Instant::from_millis(now) + Duration::from_millis(d);
            prop_assert!(t >= Instant::from_millis(now));
            prop_assert_eq!(t.as_millis(), now.saturating_add(d));
            prop_assert_eq!(t.saturating_duration_since(Instant::from_millis(now)).as_millis(),
                            now.saturating_add(d) - now);
        }
    }
}
