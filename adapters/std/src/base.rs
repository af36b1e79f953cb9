//! The client's base URL, parsed once when it is built: each call rebuilds its
//! [`BaseUrl`] from the kept positions instead of parsing the text again.

use std::ops::Range;

use kaiko_core::base_url::{BaseUrl, UrlError};

/// A base URL's text and where its parts are in it.
#[derive(Debug, Clone)]
pub(crate) struct Base {
    text: String,
    tls: bool,
    host: Range<usize>,
    port: u16,
    prefix: Range<usize>,
}

impl Base {
    /// Parses `text` (see [`BaseUrl::parse`]).
    pub(crate) fn parse(text: String) -> Result<Self, UrlError> {
        let url = BaseUrl::parse(&text)?;
        let start = text.as_ptr() as usize;
        // Both parts are slices of `text`: their offsets are where they start in it.
        let span = |part: &str| {
            let at = (part.as_ptr() as usize).wrapping_sub(start);
            at..at + part.len()
        };
        let (tls, host, port, prefix) = (url.tls, span(url.host), url.port, span(url.prefix));
        Ok(Base {
            text,
            tls,
            host,
            port,
            prefix,
        })
    }

    /// The URL as the caller gave it.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The parsed URL.
    pub(crate) fn url(&self) -> BaseUrl<'_> {
        match (
            self.text.get(self.host.clone()),
            self.text.get(self.prefix.clone()),
        ) {
            (Some(host), Some(prefix)) => BaseUrl {
                tls: self.tls,
                host,
                port: self.port,
                prefix,
            },
            // The positions came from parsing this same text; parsing again gives the same.
            _ => BaseUrl::parse(&self.text).unwrap_or(BaseUrl {
                tls: self.tls,
                host: "",
                port: self.port,
                prefix: "",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_parts_are_the_parsed_ones() {
        for text in [
            "http://127.0.0.1:8787/v2",
            "https://api.kaikostudios.xyz/v2",
            "http://localhost",
            "http://[::1]:9/a/b/",
            "HTTPS://Example.com:443",
        ] {
            let base = Base::parse(text.to_owned()).unwrap();
            assert_eq!(base.url(), BaseUrl::parse(text).unwrap(), "{text}");
            assert_eq!(base.as_str(), text);
        }
        assert_eq!(
            Base::parse("ftp://x".to_owned()).unwrap_err(),
            UrlError::Scheme
        );
    }
}
