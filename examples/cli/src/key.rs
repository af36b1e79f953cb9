//! Where the API key comes from: `--api-key` (`-`: standard input), `--api-key-file`, or
//! `KAIKO_API_KEY`; and which of those would read the standard input that `batch -` reads.
//! No message here ever contains the key.

use std::io::{BufRead, Write};

use crate::CallOptions;

/// The most bytes read for a key's line: far above any key (the core takes at most 256), so
/// a wrong file or an endless stream is refused instead of read whole.
const KEY_LINE_LIMIT: u64 = 4096;

/// Paths that name standard input whatever it is connected to.
const STDIN_PATHS: [&str; 3] = ["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"];

/// The key from `--api-key` (`-`: standard input), `--api-key-file`, or `KAIKO_API_KEY`, in
/// that order; `None` when none is set or the one set is blank.
pub(crate) fn api_key(args: &CallOptions) -> Result<Option<String>, String> {
    let key = match (args.api_key.as_deref(), args.api_key_file.as_deref()) {
        (Some(_), Some(_)) => return Err("give --api-key or --api-key-file, not both".into()),
        (Some("-"), None) => Some(
            first_line(std::io::stdin().lock())
                .map_err(|why| format!("could not read the API key from standard input: {why}"))?,
        ),
        (Some(key), None) => {
            note!(
                "kaiko: warning: a key on the command line is visible to other users; \
                 prefer KAIKO_API_KEY or --api-key-file"
            );
            Some(key.to_owned())
        }
        (None, Some(path)) => {
            let file = std::fs::File::open(path)
                .map_err(|e| format!("could not read --api-key-file: {}", e.kind()))?;
            Some(
                first_line(std::io::BufReader::new(file))
                    .map_err(|why| format!("could not read --api-key-file: {why}"))?,
            )
        }
        (None, None) => std::env::var("KAIKO_API_KEY").ok(),
    };
    Ok(key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()))
}

/// The first line of `input` without its line break, read from at most [`KEY_LINE_LIMIT`]
/// bytes.
fn first_line(input: impl BufRead) -> Result<String, &'static str> {
    let mut line = Vec::new();
    input
        .take(KEY_LINE_LIMIT + 1)
        .read_until(b'\n', &mut line)
        .map_err(|_| "read error")?;
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() as u64 > KEY_LINE_LIMIT {
        return Err("its first line is longer than a key can be");
    }
    String::from_utf8(line).map_err(|_| "not UTF-8 text")
}

/// Why the key sources in `args` cannot be used with texts read from standard input, if
/// they cannot: both would read the same stream, and neither would get what it expects.
pub(crate) fn conflicts_with_stdin_texts(args: &CallOptions) -> Option<&'static str> {
    if args.api_key.as_deref() == Some("-") {
        return Some(
            "`batch -` reads the texts from standard input, so `--api-key -` cannot read the key \
             from it too; use KAIKO_API_KEY or --api-key-file",
        );
    }
    match &args.api_key_file {
        Some(path) if is_stdin(path) => Some(
            "`batch -` reads the texts from standard input, so --api-key-file cannot name \
             standard input too; use KAIKO_API_KEY or another file",
        ),
        _ => None,
    }
}

/// Whether `path` names this process's standard input: one of its usual names, or (on Unix)
/// the very file, pipe or device standard input is connected to.
fn is_stdin(path: &str) -> bool {
    STDIN_PATHS.contains(&path) || same_file_as_stdin(path)
}

#[cfg(unix)]
fn same_file_as_stdin(path: &str) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;

    let Ok(named) = std::fs::metadata(path) else {
        return false;
    };
    // A duplicate of descriptor 0, so its metadata can be read without touching the stream.
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return false;
    };
    match std::fs::File::from(fd).metadata() {
        Ok(stdin) => stdin.dev() == named.dev() && stdin.ino() == named.ino(),
        Err(_) => false,
    }
}

#[cfg(not(unix))]
fn same_file_as_stdin(_path: &str) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_stops_at_the_line_break_and_the_limit() {
        assert_eq!(first_line(&b"k1\nk2\n"[..]), Ok("k1".to_owned()));
        assert_eq!(first_line(&b"k1"[..]), Ok("k1".to_owned()));
        assert_eq!(first_line(&b""[..]), Ok(String::new()));
        let limit = KEY_LINE_LIMIT as usize;
        let exactly = vec![b'k'; limit];
        assert_eq!(first_line(&exactly[..]).map(|k| k.len()), Ok(limit));
        let endless = std::io::BufReader::new(std::io::repeat(b'k'));
        assert!(first_line(endless).is_err());
        assert!(first_line(&b"\xff\xfe\n"[..]).is_err());
    }

    #[test]
    fn stdin_sources_conflict_with_stdin_texts() {
        let with = |api_key: Option<&str>, file: Option<&str>| CallOptions {
            api_key: api_key.map(str::to_owned),
            api_key_file: file.map(str::to_owned),
            ..CallOptions::default()
        };
        assert!(conflicts_with_stdin_texts(&with(Some("-"), None)).is_some());
        for path in STDIN_PATHS {
            assert!(conflicts_with_stdin_texts(&with(None, Some(path))).is_some());
        }
        assert!(conflicts_with_stdin_texts(&with(Some("kaiko_test_k"), None)).is_none());
        assert!(conflicts_with_stdin_texts(&with(None, Some("/nonexistent/k"))).is_none());
        assert!(conflicts_with_stdin_texts(&with(None, None)).is_none());
    }
}
