//! Base URLs: `http://host[:port][/prefix]` and `https://…`, parsed without allocation.
//!
//! # The prefix rule
//!
//! [`BaseUrl::prefix`] is the URL's path exactly as given, minus trailing slashes. Request
//! paths are `{prefix}/v2/emotions/…`, except that `/v2` is not added a second time when the
//! prefix already ends with the segment `/v2`. So all of these reach `/v2/emotions/analysis`
//! on their host:
//!
//! | URL | prefix | stateless analysis path |
//! |---|---|---|
//! | `http://127.0.0.1:8080` | `` | `/v2/emotions/analysis` |
//! | `https://api.kaikostudios.xyz/v2` | `/v2` | `/v2/emotions/analysis` |
//! | `http://[::1]:9000/x/v2/` | `/x/v2` | `/x/v2/emotions/analysis` |
//! | `http://proxy.local/kaiko` | `/kaiko` | `/kaiko/v2/emotions/analysis` |
//!
//! The prefix is written into the request line as is: it must already be percent-encoded.
//!
//! ```
//! use kaiko_core::base_url::BaseUrl;
//!
//! let url = BaseUrl::parse("http://[::1]:9000/x/v2/").unwrap();
//! assert_eq!((url.tls, url.host, url.port, url.prefix), (false, "[::1]", 9000, "/x/v2"));
//! assert!(!url.is_default_port());
//! assert_eq!(BaseUrl::parse("https://api.kaikostudios.xyz/v2"), Ok(BaseUrl::PRODUCTION));
//! ```

use core::fmt;

/// Where requests go: scheme, host, port and path prefix (see the module docs for how the
/// prefix combines with the endpoint paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BaseUrl<'a> {
    /// `true` for `https`: the adapter must wrap the connection in TLS.
    pub tls: bool,
    /// Host name or address as written in the URL (an IPv6 literal keeps its brackets);
    /// also the `Host` header value.
    pub host: &'a str,
    /// TCP port (the scheme's default when the URL names none).
    pub port: u16,
    /// The URL path without trailing slashes, already percent-encoded: empty, or starting
    /// with `/`.
    pub prefix: &'a str,
}

/// Why a string is not accepted as a base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum UrlError {
    /// The URL does not start with `http://` or `https://`.
    Scheme,
    /// There is no host between the scheme and the port or path.
    EmptyHost,
    /// The port is empty, not a number, 0 or above 65535.
    BadPort,
    /// A byte that has no place in a base URL: a control byte, a space, non-ASCII text,
    /// userinfo (`@` before the path), a query (`?`) or a fragment (`#`).
    InvalidByte,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::Scheme => "base URL must start with http:// or https://",
            UrlError::EmptyHost => "base URL has no host",
            UrlError::BadPort => "base URL port must be a number from 1 to 65535",
            UrlError::InvalidByte => {
                "base URL holds a control byte, space, non-ASCII byte, userinfo, query or fragment"
            }
        })
    }
}

impl core::error::Error for UrlError {}

/// Default port of `http` (RFC 9110 §4.2.1).
const HTTP_PORT: u16 = 80;
/// Default port of `https` (RFC 9110 §4.2.2).
const HTTPS_PORT: u16 = 443;

