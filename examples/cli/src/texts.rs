//! The texts a batch sends: its operands, or with a lone `-` the lines of standard input,
//! read within the limits of one request.

use std::io::BufRead;

use crate::Op;

/// Messages per batch request (spec §6: batch size 100).
const MAX_BATCH: usize = 100;

/// The most standard input `batch -` reads: one request body (spec: 1 MiB).
const MAX_STDIN_BYTES: u64 = 1_048_576;

/// Whether a batch's operands ask for the texts on standard input.
pub(crate) fn from_stdin(operands: &[String]) -> bool {
    matches!(operands, [only] if only == "-")
}

/// The operands `op` sends: a batch's `-` replaced by the lines of standard input, and the
/// batch size checked before anything is connected.
pub(crate) fn operands(op: Op, operands: Vec<String>) -> Result<Vec<String>, String> {
    if op != Op::Batch {
        return Ok(operands);
    }
    let texts = if from_stdin(&operands) {
        lines(std::io::stdin().lock(), MAX_STDIN_BYTES)?
    } else {
        operands
    };
    match texts.len() {
        0 => Err("batch needs at least one TEXT".into()),
        n if n > MAX_BATCH => Err(format!(
            "batch takes at most {MAX_BATCH} texts (the API's limit), not more"
        )),
        _ => Ok(texts),
    }
}

/// The non-blank lines of `input` (line breaks `\n` or `\r\n`), at most one more than a batch
/// takes, read from at most `limit` bytes: a longer input could not be sent in one request.
fn lines(input: impl BufRead, limit: u64) -> Result<Vec<String>, String> {
    let mut input = input.take(limit + 1);
    let mut lines = Vec::new();
    let mut read = 0;
    let mut line = String::new();
    loop {
        line.clear();
        let n = input.read_line(&mut line).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => "standard input is not UTF-8 text".to_owned(),
            kind => format!("could not read standard input: {kind}"),
        })?;
        if n == 0 {
            break;
        }
        read += n as u64;
        if read > limit {
            return Err(format!(
                "standard input holds more than {limit} bytes, more than one request can send"
            ));
        }
        let text = line.trim_end_matches(['\n', '\r']);
        if !text.trim().is_empty() {
            lines.push(text.to_owned());
        }
        if lines.len() > MAX_BATCH {
            break;
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Hands out `input` at most `step` bytes per read, as a pipe may.
    struct Trickle<'a> {
        input: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.input.len());
            buf[..n].copy_from_slice(&self.input[..n]);
            self.input = &self.input[n..];
            Ok(n)
        }
    }

    /// `lines` of `input` read in every way a pipe could hand it over: cut in two at every
    /// split point, and in pieces of every size.
    fn read_in_steps(input: &[u8], limit: u64) -> Vec<Result<Vec<String>, String>> {
        let split = (0..=input.len()).map(|at| {
            let (head, tail) = input.split_at(at);
            lines(std::io::BufReader::new(head.chain(tail)), limit)
        });
        let pieces = (1..=input.len().max(1)).map(|step| {
            let reader = std::io::BufReader::with_capacity(step, Trickle { input, step });
            lines(reader, limit)
        });
        split.chain(pieces).collect()
    }

    #[test]
    fn lines_are_the_same_however_the_input_is_split() {
        let input = b"a happy day\r\n\n  \nso sad\nno break at the end";
        for result in read_in_steps(input, 1024) {
            assert_eq!(
                result.unwrap(),
                ["a happy day", "so sad", "no break at the end"]
            );
        }
    }

    #[test]
    fn input_past_the_limit_is_refused() {
        let input = b"0123456789\n0123456789\n";
        for result in read_in_steps(input, 21) {
            assert!(result.unwrap_err().contains("more than 21 bytes"));
        }
        for result in read_in_steps(input, 22) {
            assert_eq!(result.unwrap().len(), 2);
        }
        // A line without a break that never ends stops at the limit.
        let endless = std::io::BufReader::new(std::io::repeat(b'x'));
        assert!(lines(endless, 1000).is_err());
    }

    #[test]
    fn reading_stops_one_line_past_a_batch() {
        let input = "t\n".repeat(500);
        let got = lines(input.as_bytes(), MAX_STDIN_BYTES).unwrap();
        assert_eq!(got.len(), MAX_BATCH + 1);
    }

    #[test]
    fn non_utf8_input_is_an_error() {
        for result in read_in_steps(b"ok\n\xff\xfe\n", 1024) {
            assert_eq!(result.unwrap_err(), "standard input is not UTF-8 text");
        }
    }

    #[test]
    fn only_a_lone_dash_means_stdin() {
        let ops = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(from_stdin(&ops(&["-"])));
        assert!(!from_stdin(&ops(&["-", "b"])));
        assert!(!from_stdin(&ops(&["a"])));
        assert_eq!(operands(Op::Batch, ops(&["a", "-"])).unwrap(), ["a", "-"]);
        assert!(operands(Op::Batch, ops(&[])).is_err());
        let many: Vec<String> = (0..=MAX_BATCH).map(|i| i.to_string()).collect();
        assert!(
            operands(Op::Batch, many)
                .unwrap_err()
                .contains("at most 100")
        );
        assert_eq!(operands(Op::ContextShow, ops(&["c"])).unwrap(), ["c"]);
    }
}
