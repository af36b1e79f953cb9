use super::*;
use crate::http::RateLimit;
use proptest::prelude::*;

fn rng(seed: u64) -> SplitMix64 {
    SplitMix64::new(seed)
}

#[test]
fn documented_schedule_1s_2s_4s_plus_jitter() {
    let p = Policy::DEFAULT;
    let mut r = rng(7);
    for (retry, base) in [(1u8, 1000u64), (2, 2000), (3, 4000)] {
        let d = p.backoff(retry, &mut r).as_millis();
        assert!((base..=base + 200).contains(&d), "retry {retry}: {d}");
    }
}

#[test]
fn growth_is_capped_before_overflow() {
    let p = Policy {
        max_retries: 255,
        ..Policy::DEFAULT
    };
    let d = p.backoff(255, &mut rng(1));
    assert!(d <= p.max_backoff.saturating_add(p.max_jitter));
}

#[test]
fn retryable_statuses() {
    for s in [429, 500, 502, 503, 504, 599] {
        assert!(is_retryable_status(s), "{s}");
    }
    for s in [200, 400, 401, 402, 403, 404, 409, 413, 422, 428, 600] {
        assert!(!is_retryable_status(s), "{s}");
    }
}

#[test]
fn retry_after_seconds_and_date_and_ms() {
    let mut h = ResponseHead::new(429);
    h.retry_after = Some(RetryAfter::Seconds(5));
    assert_eq!(server_wait(&h, None, true), Some(Duration::from_secs(5)));
    h.retry_after = Some(RetryAfter::Date(1_000_010));
    assert_eq!(
        server_wait(&h, None, true),
        None,
        "a date needs a reference clock"
    );
    assert_eq!(
        server_wait(&h, Some(1_000_000_000), true),
        Some(Duration::from_secs(10))
    );
    h.date = Some(1_000_004);
    assert_eq!(
        server_wait(&h, Some(1_000_000_000), true),
        Some(Duration::from_secs(6)),
        "Date header wins"
    );
    h.retry_after_ms = Some(1500);
    assert_eq!(
        server_wait(&h, None, true),
        Some(Duration::from_millis(1500))
    );
}

#[test]
fn rate_limit_reset_when_remaining_is_zero() {
    let mut h = ResponseHead::new(429);
    h.date = Some(100);
    h.rate_limit = RateLimit {
        limit: Some(60),
        remaining: Some(0),
        reset: Some(130),
    };
    assert_eq!(server_wait(&h, None, true), Some(Duration::from_secs(30)));
    assert_eq!(server_wait(&h, None, false), None);
    h.rate_limit.remaining = Some(3);
    assert_eq!(server_wait(&h, None, true), None);
    h.rate_limit.remaining = Some(0);
    h.retry_after = Some(RetryAfter::Seconds(2));
    assert_eq!(
        server_wait(&h, None, true),
        Some(Duration::from_secs(2)),
        "Retry-After wins over the reset"
    );
}

#[test]
fn decisions() {
    let p = Policy::DEFAULT;
    let now = Instant::from_millis(1000);
    let far = Instant::MAX;
    assert_eq!(
        decide(&p, &mut rng(1), 1, false, None, now, far),
        Decision::Stop(Stop::NotRetryable)
    );
    assert_eq!(
        decide(&p, &mut rng(1), 4, true, None, now, far),
        Decision::Stop(Stop::RetriesExhausted)
    );
    let wait = Duration::from_secs(61);
    assert_eq!(
        decide(&p, &mut rng(1), 1, true, Some(wait), now, far),
        Decision::Stop(Stop::WaitAboveCap { wait })
    );
    assert_eq!(
        decide(
            &p,
            &mut rng(1),
            1,
            true,
            None,
            now,
            Instant::from_millis(1500)
        ),
        Decision::Stop(Stop::Deadline)
    );
    match decide(
        &p,
        &mut rng(1),
        1,
        true,
        Some(Duration::from_secs(10)),
        now,
        far,
    ) {
        Decision::Retry { at, delay } => {
            assert_eq!(
                delay,
                Duration::from_secs(10),
                "server wait above backoff wins"
            );
            assert_eq!(at, now + delay);
        }
        d => panic!("{d:?}"),
    }
}

