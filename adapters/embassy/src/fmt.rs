//! Logging shim: failures go to `defmt`, to `log`, or nowhere (after embassy-net's `fmt.rs`,
//! but as functions: defmt and `log` need different format specifiers for the same values).

use kaiko_core::call::Cause;
use kaiko_core::time::Duration;

/// Logs one failed attempt (`retry` is `Some` when another attempt follows) with the
/// request id the server gave, so the failure can be matched with the server's logs.
pub(crate) fn attempt_failed(at_ms: u64, attempt: u8, cause: &Cause, retry_in: Option<Duration>) {
    let retry_in_ms = retry_in.map(|d| d.as_millis());
    let request_id = match cause {
        Cause::Api(e) => e.request_id.as_str(),
        _ => "",
    };
    #[cfg(feature = "defmt")]
    match retry_in_ms {
        Some(wait) => defmt::warn!(
            "kaiko: attempt {} failed at {} ms (request_id={=str}): {}; retry in {} ms",
            attempt,
            at_ms,
            request_id,
            cause,
            wait
        ),
        None => defmt::warn!(
            "kaiko: attempt {} failed at {} ms (request_id={=str}): {}; giving up",
            attempt,
            at_ms,
            request_id,
            cause
        ),
    }
    #[cfg(feature = "log")]
    match retry_in_ms {
        Some(wait) => log::warn!(
            "kaiko: attempt {} failed at {} ms (request_id={}): {:?}; retry in {} ms",
            attempt,
            at_ms,
            request_id,
            cause,
            wait
        ),
        None => log::warn!(
            "kaiko: attempt {} failed at {} ms (request_id={}): {:?}; giving up",
            attempt,
            at_ms,
            request_id,
            cause
        ),
    }
    #[cfg(not(any(feature = "defmt", feature = "log")))]
    let _ = (at_ms, attempt, request_id, retry_in_ms);
}

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("You may not enable both `defmt` and `log` features.");
