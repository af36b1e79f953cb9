//! HTTP proxies: the proxy URL, the choice made from the environment, and `NO_PROXY`
//! matching, with the rules given in the crate docs' "Proxies" section.
//!
//! Everything here is a pure function of the strings it is given: the process environment is
//! read in one place ([`from_process_env`]), so the rules are tested without setting
//! variables.

use std::fmt;
use std::net::IpAddr;

use kaiko_core::base_url::{BaseUrl, UrlError};

/// Why a proxy URL is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyUrlError {
    /// The URL is empty.
    Empty,
    /// A scheme other than `http://`: TLS to the proxy (`https://`) and SOCKS are not
    /// supported.
    UnsupportedScheme,
    /// The host or port does not parse (the base URL's rules).
    Url(UrlError),
    /// A path, query or fragment after the host: a proxy URL names only a host and port.
    Path,
    /// The user name or password is not valid percent-encoding, or the decoded user name
    /// holds a `:` (Basic authentication cannot carry it).
    Credentials,
}

impl fmt::Display for ProxyUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyUrlError::Empty => f.write_str("proxy URL is empty"),
            ProxyUrlError::UnsupportedScheme => f.write_str(
                "proxy URL must be http:// (https:// and SOCKS proxies are not supported)",
            ),
            ProxyUrlError::Url(e) => write!(f, "proxy URL: {e}"),
            ProxyUrlError::Path => f.write_str("proxy URL has a path, query or fragment"),
            ProxyUrlError::Credentials => f.write_str(
                "proxy URL credentials are not valid percent-encoding, or the user name holds ':'",
            ),
        }
    }
}

impl std::error::Error for ProxyUrlError {}

/// An HTTP proxy reached over plain TCP, to which `CONNECT` opens a tunnel.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Proxy {
    /// Host as written (an IPv6 literal keeps its brackets).
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `Proxy-Authorization` value (`Basic …`) when the URL had credentials.
    authorization: Option<String>,
    loopback: bool,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(a) = &mut self.authorization {
            zeroize::Zeroize::zeroize(a);
        }
    }
}

impl fmt::Debug for Proxy {
    // The credentials are never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.authorization.is_some())
            .finish()
    }
}

impl Proxy {
    /// Parses `[http://][user[:password]@]host[:port][/]`; the port defaults to 80.
    /// User and password are percent-decoded and sent as `Proxy-Authorization: Basic`.
    pub(crate) fn parse(url: &str) -> Result<Proxy, ProxyUrlError> {
        if url.is_empty() {
            return Err(ProxyUrlError::Empty);
        }
        let rest = match url.find("://") {
            Some(i) if url.get(..i).is_some_and(|s| s.eq_ignore_ascii_case("http")) => {
                url.get(i + 3..).unwrap_or("")
            }
            Some(_) => return Err(ProxyUrlError::UnsupportedScheme),
            None => url,
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("")),
            None => (rest, ""),
        };
        if !path.is_empty() && path != "/" {
            return Err(ProxyUrlError::Path);
        }
        // The last `@` ends the user information: a password may hold an unencoded `@`.
        let (userinfo, host_port) = match authority.rfind('@') {
            Some(i) => (
                Some(authority.get(..i).unwrap_or("")),
                authority.get(i + 1..).unwrap_or(""),
            ),
            None => (None, authority),
        };
        let host_url = format!("http://{host_port}");
        let base = BaseUrl::parse(&host_url).map_err(ProxyUrlError::Url)?;
        let authorization = match userinfo {
            None | Some("") => None,
            Some(info) => Some(basic_authorization(info)?),
        };
        Ok(Proxy {
            host: base.host.to_owned(),
            port: base.port,
            authorization,
            loopback: base.is_loopback(),
        })
    }

    /// Whether the proxy runs on this machine: then an `http://` call to a loopback base URL
    /// keeps the key on this machine too.
    pub(crate) fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// The `CONNECT` request that opens a tunnel to `host:port` (RFC 9110 §9.3.6: the
    /// target in authority form, and the same in `Host`).
    pub(crate) fn connect_request(&self, host: &str, port: u16) -> Vec<u8> {
        let mut out = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n");
        if let Some(a) = &self.authorization {
            out.push_str("Proxy-Authorization: ");
            out.push_str(a);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        out.into_bytes()
    }
}

/// `Basic base64(user:password)` from the URL's user information (RFC 7617 §2).
fn basic_authorization(userinfo: &str) -> Result<String, ProxyUrlError> {
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    let mut plain = percent_decode(user)?;
    if plain.contains(&b':') {
        zeroize::Zeroize::zeroize(&mut plain);
        return Err(ProxyUrlError::Credentials);
    }
    plain.push(b':');
    if let Some(p) = password {
        let mut p = percent_decode(p)?;
        plain.extend_from_slice(&p);
        zeroize::Zeroize::zeroize(&mut p);
    }
    let mut value = String::from("Basic ");
    base64_into(&plain, &mut value);
    zeroize::Zeroize::zeroize(&mut plain);
    Ok(value)
}