impl<'a> BaseUrl<'a> {
    /// Production, `https://api.kaikostudios.xyz/v2` (spec §1).
    pub const PRODUCTION: BaseUrl<'static> = BaseUrl {
        tls: true,
        host: "api.kaikostudios.xyz",
        port: HTTPS_PORT,
        prefix: "/v2",
    };
    /// Staging, `https://stg.api.kaikostudios.xyz/v2` (spec §1).
    pub const STAGING: BaseUrl<'static> = BaseUrl {
        tls: true,
        host: "stg.api.kaikostudios.xyz",
        port: HTTPS_PORT,
        prefix: "/v2",
    };

    /// Parses `http[s]://host[:port][/path]`: e.g. `http://127.0.0.1:8080`, `https://host/v2`,
    /// `http://[::1]:9000/x/v2/`. The scheme is case-insensitive; trailing slashes of the path
    /// are dropped. The path becomes [`BaseUrl::prefix`] as given: `/v2` is added to request
    /// paths only when the prefix does not already end with it (see the module docs).
    pub fn parse(url: &'a str) -> Result<Self, UrlError> {
        let (tls, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "https://") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(url, "http://") {
            (false, rest)
        } else {
            return Err(UrlError::Scheme);
        };
        let bytes = rest.as_bytes();
        let slash = bytes.iter().position(|&b| b == b'/').unwrap_or(bytes.len());
        // Every byte first, so a `?` or `#` inside the authority is InvalidByte, not BadPort:
        // no userinfo (`@`) before the path, no brackets in it.
        for (i, &b) in bytes.iter().enumerate() {
            let misplaced = if i < slash {
                b == b'@'
            } else {
                b == b'[' || b == b']'
            };
            if misplaced || !is_url_byte(b) {
                return Err(UrlError::InvalidByte);
            }
        }
        let authority = rest.get(..slash).unwrap_or("");
        let path = rest.get(slash..).unwrap_or("");
        let (host, port) = split_host_port(authority)?;
        let port = match port {
            None if tls => HTTPS_PORT,
            None => HTTP_PORT,
            Some(p) => parse_port(p)?,
        };
        Ok(BaseUrl {
            tls,
            host,
            port,
            prefix: trim_trailing_slashes(path),
        })
    }

    /// Whether the host is this machine: `localhost` (and names under `.localhost`, RFC 6761
    /// §6.3), an IPv4 address in 127.0.0.0/8, or `[::1]`. Only then may the key travel
    /// without TLS by default.
    pub fn is_loopback(&self) -> bool {
        let h = self.host.as_bytes();
        let lower_eq = |a: &[u8], b: &[u8]| a.eq_ignore_ascii_case(b);
        if lower_eq(h, b"localhost")
            || (h.len() > 10 && lower_eq(h.get(h.len() - 10..).unwrap_or(&[]), b".localhost"))
            || h == b"[::1]"
        {
            return true;
        }
        // Dotted-quad IPv4 starting with 127. (A byte loop: `str::split` has a panic path.)
        let (mut dots, mut digits) = (0, 0);
        for &b in h {
            match b {
                b'.' if digits > 0 => (dots, digits) = (dots + 1, 0),
                b'0'..=b'9' if digits < 3 => digits += 1,
                _ => return false,
            }
        }
        dots == 3 && digits > 0 && h.starts_with(b"127.")
    }

    /// `true` when [`BaseUrl::port`] is the scheme's default (443 for https, 80 for http), so
    /// the `Host` header carries no port.
    pub const fn is_default_port(&self) -> bool {
        self.port == if self.tls { HTTPS_PORT } else { HTTP_PORT }
    }

    /// `true` when request paths need `/v2` after the prefix (see the module docs).
    pub(crate) fn needs_version(&self) -> bool {
        !self.prefix.ends_with("/v2")
    }
}

/// Bytes allowed anywhere after the scheme: RFC 3986 `pchar`, `/`, `[` `]` for IPv6 literals
/// (checked again per part). Rejects controls, space, non-ASCII, `?`, `#`, `"`, `<`, `>`, `\`,
/// `^`, `` ` ``, `{`, `|`, `}`.
fn is_url_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'%'
                | b'/'
                | b'['
                | b']'
        )
}

/// `path` without its trailing slashes (a byte loop: `trim_end_matches` brings in the
/// char-pattern searcher).
fn trim_trailing_slashes(path: &str) -> &str {
    let mut end = path.len();
    while end > 0 && path.as_bytes().get(end - 1) == Some(&b'/') {
        end -= 1;
    }
    path.get(..end).unwrap_or("")
}

fn strip_prefix_ignore_case<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Splits `host[:port]` or `[v6]:port`; the host keeps IPv6 brackets.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), UrlError> {
    let bytes = authority.as_bytes();
    let bracketed = bytes.first() == Some(&b'[');
    // The host ends after the closing bracket of an IPv6 literal, else at the first colon.
    let (host_end, name) = if bracketed {
        let close = bytes
            .iter()
            .position(|&b| b == b']')
            .ok_or(UrlError::InvalidByte)?;
        (close + 1, bytes.get(1..close))
    } else {
        let colon = bytes.iter().position(|&b| b == b':').unwrap_or(bytes.len());
        (colon, bytes.get(..colon))
    };
    let name = name.unwrap_or(&[]);
    if name.is_empty() {
        return Err(UrlError::EmptyHost);
    }
    let misplaced = |&b: &u8| {
        if bracketed {
            // RFC 3986 §3.2.2 IP-literal: hex digits, `:` and `.`, plus a `%25`-encoded zone id.
            !(b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'%' | b'-' | b'_' | b'~'))
        } else {
            b == b'[' || b == b']'
        }
    };
    if name.iter().any(misplaced) {
        return Err(UrlError::InvalidByte);
    }
    let host = authority.get(..host_end).unwrap_or("");
    match bytes.get(host_end) {
        None => Ok((host, None)),
        Some(b':') => Ok((host, authority.get(host_end + 1..))),
        Some(_) => Err(UrlError::InvalidByte),
    }
}

fn parse_port(p: &str) -> Result<u16, UrlError> {
    if p.is_empty() || p.len() > 5 {
        return Err(UrlError::BadPort);
    }
    let mut v: u32 = 0;
    for b in p.bytes() {
        if !b.is_ascii_digit() {
            return Err(UrlError::BadPort);
        }
        v = v * 10 + u32::from(b - b'0');
    }
    match u16::try_from(v) {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(UrlError::BadPort),
    }
}

