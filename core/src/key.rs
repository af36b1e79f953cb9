//! API keys: which environment a key belongs to, and never showing the secret.
//!
//! TODO(helper): implement `ApiKey::new`, `environment`, Debug/Display/defmt redaction, tests.

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

/// An API key. Its `Debug`, `Display` and `defmt::Format` show at most the environment
/// prefix, never the secret.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ApiKey<'a> {
    secret: &'a str,
}
