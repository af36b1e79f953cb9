extern crate std;

use std::string::String;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;

/// What a consumer makes of the items: dispatched events and retry values, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Event { name: String, data: Vec<u8> },
    Retry(u64),
}

fn ev(name: &str, data: &[u8]) -> Out {
    Out::Event {
        name: name.into(),
        data: data.into(),
    }
}

/// Runs the decoder over `parts` the way an adapter would, checking progress.
fn run(parts: &[&[u8]]) -> Vec<Out> {
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    let (mut name, mut data) = (String::new(), Vec::new());
    for part in parts {
        let mut input = *part;
        let mut idle = 0;
        while !input.is_empty() {
            let (n, item) = d.next(input).unwrap();
            assert!(n <= input.len());
            input = &input[n..];
            idle = if n == 0 { idle + 1 } else { 0 };
            assert!(idle < 2, "no progress");
            match item {
                Some(SseItem::Data(piece)) => {
                    assert!(!piece.is_empty());
                    data.extend_from_slice(piece);
                }
                Some(SseItem::Event(t)) => name = t.as_str().into(),
                Some(SseItem::Dispatch) => {
                    let name = core::mem::take(&mut name);
                    let name = if name.is_empty() {
                        "message".into()
                    } else {
                        name
                    };
                    out.push(Out::Event {
                        name,
                        data: core::mem::take(&mut data),
                    });
                }
                Some(SseItem::Retry(ms)) => out.push(Out::Retry(ms)),
                None => assert!(input.is_empty(), "None only when all was consumed"),
            }
        }
    }
    assert_eq!(d.finish(), None);
    out
}

/// Every split into two and byte at a time give the same as one piece.
fn all_splits(wire: &[u8]) -> Vec<Out> {
    let whole = run(&[wire]);
    for i in 0..=wire.len() {
        let (a, b) = wire.split_at(i);
        assert_eq!(run(&[a, b]), whole, "split at {i}");
    }
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(run(&bytes), whole, "byte at a time");
    whole
}

/// What the data-only reader makes of `parts`: the data of every dispatched event.
fn run_data(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut d = SseDecoder::new();
    let (mut out, mut data) = (Vec::new(), Vec::new());
    for part in parts {
        let mut input = *part;
        while !input.is_empty() {
            let (n, item) = d.next_data(input);
            assert!(n <= input.len());
            input = &input[n..];
            match item {
                Some(SseItem::Data(piece)) => data.extend_from_slice(piece),
                Some(SseItem::Dispatch) => out.push(core::mem::take(&mut data)),
                Some(other) => panic!("the data reader gave {other:?}"),
                None => assert!(input.is_empty(), "None only when all was consumed"),
            }
            // Without event names there is never an item that consumes nothing.
            assert!(n > 0 || item.is_none(), "no progress");
        }
    }
    out
}

/// The data of the dispatched events among `outs`.
fn data_of(outs: &[Out]) -> Vec<Vec<u8>> {
    outs.iter()
        .filter_map(|o| match o {
            Out::Event { data, .. } => Some(data.clone()),
            Out::Retry(_) => None,
        })
        .collect()
}

/// The data-only reader gives the data and boundaries of the full one, at every split.
fn data_agrees_at_every_split(wire: &[u8]) {
    let want = data_of(&run(&[wire]));
    for i in 0..=wire.len() {
        let (a, b) = wire.split_at(i);
        assert_eq!(run_data(&[a, b]), want, "split at {i}");
    }
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(run_data(&bytes), want, "byte at a time");
}

const OPENAI: &[u8] = b"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n\
data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n\
: keep-alive\n\n\
data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"emotions\":{\"joy\":0.8}}\n\n\
data: [DONE]\n\n";

