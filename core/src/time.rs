//! Time as plain integers: the core never reads a clock, the caller passes `now` in.
//!
//! Both types count **milliseconds**. [`Instant`] is measured from an epoch the caller picks
//! (boot, say); only differences between instants matter. All arithmetic saturates, so a
//! deadline computed from a huge duration is "never" rather than a wrap-around into the past.

/// A point in time, in milliseconds since a caller-chosen epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant(u64);

/// A span of time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Duration(u64);

impl Instant {
    /// The earliest instant.
    pub const ZERO: Instant = Instant(0);
    /// The latest representable instant; used for "no deadline".
    pub const MAX: Instant = Instant(u64::MAX);

    /// An instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at [`Instant::MAX`].
    #[must_use]
    pub const fn saturating_add(self, d: Duration) -> Self {
        Instant(self.0.saturating_add(d.0))
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    #[must_use]
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration(0);
    /// The longest representable duration.
    pub const MAX: Duration = Duration(u64::MAX);

    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Duration(ms)
    }

    /// A duration of `s` seconds, saturating.
    pub const fn from_secs(s: u64) -> Self {
        Duration(s.saturating_mul(1000))
    }

    /// The duration in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + other`, saturating.
    #[must_use]
    pub const fn saturating_add(self, other: Duration) -> Self {
        Duration(self.0.saturating_add(other.0))
    }

    /// `self * n`, saturating.
    #[must_use]
    pub const fn saturating_mul(self, n: u64) -> Self {
        Duration(self.0.saturating_mul(n))
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
            Instant(i.as_millis())
        }
    }
    impl From<Instant> for embassy_time::Instant {
        fn from(i: Instant) -> Self {
            embassy_time::Instant::from_millis(i.0)
        }
    }
    impl From<embassy_time::Duration> for Duration {
        fn from(d: embassy_time::Duration) -> Self {
            Duration(d.as_millis())
        }
    }
    impl From<Duration> for embassy_time::Duration {
        fn from(d: Duration) -> Self {
            embassy_time::Duration::from_millis(d.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn max_is_sticky() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Duration::from_secs(u64::MAX), Duration::MAX);
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
