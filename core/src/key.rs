//! API keys: which environment a key belongs to, and never showing the secret.
//!
//! An [`ApiKey`] borrows the secret and checks only what the header writer needs (spec §2
//! advises against strict prefix checks: the docs say `kaiko_live_…` / `kaiko_test_…`, the
//! backend issues `sk_<env>_…`). Its `Debug`, `Display` and `defmt::Format` show the
//! environment prefix at most; [`ApiKey::expose_secret`] is the one way to read the rest.
//!
//! ```
//! use kaiko_core::key::{ApiKey, Environment};
//!
//! let key = ApiKey::new("kaiko_live_s3cr3t").unwrap();
//! assert_eq!(key.environment(), Environment::Production);
//! assert_eq!(format!("{key:?}"), "ApiKey(kaiko_live_…)");
//! assert_eq!(format!("{key}"), "kaiko_live_…");
//! ```

use core::fmt;

use crate::base_url::BaseUrl;

/// Longest accepted key in bytes (the documented and generated keys are under 50).
pub const MAX_KEY_LEN: usize = 256;

/// Prefix of production keys (spec §1).
const LIVE_PREFIX: &str = "kaiko_live_";
/// Prefix of staging keys (spec §1).
const TEST_PREFIX: &str = "kaiko_test_";

/// The environment a key selects (spec §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Environment {
    /// `kaiko_live_…` → `api.kaikostudios.xyz`.
    Production,
    /// `kaiko_test_…` → `stg.api.kaikostudios.xyz`.
    Staging,
    /// Any other key (e.g. the backend's `sk_<env>_…`): needs an explicit base URL.
    Unknown,
}

impl Environment {
    /// The documented V2 base URL of this environment; `None` for [`Environment::Unknown`].
    pub const fn base_url(self) -> Option<BaseUrl<'static>> {
        match self {
            Environment::Production => Some(BaseUrl::PRODUCTION),
            Environment::Staging => Some(BaseUrl::STAGING),
            Environment::Unknown => None,
        }
    }
}

/// How the key is sent (spec §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Auth {
    /// `x-api-key: <key>` (recommended by the docs).
    #[default]
    XApiKey,
    /// `Authorization: Bearer <key>`.
    Bearer,
}

/// Why a string is not accepted as an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum KeyError {
    /// The key is empty.
    Empty,
    /// The key is longer than [`MAX_KEY_LEN`] bytes.
    TooLong,
    /// The key holds a byte outside visible ASCII (`0x21..=0x7E`): a space, a control byte
    /// (CR/LF would split the header) or non-ASCII text.
    InvalidByte,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyError::Empty => "API key is empty",
            KeyError::TooLong => "API key is longer than 256 bytes",
            KeyError::InvalidByte => "API key holds a byte outside visible ASCII",
        })
    }
}

impl core::error::Error for KeyError {}

/// An API key. Its `Debug`, `Display` and `defmt::Format` show at most the environment
/// prefix, never the secret.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ApiKey<'a> {
    secret: &'a str,
}

impl<'a> ApiKey<'a> {
    /// Accepts a non-empty key of at most [`MAX_KEY_LEN`] bytes, all visible ASCII
    /// (`0x21..=0x7E`), so it can be written into a header as is. The prefix is not checked.
    pub fn new(secret: &'a str) -> Result<Self, KeyError> {
        let bytes = secret.as_bytes();
        if bytes.is_empty() {
            return Err(KeyError::Empty);
        }
        if bytes.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong);
        }
        if !bytes.iter().all(|b| (0x21..=0x7E).contains(b)) {
            return Err(KeyError::InvalidByte);
        }
        Ok(ApiKey { secret })
    }

    /// The environment named by the prefix: `kaiko_live_` → production, `kaiko_test_` →
    /// staging, anything else unknown.
    pub fn environment(&self) -> Environment {
        if self.secret.starts_with(LIVE_PREFIX) {
            Environment::Production
        } else if self.secret.starts_with(TEST_PREFIX) {
            Environment::Staging
        } else {
            Environment::Unknown
        }
    }

    /// The whole key, for the header writer. Do not log it.
    pub const fn expose_secret(&self) -> &'a str {
        self.secret
    }

    /// What the formatters may show: the known prefix, or nothing.
    fn shown_prefix(&self) -> &'static str {
        match self.environment() {
            Environment::Production => LIVE_PREFIX,
            Environment::Staging => TEST_PREFIX,
            Environment::Unknown => "",
        }
    }
}

impl fmt::Debug for ApiKey<'_> {
    /// `ApiKey(kaiko_live_…)`, `ApiKey(kaiko_test_…)` or `ApiKey(…)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(")?;
        f.write_str(self.shown_prefix())?;
        f.write_str("…)")
    }
}