#[test]
fn openai_style_stream_at_every_split_point() {
    let chunk = |c: &str| {
        let mut s =
            String::from("{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[");
        s += c;
        s += "]";
        s
    };
    let want = [
        ev(
            "message",
            (chunk("{\"delta\":{\"content\":\"Hel\"}}") + "}").as_bytes(),
        ),
        ev(
            "message",
            (chunk("{\"delta\":{\"content\":\"lo\"}}") + "}").as_bytes(),
        ),
        ev(
            "message",
            (chunk("{\"delta\":{},\"finish_reason\":\"stop\"}") + ",\"emotions\":{\"joy\":0.8}}")
                .as_bytes(),
        ),
        ev("message", b"[DONE]"),
    ];
    assert_eq!(all_splits(OPENAI), want);
    // The same stream with CRLF and with CR line endings.
    let crlf: Vec<u8> = OPENAI
        .iter()
        .flat_map(|b| {
            if *b == b'\n' {
                &b"\r\n"[..]
            } else {
                core::slice::from_ref(b)
            }
        })
        .copied()
        .collect();
    assert_eq!(all_splits(&crlf), want);
    let cr: Vec<u8> = OPENAI
        .iter()
        .map(|&b| if b == b'\n' { b'\r' } else { b })
        .collect();
    assert_eq!(all_splits(&cr), want);
}

#[test]
fn cr_and_lf_split_across_fragments_are_one_line_ending() {
    let want = [ev("message", b"a\nb")];
    assert_eq!(run(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]), want);
    // Had the LF counted as a second line ending, the event would have ended after "a".
    assert_eq!(run(&[b"data: a\r", b"\n", b"data: b\r\r"]), want);
    // CR CR is two line endings: a blank line.
    assert_eq!(
        run(&[b"data: a\r", b"\r", b"data: b\n\n"]),
        [ev("message", b"a"), ev("message", b"b")]
    );
}

#[test]
fn data_lines_are_joined_with_lf() {
    assert_eq!(
        all_splits(b"data: first\ndata:second\ndata:  third\n\n"),
        [ev("message", b"first\nsecond\n third")]
    );
    // Empty data lines still count: one gives an empty event, two a lone LF.
    assert_eq!(
        all_splits(b"data\n\ndata:\ndata\n\n"),
        [ev("message", b""), ev("message", b"\n")]
    );
    // Only one space after the colon is removed; tabs are kept.
    assert_eq!(all_splits(b"data:\t x \n\n"), [ev("message", b"\t x ")]);
}

#[test]
fn event_names_apply_to_dispatched_events_only() {
    let wire = b"event: ping\n\n\
        data: 1\n\n\
        event: update\ndata: 2\n\n\
        data: 3\nevent: late\n\n\
        data: 4\nevent: middle\ndata: 5\n\n\
        event: first\nevent: second\ndata: 6\n\n\
        event\ndata: 7\n\n";
    assert_eq!(
        all_splits(wire),
        [
            ev("message", b"1"),
            ev("update", b"2"),
            ev("late", b"3"),
            ev("middle", b"4\n5"),
            ev("second", b"6"),
            ev("message", b"7"),
        ]
    );
    let long: Vec<u8> = [&b"event: "[..], &[b'n'; 40], b"\ndata: x\n\n"].concat();
    let mut d = SseDecoder::new();
    let (_, item) = d.next(&long).unwrap();
    let Some(SseItem::Event(name)) = item else {
        panic!("{item:?}")
    };
    assert_eq!(name.as_str().len(), EVENT_NAME_CAP);
    assert!(name.is_truncated());
}

#[test]
fn comments_unknown_fields_and_ids_are_ignored() {
    let wire = b": comment with data: inside\n\
        id: 42\n\
        Data: not a data field\n\
        unknown: x\n\
        datadata: y\n\
        data : z\n\
        :\n\
        data: kept\n\n";
    assert_eq!(all_splits(wire), [ev("message", b"kept")]);
}

#[test]
fn retry_fields() {
    let wire = b"retry: 3000\nretry: 10x\nretry:\nretry\nretry:  5\nretry: 99999999999999999999999\r\ndata: d\n\n";
    assert_eq!(
        all_splits(wire),
        [Out::Retry(3000), Out::Retry(u64::MAX), ev("message", b"d")]
    );
}

#[test]
fn the_data_reader_skips_event_and_retry_fields() {
    data_agrees_at_every_split(OPENAI);
    data_agrees_at_every_split(
        b"event: ping\n\ndata: 1\n\nevent: update\ndata: 2\n\ndata: 3\nevent: late\n\n\
        data: 4\nevent: middle\ndata: 5\n\nevent\ndata: 7\n\n",
    );
    data_agrees_at_every_split(
        b"retry: 3000\nretry: 10x\nretry:\r\nretry\ndata: d\r\n\r\n: c\ndata:\n\n",
    );
    data_agrees_at_every_split(b"\xEF\xBB\xBFevent: e\r\ndata: [DONE]\r\n\r\n");
}