/// `%XX` sequences decoded; any other byte kept as is.
fn percent_decode(s: &str) -> Result<Vec<u8>, ProxyUrlError> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b != b'%' {
            out.push(b);
            continue;
        }
        let hex = |d: Option<u8>| d.and_then(|d| char::from(d).to_digit(16));
        match (hex(bytes.next()), hex(bytes.next())) {
            // Two hex digits are at most 0xFF.
            (Some(hi), Some(lo)) => out.push(u8::try_from(hi * 16 + lo).unwrap_or(0)),
            _ => {
                zeroize::Zeroize::zeroize(&mut out);
                return Err(ProxyUrlError::Credentials);
            }
        }
    }
    Ok(out)
}

/// Standard base64 with padding (RFC 4648 §4), appended to `out`.
fn base64_into(input: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextet = |v: u32, shift: u32| {
        let i = usize::try_from((v >> shift) & 0x3F).unwrap_or(0);
        char::from(ALPHABET.get(i).copied().unwrap_or(b'A'))
    };
    for chunk in input.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let v = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sextet(v, 18));
        out.push(sextet(v, 12));
        out.push(if chunk.len() > 1 { sextet(v, 6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(v, 0) } else { '=' });
    }
}

/// The proxy the environment names for `target`, or `None` for a direct connection (no
/// variable set, or `NO_PROXY` matches). `var` returns a variable's value.
pub(crate) fn from_env(
    target: &BaseUrl<'_>,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, ProxyUrlError> {
    let names: [&str; 4] = if target.tls {
        ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
    };
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    let Some(url) = names.iter().find_map(|n| set(n)) else {
        return Ok(None);
    };
    if let Some(list) = set("no_proxy").or_else(|| set("NO_PROXY"))
        && no_proxy_matches(&list, target.host, target.port)
    {
        return Ok(None);
    }
    Proxy::parse(&url).map(Some)
}

/// [`from_env`] over the process environment (a value that is not UTF-8 counts as unset).
pub(crate) fn from_process_env(target: &BaseUrl<'_>) -> Result<Option<Proxy>, ProxyUrlError> {
    from_env(target, |name| std::env::var(name).ok())
}

/// Whether the `NO_PROXY` list `list` exempts `host` (as in a URL: an IPv6 literal in
/// brackets) on `port` from the proxy. See the crate docs for the entry forms.
pub(crate) fn no_proxy_matches(list: &str, host: &str, port: u16) -> bool {
    let host = normalise(crate::transport::bare_host(host));
    let host_ip = host.parse::<IpAddr>().ok();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| entry_matches(entry, &host, host_ip, port))
}

fn entry_matches(entry: &str, host: &str, host_ip: Option<IpAddr>, port: u16) -> bool {
    if entry == "*" {
        return true;
    }
    let (pattern, entry_port) = split_entry_port(entry);
    match entry_port {
        None => {}
        Some(Some(p)) if p == port => {}
        // Another port, or one that does not parse: this entry names something else.
        Some(_) => return false,
    }
    if let Some((net, bits)) = pattern.split_once('/') {
        return match (net.parse::<IpAddr>(), bits.parse::<u8>(), host_ip) {
            (Ok(net), Ok(bits), Some(ip)) => in_network(ip, net, bits),
            _ => false,
        };
    }
    if let Ok(ip) = pattern.parse::<IpAddr>() {
        return host_ip == Some(ip);
    }
    let domain = normalise(pattern.trim_start_matches('*').trim_start_matches('.'));
    if domain.is_empty() {
        return false;
    }
    host == domain
        || host
            .strip_suffix(domain.as_str())
            .is_some_and(|sub| sub.ends_with('.'))
}

/// An entry's pattern and port: `None` without a port, `Some(None)` for one that does not
/// parse. A bare IPv6 address (more than one `:`) has no port; `[v6]:port` has one.
fn split_entry_port(entry: &str) -> (&str, Option<Option<u16>>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, "")) => (ip, None),
            Some((ip, port)) => (
                ip,
                Some(port.strip_prefix(':').and_then(|p| p.parse().ok())),
            ),
            None => (entry, None),
        };
    }
    match entry.split_once(':') {
        Some((host, port)) if !port.contains(':') => (host, Some(port.parse().ok())),
        _ => (entry, None),
    }
}