impl fmt::Display for ApiKey<'_> {
    /// `kaiko_live_…`, `kaiko_test_…` or `…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.shown_prefix())?;
        f.write_str("…")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ApiKey<'_> {
    /// Same text as `Debug`.
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "ApiKey({=str}…)", self.shown_prefix())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::format;

    #[test]
    fn environment_from_prefix() {
        let env = |s| ApiKey::new(s).map(|k| k.environment());
        assert_eq!(env("kaiko_live_xxxxxxxxxxxxx"), Ok(Environment::Production));
        assert_eq!(env("kaiko_test_xxxxxxxxxxxxx"), Ok(Environment::Staging));
        assert_eq!(
            env("sk_prod_abcdefABCDEF0123456789abcdefAB"),
            Ok(Environment::Unknown)
        );
        // The prefix alone is a (useless but well-formed) key.
        assert_eq!(env("kaiko_live_"), Ok(Environment::Production));
        assert_eq!(env("KAIKO_LIVE_x"), Ok(Environment::Unknown));
        assert_eq!(env("kaiko_live"), Ok(Environment::Unknown));
    }

    #[test]
    fn base_url_per_environment() {
        assert_eq!(
            Environment::Production.base_url(),
            Some(BaseUrl::PRODUCTION)
        );
        assert_eq!(Environment::Staging.base_url(), Some(BaseUrl::STAGING));
        assert_eq!(Environment::Unknown.base_url(), None);
    }

    #[test]
    fn rejects_bad_keys() {
        assert_eq!(ApiKey::new(""), Err(KeyError::Empty));
        let long = "k".repeat(MAX_KEY_LEN + 1);
        assert_eq!(ApiKey::new(&long), Err(KeyError::TooLong));
        assert!(ApiKey::new(&long[..MAX_KEY_LEN]).is_ok());
        for bad in [
            "kaiko_live_a b",
            "kaiko_live_a\r\nX: y",
            "k\0",
            "k\t",
            "k\x7f",
            "kéy",
        ] {
            assert_eq!(ApiKey::new(bad), Err(KeyError::InvalidByte), "{bad:?}");
        }
        assert_eq!(ApiKey::new("!~").map(|k| k.expose_secret()), Ok("!~"));
    }

    #[test]
    fn formatting_never_shows_the_secret() {
        let live = ApiKey::new("kaiko_live_s3cr3t").unwrap();
        let test = ApiKey::new("kaiko_test_s3cr3t").unwrap();
        let other = ApiKey::new("sk_prod_s3cr3t").unwrap();
        assert_eq!(format!("{live:?}"), "ApiKey(kaiko_live_…)");
        assert_eq!(format!("{test:?}"), "ApiKey(kaiko_test_…)");
        assert_eq!(format!("{other:?}"), "ApiKey(…)");
        assert_eq!(format!("{live}"), "kaiko_live_…");
        assert_eq!(format!("{test}"), "kaiko_test_…");
        assert_eq!(format!("{other}"), "…");
        assert_eq!(
            format!("{:#?}", Some(live)),
            "Some(\n    ApiKey(kaiko_live_…),\n)"
        );
        assert_eq!(live.expose_secret(), "kaiko_live_s3cr3t");
    }

    #[test]
    fn error_display() {
        assert_eq!(
            format!("{}", KeyError::InvalidByte),
            "API key holds a byte outside visible ASCII"
        );
    }

    proptest! {
        /// No formatter shows any byte of the secret after the environment prefix.
        #[test]
        fn redaction(prefix in prop_oneof![Just(""), Just("kaiko_live_"), Just("kaiko_test_"), Just("sk_")],
                     secret in "[!-~]{1,40}") {
            let s = format!("{prefix}{secret}");
            let key = ApiKey::new(&s).unwrap();
            for shown in [format!("{key:?}"), format!("{key}"), format!("{key:#?}")] {
                let rest = shown.replacen("ApiKey(", "", 1).replacen("kaiko_live_", "", 1)
                    .replacen("kaiko_test_", "", 1);
                prop_assert!(rest == "…" || rest == "…)", "{} shows {}", s, shown);
            }
        }

        /// `new` accepts exactly the non-empty visible-ASCII strings up to the limit.
        #[test]
        fn accepts_iff_visible_ascii(s in "\\PC{0,8}|[ -\\x7f]{0,8}") {
            let ok = !s.is_empty() && s.bytes().all(|b| (0x21..=0x7E).contains(&b));
            prop_assert_eq!(ApiKey::new(&s).is_ok(), ok);
        }
    }
}