#[test]
fn leading_bom_is_skipped_once() {
    assert_eq!(
        all_splits(b"\xEF\xBB\xBFdata: a\n\n"),
        [ev("message", b"a")]
    );
    // A second BOM is part of the first line's field name: an unknown field.
    assert_eq!(
        all_splits(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n"),
        [ev("message", b"b")]
    );
    // An incomplete BOM likewise.
    assert_eq!(
        all_splits(b"\xEF\xBBdata: a\n\ndata: b\n\n"),
        [ev("message", b"b")]
    );
    assert_eq!(all_splits(b"\xEF\n\ndata: b\n\n"), [ev("message", b"b")]);
    // Not at the start: part of the data.
    assert_eq!(
        all_splits(b"data: \xEF\xBB\xBF\n\n"),
        [ev("message", b"\xEF\xBB\xBF")]
    );
}

#[test]
fn finish_discards_an_incomplete_event_and_resets() {
    let mut d = SseDecoder::new();
    let input = b"event: x\ndata: partial";
    let (n, item) = d.next(input).unwrap();
    // The name is announced right before the first data piece.
    assert_eq!(
        (n, item),
        (15, Some(SseItem::Event(Text::from_str_truncating("x"))))
    );
    assert_eq!(
        d.next(&input[n..]),
        Ok((7, Some(SseItem::Data(b"partial"))))
    );
    assert_eq!(d.finish(), None);
    // A new stream: BOM allowed again, no stale name or data.
    assert_eq!(d.next(b"\xEF\xBB\xBF\n"), Ok((4, None)));
    assert_eq!(d.next(b"data: y\n"), Ok((7, Some(SseItem::Data(b"y")))));
    assert_eq!(d.next(b"\n"), Ok((1, None)));
    assert_eq!(d.next(b"\n"), Ok((1, Some(SseItem::Dispatch))));
}

/// A model event for the property test: lines of data (no CR/LF), an optional name,
/// comments in between, and a line ending style.
fn event_strategy() -> impl Strategy<Value = (Option<String>, Vec<Vec<u8>>, u8, bool)> {
    (
        proptest::option::of("[a-z_]{0,10}"),
        proptest::collection::vec(
            proptest::collection::vec(
                any::<u8>().prop_filter("no EOL", |b| *b != b'\r' && *b != b'\n'),
                0..40,
            ),
            0..4,
        ),
        0u8..3,
        any::<bool>(),
    )
}

proptest! {
    #[test]
    fn events_survive_any_split(
        events in proptest::collection::vec(event_strategy(), 0..6),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..10),
    ) {
        let mut wire = Vec::new();
        let mut want = Vec::new();
        for (name, lines, eol, comment) in &events {
            let eol: &[u8] = [&b"\n"[..], b"\r\n", b"\r"][usize::from(*eol)];
            if *comment {
                wire.extend_from_slice(b": note");
                wire.extend_from_slice(eol);
            }
            if let Some(name) = name {
                wire.extend_from_slice(b"event: ");
                wire.extend_from_slice(name.as_bytes());
                wire.extend_from_slice(eol);
            }
            for line in lines {
                wire.extend_from_slice(b"data: ");
                wire.extend_from_slice(line);
                wire.extend_from_slice(eol);
            }
            wire.extend_from_slice(eol);
            if !lines.is_empty() {
                let name = name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "message".into());
                want.push(Out::Event { name, data: lines.join(&b'\n') });
            }
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
        cuts.sort_unstable();
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut last = 0;
        for c in cuts {
            parts.push(&wire[last..c]);
            last = c;
        }
        parts.push(&wire[last..]);
        prop_assert_eq!(run(&parts), want);
    }

    #[test]
    fn arbitrary_bytes_never_panic(wire in proptest::collection::vec(any::<u8>(), 0..300), cut in any::<proptest::sample::Index>()) {
        let cut = cut.index(wire.len() + 1);
        prop_assert_eq!(run(&[&wire[..cut], &wire[cut..]]), run(&[&wire]));
    }

    #[test]
    fn the_data_reader_agrees_on_arbitrary_bytes(wire in proptest::collection::vec(any::<u8>(), 0..300), cut in any::<proptest::sample::Index>()) {
        let cut = cut.index(wire.len() + 1);
        prop_assert_eq!(run_data(&[&wire[..cut], &wire[cut..]]), data_of(&run(&[&wire])));
    }
}