#[test]
fn two_seeds_two_schedules() {
    let p = Policy::DEFAULT;
    let a: [u64; 3] = core::array::from_fn(|i| p.backoff(i as u8 + 1, &mut rng(1)).as_millis());
    let b: [u64; 3] = core::array::from_fn(|i| p.backoff(i as u8 + 1, &mut rng(2)).as_millis());
    assert_ne!(a, b);
}

proptest! {
    /// Backoff stays within [base·2^(n-1) capped, that + jitter] for every policy and seed.
    #[test]
    fn backoff_bounds(seed in any::<u64>(), retry in 1u8..=255, base in 0u64..100_000,
                      cap in 0u64..1_000_000, jitter in 0u64..10_000) {
        let p = Policy {
            base_delay: Duration::from_millis(base),
            max_backoff: Duration::from_millis(cap),
            max_jitter: Duration::from_millis(jitter),
            ..Policy::DEFAULT
        };
        let d = p.backoff(retry, &mut rng(seed)).as_millis();
        let exp = base.saturating_mul(1u64 << u32::from(retry - 1).min(32)).min(cap);
        prop_assert!(d >= exp && d <= exp + jitter, "{} not in [{}, {}]", d, exp, exp + jitter);
    }

    /// The same with any base and cap, saturation included.
    #[test]
    fn backoff_saturates(seed in any::<u64>(), retry in 1u8..=255, base in any::<u64>(),
                         cap in any::<u64>()) {
        let p = Policy {
            base_delay: Duration::from_millis(base),
            max_backoff: Duration::from_millis(cap),
            max_jitter: Duration::ZERO,
            ..Policy::DEFAULT
        };
        let d = p.backoff(retry, &mut rng(seed)).as_millis();
        prop_assert_eq!(d, base.saturating_mul(1u64 << u32::from(retry - 1).min(32)).min(cap));
    }

    /// The wait follows the documented precedence (`retry-after-ms`, `Retry-After`, then the
    /// rate-limit reset once nothing remains), measured against `Date`, else the caller's
    /// clock, for every combination of headers.
    #[test]
    fn server_wait_precedence(
        ms in proptest::option::of(any::<u32>()),
        after in proptest::option::of((any::<bool>(), any::<u32>(), any::<u32>())),
        date in proptest::option::of(any::<u32>()),
        now in proptest::option::of(any::<u64>()),
        remaining in proptest::option::of(0u32..3),
        reset in proptest::option::of(any::<u32>()),
        respect in any::<bool>(),
    ) {
        let mut h = ResponseHead::new(429);
        h.retry_after_ms = ms;
        h.retry_after = after.map(|(secs, s, t)| if secs { RetryAfter::Seconds(s) } else { RetryAfter::Date(t) });
        h.date = date;
        h.rate_limit.remaining = remaining;
        h.rate_limit.reset = reset;
        // The rule written out the long way.
        let reference = date.map(|d| u64::from(d) * 1000).or(now);
        let until = |t: u32| reference.map(|r| Duration::from_millis((u64::from(t) * 1000).saturating_sub(r)));
        let from_header = match (ms, h.retry_after) {
            (Some(ms), _) => Some(Duration::from_millis(u64::from(ms))),
            (None, Some(RetryAfter::Seconds(s))) => Some(Duration::from_millis(u64::from(s) * 1000)),
            (None, Some(RetryAfter::Date(t))) => until(t),
            (None, None) => None,
        };
        let want = from_header.or(match (respect, remaining, reset) {
            (true, Some(0), Some(t)) => until(t),
            _ => None,
        });
        prop_assert_eq!(server_wait(&h, now, respect), want);
    }

    /// A server wait above the cap always stops the call; at or below it, a retry never comes
    /// sooner than the server asked.
    #[test]
    fn retry_after_cap(seed in any::<u64>(), wait_ms in 0u64..200_000, cap_ms in 0u64..120_000) {
        let p = Policy { retry_after_cap: Duration::from_millis(cap_ms), ..Policy::DEFAULT };
        let now = Instant::from_millis(5);
        let wait = Duration::from_millis(wait_ms);
        match decide(&p, &mut rng(seed), 1, true, Some(wait), now, Instant::MAX) {
            Decision::Stop(Stop::WaitAboveCap { wait: w }) => prop_assert!(wait_ms > cap_ms && w == wait),
            Decision::Retry { delay, at } => {
                prop_assert!(wait_ms <= cap_ms);
                prop_assert!(delay >= wait);
                prop_assert_eq!(at, now + delay);
            }
            d => prop_assert!(false, "{:?}", d),
        }
    }
}