/// Lower case, without a trailing dot (`Example.COM.` is `example.com`).
fn normalise(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// Whether `ip` lies in `net/bits` (families must agree; `bits` past the width never match).
fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(a.to_bits()), u128::from(n.to_bits()), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (a.to_bits(), n.to_bits(), 128),
        _ => return false,
    };
    if u32::from(bits) > width {
        return false;
    }
    let shift = width - u32::from(bits);
    ip.checked_shr(shift).unwrap_or(0) == net.checked_shr(shift).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(url: &str) -> Option<String> {
        Proxy::parse(url).unwrap().authorization.clone()
    }

    #[test]
    fn proxy_urls_parse() {
        let p = Proxy::parse("http://proxy.example:3128").unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.is_loopback()),
            ("proxy.example", 3128, false)
        );
        let p = Proxy::parse("HTTP://127.0.0.1:8080/").unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.is_loopback()),
            ("127.0.0.1", 8080, true)
        );
        // No scheme means http (curl and ureq); no port means 80.
        let p = Proxy::parse("proxy.example").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.example", 80));
        let p = Proxy::parse("http://[::1]:3128").unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.is_loopback()),
            ("[::1]", 3128, true)
        );
    }

    #[test]
    fn bad_proxy_urls_are_typed_errors() {
        let err = |url| Proxy::parse(url).unwrap_err();
        assert_eq!(err(""), ProxyUrlError::Empty);
        assert_eq!(err("https://proxy:443"), ProxyUrlError::UnsupportedScheme);
        assert_eq!(err("socks5://proxy:1080"), ProxyUrlError::UnsupportedScheme);
        assert_eq!(err("http://proxy:3128/path"), ProxyUrlError::Path);
        assert_eq!(err("http://proxy:3128?q"), ProxyUrlError::Path);
        assert_eq!(err("http://proxy:0"), ProxyUrlError::Url(UrlError::BadPort));
        assert_eq!(
            err("http://proxy:99999"),
            ProxyUrlError::Url(UrlError::BadPort)
        );
        assert_eq!(err("http://:3128"), ProxyUrlError::Url(UrlError::EmptyHost));
        assert_eq!(
            err("http://pro xy:1"),
            ProxyUrlError::Url(UrlError::InvalidByte)
        );
        assert_eq!(
            err("http://pro\nxy:1"),
            ProxyUrlError::Url(UrlError::InvalidByte)
        );
        assert_eq!(err("http://u:%zz@proxy"), ProxyUrlError::Credentials);
        assert_eq!(err("http://u:%4@proxy"), ProxyUrlError::Credentials);
        assert_eq!(err("http://a%3Ab:p@proxy"), ProxyUrlError::Credentials);
    }

    #[test]
    fn credentials_become_basic_authorization() {
        // RFC 7617 §2's example: Aladdin / open sesame.
        assert_eq!(
            auth("http://Aladdin:open%20sesame@proxy:3128").as_deref(),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        // An unencoded `@` in the password; a user without a password.
        assert_eq!(
            auth("http://u:p@ss@proxy").as_deref(),
            Some("Basic dTpwQHNz")
        );
        assert_eq!(auth("http://user@proxy").as_deref(), Some("Basic dXNlcjo="));
        assert_eq!(auth("http://@proxy"), None);
        let p = Proxy::parse("http://user:pass@proxy:3128").unwrap();
        let request = String::from_utf8(p.connect_request("api.example", 443)).unwrap();
        assert_eq!(
            request,
            "CONNECT api.example:443 HTTP/1.1\r\nHost: api.example:443\r\n\
             Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n"
        );
        let dbg = format!("{p:?}");
        assert!(
            !dbg.contains("pass") && !dbg.contains("dXNlcjpwYXNz"),
            "{dbg}"
        );
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = String::new();
            base64_into(input.as_bytes(), &mut out);
            assert_eq!(out, want, "{input}");
        }
        let mut out = String::new();
        base64_into(&[0xFB, 0xFF, 0xBF], &mut out);
        assert_eq!(out, "+/+/");
    }

    #[test]
    fn no_proxy_entries() {
        let m = |list, host, port| no_proxy_matches(list, host, port);
        // Domains: the name itself and every name under it, on a label boundary.
        for list in [
            "example.com",
            ".example.com",
            "*.example.com",
            "EXAMPLE.com.",
        ] {
            assert!(m(list, "example.com", 443), "{list}");
            assert!(m(list, "api.Example.com", 443), "{list}");
            assert!(m(list, "a.b.example.com.", 443), "{list}");
            assert!(!m(list, "badexample.com", 443), "{list}");
            assert!(!m(list, "example.com.evil", 443), "{list}");
        }
        assert!(m("*", "anything", 1));
        assert!(m("other, *", "anything", 1));
        assert!(!m("", "example.com", 443));
        assert!(!m(" , ,", "example.com", 443));
        assert!(!m(".", "example.com", 443));
        // Lists: commas, spaces around entries.
        assert!(m("a.test, b.test ,example.com", "x.example.com", 80));
        // Ports.
        assert!(m("example.com:8443", "example.com", 8443));
        assert!(!m("example.com:8443", "example.com", 443));
        assert!(!m("example.com:x", "example.com", 443));
        // IP addresses, exact and as ranges; v6 with and without brackets.
        assert!(m("127.0.0.1", "127.0.0.1", 80));
        assert!(!m("127.0.0.1", "127.0.0.2", 80));
        assert!(m("10.0.0.0/8", "10.20.30.40", 80));
        assert!(!m("10.0.0.0/8", "11.0.0.1", 80));
        assert!(m("0.0.0.0/0", "192.0.2.1", 80));
        assert!(!m("10.0.0.0/33", "10.0.0.1", 80));
        assert!(!m("10.0.0.0/8", "::1", 80));
        assert!(!m("10.0.0.0/8", "tenet.example", 80));
        assert!(m("::1", "[::1]", 80));
        assert!(m("[::1]", "[::1]", 80));
        assert!(m("[::1]:8080", "[::1]", 8080));
        assert!(!m("[::1]:8080", "[::1]", 8081));
        assert!(m("fd00::/8", "[fd12::1]", 80));
        assert!(!m("fd00::/8", "[fe80::1]", 80));
        assert!(m("2001:db8::/128", "[2001:db8::]", 80));
        // An IP entry does not match a name, nor a name entry an address.
        assert!(!m("127.0.0.1", "localhost", 80));
        // Loopback is proxied unless listed.
        assert!(!m("example.com", "localhost", 80));
        assert!(m("localhost", "localhost", 80));
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn chosen(url: &str, vars: &[(&str, &str)]) -> Option<(String, u16)> {
        let base = BaseUrl::parse(url).unwrap();
        from_env(&base, env(vars))
            .unwrap()
            .map(|p| (p.host.clone(), p.port))
    }

    #[test]
    fn environment_picks_by_scheme_then_all_proxy() {
        let https = "https://api.kaikostudios.xyz/v2";
        let http = "http://10.1.2.3:8787/v2";
        let both = [("HTTPS_PROXY", "http://s:1"), ("HTTP_PROXY", "http://p:2")];
        assert_eq!(chosen(https, &both), Some(("s".into(), 1)));
        assert_eq!(chosen(http, &both), Some(("p".into(), 2)));
        // Lower case first, as curl reads them.
        let cases = [
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:2"),
        ];
        assert_eq!(chosen(https, &cases), Some(("lower".into(), 1)));
        // ALL_PROXY is the fallback for either scheme; an empty value counts as unset.
        let all = [("HTTPS_PROXY", ""), ("ALL_PROXY", "http://all:3")];
        assert_eq!(chosen(https, &all), Some(("all".into(), 3)));
        assert_eq!(chosen(http, &all), Some(("all".into(), 3)));
        assert_eq!(chosen(https, &[("HTTP_PROXY", "http://p:2")]), None);
        assert_eq!(chosen(https, &[]), None);
        // Loopback targets are proxied too unless NO_PROXY says otherwise.
        let local = "http://127.0.0.1:8787/v2";
        assert_eq!(
            chosen(local, &[("http_proxy", "p:2")]),
            Some(("p".into(), 2))
        );
        let exempt = [("http_proxy", "p:2"), ("no_proxy", "localhost,127.0.0.1")];
        assert_eq!(chosen(local, &exempt), None);
    }

    #[test]
    fn no_proxy_from_the_environment() {
        let https = "https://api.kaikostudios.xyz/v2";
        let vars = [
            ("HTTPS_PROXY", "http://s:1"),
            ("NO_PROXY", ".kaikostudios.xyz"),
        ];
        assert_eq!(chosen(https, &vars), None);
        // The lower-case list wins over the upper-case one.
        let vars = [
            ("HTTPS_PROXY", "http://s:1"),
            ("no_proxy", "other.example"),
            ("NO_PROXY", "*"),
        ];
        assert_eq!(chosen(https, &vars), Some(("s".into(), 1)));
        // A malformed proxy is an error, unless NO_PROXY exempts the host anyway.
        let base = BaseUrl::parse(https).unwrap();
        assert_eq!(
            from_env(&base, env(&[("HTTPS_PROXY", "socks5://s:1")])).unwrap_err(),
            ProxyUrlError::UnsupportedScheme
        );
        let exempt = [("HTTPS_PROXY", "socks5://s:1"), ("NO_PROXY", "*")];
        assert_eq!(from_env(&base, env(&exempt)).unwrap(), None);
    }
}