#[cfg(test)]
mod loopback_tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for (url, want) in [
            ("http://localhost:8787/v2", true),
            ("http://LOCALHOST/v2", true),
            ("http://sim.localhost/v2", true),
            ("http://127.0.0.1:1/v2", true),
            ("http://127.200.3.4/v2", true),
            ("http://[::1]:9/v2", true),
            ("http://10.77.0.1/v2", false),
            ("http://127.0.0.1.example.com/v2", false),
            ("http://localhost.example.com/v2", false),
            ("http://1270.0.0.1/v2", false),
            ("http://api.kaikostudios.xyz/v2", false),
        ] {
            assert_eq!(BaseUrl::parse(url).unwrap().is_loopback(), want, "{url}");
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;

    fn url(tls: bool, host: &'static str, port: u16, prefix: &'static str) -> BaseUrl<'static> {
        BaseUrl {
            tls,
            host,
            port,
            prefix,
        }
    }

    #[test]
    fn parses_examples() {
        let cases = [
            ("http://127.0.0.1:8080", url(false, "127.0.0.1", 8080, "")),
            ("http://127.0.0.1:8080/", url(false, "127.0.0.1", 8080, "")),
            ("https://host/v2", url(true, "host", 443, "/v2")),
            (
                "http://[::1]:9000/x/v2/",
                url(false, "[::1]", 9000, "/x/v2"),
            ),
            ("http://[::1]", url(false, "[::1]", 80, "")),
            (
                "HTTPS://Api.Example.com:443/v2//",
                url(true, "Api.Example.com", 443, "/v2"),
            ),
            (
                "http://localhost:65535/a/b%20c",
                url(false, "localhost", 65535, "/a/b%20c"),
            ),
            ("http://h:1", url(false, "h", 1, "")),
            (
                "http://[fe80::1%25eth0]:8",
                url(false, "[fe80::1%25eth0]", 8, ""),
            ),
            ("https://api.kaikostudios.xyz/v2", BaseUrl::PRODUCTION),
            ("https://stg.api.kaikostudios.xyz/v2/", BaseUrl::STAGING),
        ];
        for (s, want) in cases {
            assert_eq!(BaseUrl::parse(s), Ok(want), "{s}");
        }
    }

    #[test]
    fn rejects_bad_urls() {
        let cases = [
            ("", UrlError::Scheme),
            ("ftp://host", UrlError::Scheme),
            ("host:80", UrlError::Scheme),
            ("https:/host", UrlError::Scheme),
            ("http://", UrlError::EmptyHost),
            ("http:///v2", UrlError::EmptyHost),
            ("http://:80", UrlError::EmptyHost),
            ("http://[]:80", UrlError::EmptyHost),
            ("http://h:", UrlError::BadPort),
            ("http://h:0", UrlError::BadPort),
            ("http://h:65536", UrlError::BadPort),
            ("http://h:123456", UrlError::BadPort),
            ("http://h:8a", UrlError::BadPort),
            ("http://h:80:81", UrlError::BadPort),
            ("http://[::1]:", UrlError::BadPort),
            ("http://user:pw@h/v2", UrlError::InvalidByte),
            ("http://h/v2?x=1", UrlError::InvalidByte),
            ("http://h/v2#frag", UrlError::InvalidByte),
            ("http://h?x", UrlError::InvalidByte),
            ("http://h o/", UrlError::InvalidByte),
            ("http://h/\r\nX: y", UrlError::InvalidByte),
            ("http://h\t/", UrlError::InvalidByte),
            ("http://h\x7f/", UrlError::InvalidByte),
            ("http://hé/", UrlError::InvalidByte),
            ("http://h/é", UrlError::InvalidByte),
            ("http://[::1/", UrlError::InvalidByte),
            ("http://[::1]x/", UrlError::InvalidByte),
            ("http://[::g/]", UrlError::InvalidByte),
            ("http://a]b/", UrlError::InvalidByte),
            ("http://[[::1]/", UrlError::InvalidByte),
            ("http://[::1]]:1/", UrlError::InvalidByte),
            ("http://h/[x]", UrlError::InvalidByte),
        ];
        for (s, want) in cases {
            assert_eq!(BaseUrl::parse(s), Err(want), "{s:?}");
        }
    }

    #[test]
    fn default_ports_and_version_rule() {
        assert!(BaseUrl::PRODUCTION.is_default_port());
        assert!(BaseUrl::parse("http://h:80").unwrap().is_default_port());
        assert!(!BaseUrl::parse("http://h:443").unwrap().is_default_port());
        assert!(!BaseUrl::parse("https://h:80").unwrap().is_default_port());
        assert!(!BaseUrl::PRODUCTION.needs_version());
        for (s, needs) in [
            ("http://h", true),
            ("http://h/x/v2/", false),
            ("http://h/xv2", true),
            ("http://h/v2/x", true),
        ] {
            assert_eq!(BaseUrl::parse(s).unwrap().needs_version(), needs, "{s}");
        }
    }

    proptest! {
        /// Never panics; whatever parses has a non-empty host and a prefix of URL bytes.
        #[test]
        fn never_panics(s in "\\PC{0,40}", t in "(?i:https?://)[ -~]{0,30}") {
            for input in [&s, &t] {
                if let Ok(u) = BaseUrl::parse(input) {
                    prop_assert!(!u.host.is_empty());
                    prop_assert!(u.port != 0);
                    prop_assert!(u.prefix.bytes().all(is_url_byte));
                    prop_assert!(!u.prefix.ends_with('/'));
                }
            }
        }
    }
}
