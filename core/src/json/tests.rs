extern crate std;

use super::*;
use proptest::prelude::*;
use std::string::String;
use std::vec;
use std::vec::Vec;

/// An owned token; adjacent string pieces are merged so streams compare across splits.
#[derive(Debug, Clone, PartialEq, Eq)]
enum T {
    Os,
    Oe,
    As,
    Ae,
    Key(Vec<u8>),
    /// String pieces seen so far (no end yet).
    Piece(Vec<u8>),
    Str(Vec<u8>),
    Num(Vec<u8>),
    Bool(bool),
    Null,
}

fn push(out: &mut Vec<T>, tok: Token<'_>) {
    let t = match tok {
        Token::ObjectStart => T::Os,
        Token::ObjectEnd => T::Oe,
        Token::ArrayStart => T::As,
        Token::ArrayEnd => T::Ae,
        Token::Key(k) => T::Key(k.to_vec()),
        Token::Str(s) => {
            assert!(!s.is_empty(), "empty piece");
            if let Some(T::Piece(prev)) = out.last_mut() {
                prev.extend_from_slice(s);
                return;
            }
            T::Piece(s.to_vec())
        }
        Token::StrEnd => match out.pop() {
            Some(T::Piece(p)) => T::Str(p),
            other => {
                out.extend(other);
                T::Str(Vec::new())
            }
        },
        Token::Number(n) => T::Num(n.to_vec()),
        Token::Bool(b) => T::Bool(b),
        Token::Null => T::Null,
    };
    out.push(t);
}

/// Scans `input` cut at the given points (sorted, in bounds). With the `fast` feature,
/// [`Scanner::next_piece`] (whole string values or not) must give the same tokens and errors.
fn scan(input: &[u8], cuts: &[usize]) -> Result<Vec<T>, JsonError> {
    let got = scan_with(input, cuts, None);
    #[cfg(feature = "fast")]
    for whole_strings in [false, true] {
        let pieces = scan_with(input, cuts, Some(whole_strings));
        assert_eq!(pieces, got, "next_piece, whole strings {whole_strings}");
    }
    got
}

/// [`scan`] with [`Scanner::next`] (`None`) or [`Scanner::next_piece`] (`Some(whole_strings)`).
fn scan_with(
    input: &[u8],
    cuts: &[usize],
    #[allow(unused_variables)] pieces: Option<bool>,
) -> Result<Vec<T>, JsonError> {
    let mut s = Scanner::new();
    let mut out = Vec::new();
    let mut start = 0;
    let mut bounds: Vec<usize> = cuts.to_vec();
    bounds.push(input.len());
    for end in bounds {
        let mut part = &input[start..end];
        loop {
            #[cfg(feature = "fast")]
            if let Some(whole_strings) = pieces {
                let (n, piece) = s.next_piece(part, whole_strings)?;
                part = &part[n..];
                match piece {
                    Some(Piece::Token(t)) => push(&mut out, t),
                    Some(Piece::WholeStr(text)) => {
                        if !text.is_empty() {
                            push(&mut out, Token::Str(text));
                        }
                        push(&mut out, Token::StrEnd);
                    }
                    None => {
                        assert!(part.is_empty());
                        break;
                    }
                }
                continue;
            }
            let (n, tok) = s.next(part)?;
            part = &part[n..];
            match tok {
                Some(t) => push(&mut out, t),
                None => {
                    assert!(part.is_empty());
                    break;
                }
            }
        }
        start = end;
    }
    s.finish()?;
    Ok(out)
}

fn whole(input: &[u8]) -> Result<Vec<T>, JsonError> {
    scan(input, &[])
}

/// Every single split point and byte-at-a-time agree with the unsplit scan.
fn all_splits_agree(input: &[u8]) -> Result<Vec<T>, JsonError> {
    let want = whole(input);
    for cut in 0..=input.len() {
        assert_eq!(scan(input, &[cut]), want, "cut at {cut}");
    }
    let every: Vec<usize> = (1..input.len()).collect();
    assert_eq!(scan(input, &every), want, "byte at a time");
    want
}

fn s(v: &str) -> [T; 1] {
    [T::Str(v.as_bytes().to_vec())]
}

fn k(v: &str) -> T {
    T::Key(v.as_bytes().to_vec())
}

#[test]
fn scans_a_document() {
    let doc = br#" {"a": [1, -0.5e+3, true, false, null, "x"], "b": {}, "c": [], "d": ""} "#;
    let got = all_splits_agree(doc).unwrap();
    let mut want = std::vec![
        T::Os,
        k("a"),
        T::As,
        T::Num(b"1".to_vec()),
        T::Num(b"-0.5e+3".to_vec())
    ];
    want.extend([T::Bool(true), T::Bool(false), T::Null]);
    want.extend(s("x"));
    want.extend([T::Ae, k("b"), T::Os, T::Oe, k("c"), T::As, T::Ae, k("d")]);
    want.extend(s(""));
    want.push(T::Oe);
    assert_eq!(got, want);
}

/// Keys and numbers cut by the end of the input are kept and go on in the next input: the
/// same tokens at every split point, in compact JSON too (no byte between tokens).
#[test]
fn cut_keys_and_numbers_go_on_in_the_next_input() {
    let doc = br#"{"abc":12.5e-3,"d\"e":-0,"f":[10,-2.25E+2,3],"g":0.125}"#;
    let got = all_splits_agree(doc).unwrap();
    let num = |n: &str| T::Num(n.as_bytes().to_vec());
    let want = std::vec![
        T::Os,
        k("abc"),
        num("12.5e-3"),
        k("d\"e"),
        num("-0"),
        k("f"),
        T::As,
        num("10"),
        num("-2.25E+2"),
        num("3"),
        T::Ae,
        k("g"),
        num("0.125"),
        T::Oe,
    ];
    assert_eq!(got, want);
    // A key at the capacity, and one past it cut on a character boundary.
    let exact = "a".repeat(KEY_CAP);
    let long = std::format!("{}é", "a".repeat(KEY_CAP - 1));
    let doc = std::format!(r#"{{"{exact}":1,"{long}":2}}"#);
    let got = all_splits_agree(doc.as_bytes()).unwrap();
    let cut = "a".repeat(KEY_CAP - 1);
    let want = std::vec![T::Os, k(&exact), num("1"), k(&cut), num("2"), T::Oe];
    assert_eq!(got, want);
}

/// A number cut by the end of the input and ended wrongly or made too long by the next input
/// gives the error of an unsplit scan, at every split point.
#[test]
fn cut_numbers_report_errors_of_the_whole() {
    let long = "1".repeat(NUMBER_CAP);
    let cases = [
        (String::from("[1.]"), JsonError::Syntax),
        (String::from("[-,1]"), JsonError::Syntax),
        (String::from("[12e+]"), JsonError::Syntax),
        (String::from("[01]"), JsonError::Syntax),
        (std::format!("[{long}1]"), JsonError::NumberTooLong),
        (std::format!("[{long}.]"), JsonError::NumberTooLong),
        (std::format!("[{long}"), JsonError::Incomplete),
    ];
    for (doc, err) in cases {
        let doc = doc.as_bytes();
        for cut in 0..=doc.len() {
            assert_eq!(scan(doc, &[cut]), Err(err), "{doc:?} cut {cut}");
        }
    }
}

#[test]
fn decodes_escapes_and_surrogates() {
    let doc = br#"{"k\u00e9\n":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t"}"#;
    let got = all_splits_agree(doc).unwrap();
    let mut want = std::vec![T::Os, k("k\u{e9}\n")];
    want.extend(s("caf\u{e9} \u{1F600} \"q\" \\ / \u{8}\u{c}\n\r\t"));
    want.push(T::Oe);
    assert_eq!(got, want);
}

#[test]
fn lone_surrogates_become_replacement_characters() {
    let cases: [(&[u8], &str); 7] = [
        (br#""\ud800""#, "\u{FFFD}"),
        (br#""\udc00x""#, "\u{FFFD}x"),
        (br#""\ud800x""#, "\u{FFFD}x"),
        (br#""\ud800\n""#, "\u{FFFD}\n"),
        (br#""\ud800\u0041""#, "\u{FFFD}A"),
        (br#""\ud800\ud800\udc00""#, "\u{FFFD}\u{10000}"),
        (br#""\ud800\udc00\udc00""#, "\u{10000}\u{FFFD}"),
    ];
    for (doc, text) in cases {
        assert_eq!(all_splits_agree(doc).unwrap(), s(text).to_vec(), "{doc:?}");
    }
    // In keys as well.
    let got = all_splits_agree(br#"{"\ud800":1}"#).unwrap();
    assert_eq!(
        got,
        std::vec![T::Os, k("\u{FFFD}"), T::Num(b"1".to_vec()), T::Oe]
    );
}

#[test]
fn numbers_follow_the_grammar() {
    for good in [
        "0", "-0", "1", "-12", "0.5", "1e5", "1E+5", "1e-05", "-1.25E10", "10",
    ] {
        let doc = std::format!("[{good}]");
        assert_eq!(
            all_splits_agree(doc.as_bytes()).unwrap(),
            std::vec![T::As, T::Num(good.as_bytes().to_vec()), T::Ae],
            "{good}"
        );
    }
    for bad in [
        "01", "-", "1.", ".5", "1e", "1e+", "+1", "-a", "1.e5", "0x1", "1.5.2", "--1",
    ] {
        let doc = std::format!("[{bad}]");
        assert!(whole(doc.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn number_length_is_bounded() {
    let ok = std::format!("[{}]", "1".repeat(NUMBER_CAP));
    assert!(whole(ok.as_bytes()).is_ok());
    let long = std::format!("[{}]", "1".repeat(NUMBER_CAP + 1));
    assert_eq!(whole(long.as_bytes()), Err(JsonError::NumberTooLong));
}

#[test]
fn top_level_number_needs_a_delimiter() {
    let mut s = Scanner::new();
    assert_eq!(s.next(b"12").unwrap(), (2, None));
    assert!(!s.is_done());
    assert_eq!(s.finish(), Err(JsonError::Incomplete));
    assert_eq!(s.next(b" ").unwrap(), (0, Some(Token::Number(b"12"))));
    assert_eq!(s.next(b" ").unwrap(), (1, None));
    assert!(s.is_done());
}

#[test]
fn depth_is_bounded() {
    let ok = std::format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(whole(ok.as_bytes()).is_ok());
    let deep = "[".repeat(MAX_DEPTH + 1);
    assert_eq!(whole(deep.as_bytes()), Err(JsonError::TooDeep));
}

#[test]
fn depth_is_reported() {
    let mut s = Scanner::new();
    let mut input: &[u8] = br#"{"a":[{"b":1}]}"#;
    let mut depths = Vec::new();
    while let (n, Some(_)) = s.next(input).unwrap() {
        input = &input[n..];
        depths.push(s.depth());
    }
    // { "a" [ { "b" 1 } ] }
    assert_eq!(depths, [1, 1, 2, 3, 3, 3, 2, 1, 0]);
}

#[test]
fn long_keys_are_cut_on_a_character_boundary() {
    let key = std::format!("{}é", "a".repeat(KEY_CAP - 1));
    let doc = std::format!("{{\"{key}\":1}}");
    let mut s = Scanner::new();
    assert_eq!(s.next(doc.as_bytes()).unwrap().1, Some(Token::ObjectStart));
    let (_, tok) = s.next(&doc.as_bytes()[1..]).unwrap();
    assert_eq!(tok, Some(Token::Key("a".repeat(KEY_CAP - 1).as_bytes())));
    assert!(s.key_truncated());
}

#[test]
fn rejects_bad_documents() {
    let cases: [(&[u8], JsonError); 16] = [
        (b"{,}", JsonError::Syntax),
        (b"[1,]", JsonError::Syntax),
        (b"[1 2]", JsonError::Syntax),
        (b"{\"a\" 1}", JsonError::Syntax),
        (b"{\"a\":1,}", JsonError::Syntax),
        (b"{1:2}", JsonError::Syntax),
        (b"[}", JsonError::Syntax),
        (b"{]", JsonError::Syntax),
        (b"[1}", JsonError::Syntax),
        (b"tru ", JsonError::Syntax),
        (b"nul", JsonError::Incomplete),
        (b"\"a\x01\"", JsonError::Syntax),
        (b"\"\\x\"", JsonError::BadEscape),
        (b"\"\\u12g4\"", JsonError::BadEscape),
        (b"{} x", JsonError::TrailingData),
        (b"{}{}", JsonError::TrailingData),
    ];
    for (doc, err) in cases {
        for cut in 0..=doc.len() {
            assert_eq!(
                scan(doc, &[cut]),
                Err(err),
                "{:?} cut {cut}",
                String::from_utf8_lossy(doc)
            );
        }
    }
    assert_eq!(whole(b""), Err(JsonError::Incomplete));
    assert_eq!(whole(b"  "), Err(JsonError::Incomplete));
}

#[test]
fn errors_are_sticky() {
    let mut s = Scanner::new();
    assert_eq!(s.next(b"]"), Err(JsonError::Syntax));
    assert_eq!(s.next(b"{}"), Err(JsonError::Syntax));
    assert_eq!(s.finish(), Err(JsonError::Syntax));
}

#[test]
fn invalid_utf8_passes_through() {
    let got = all_splits_agree(b"\"a\xff\xc3\"").unwrap();
    assert_eq!(got[0], T::Str(b"a\xff\xc3".to_vec()));
}

#[test]
fn utf8_boundary_cuts_incomplete_characters() {
    assert_eq!(utf8_boundary(b"ab"), 2);
    assert_eq!(utf8_boundary("aé".as_bytes()), 3);
    assert_eq!(utf8_boundary(&"aé".as_bytes()[..2]), 1);
    assert_eq!(utf8_boundary(&"a😀".as_bytes()[..4]), 1);
    assert_eq!(utf8_boundary("a😀".as_bytes()), 5);
    assert_eq!(utf8_boundary(b""), 0);
}

#[test]
fn utf8_boundary_is_the_last_char_boundary_of_valid_text() {
    let text = "a\u{e9}\u{20ac}\u{1f600}z\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}";
    for cut in 0..=text.len() {
        let want = (0..=cut).rev().find(|&k| text.is_char_boundary(k)).unwrap();
        assert_eq!(utf8_boundary(&text.as_bytes()[..cut]), want, "cut {cut}");
    }
    // Bytes that cannot start a character count as complete, as do stray continuations.
    for lead in [0x80u8, 0xBF, 0xF8, 0xFF] {
        assert_eq!(utf8_boundary(&[b'a', lead]), 2);
    }
    assert_eq!(utf8_boundary(&[0x80, 0x80, 0x80, 0x80]), 4);
    assert_eq!(utf8_boundary(&[0xF0, 0x80, 0x80]), 0);
    assert_eq!(utf8_boundary(&[0xF0, 0x80, 0x80, 0x80]), 4);
}

/// A JSON value with its expected token stream.
#[derive(Debug, Clone)]
enum V {
    Null,
    Bool(bool),
    Num(String),
    Str(Vec<(char, bool)>),
    Arr(Vec<V>),
    Obj(Vec<(Vec<(char, bool)>, V)>),
}

/// Encodes a string, escaping where required and, where `esc` is set, by `\u`.
fn enc_str(chars: &[(char, bool)], out: &mut String) {
    out.push('"');
    for &(c, esc) in chars {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if !esc => out.push_str("\\n"),
            c if esc || (c as u32) < 0x20 => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&std::format!("\\u{:04X}", u));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn dec_str(chars: &[(char, bool)]) -> String {
    chars.iter().map(|&(c, _)| c).collect()
}

fn encode(v: &V, out: &mut String, toks: &mut Vec<T>) {
    match v {
        V::Null => {
            out.push_str("null");
            toks.push(T::Null);
        }
        V::Bool(b) => {
            out.push_str(if *b { "true" } else { "false" });
            toks.push(T::Bool(*b));
        }
        V::Num(n) => {
            out.push_str(n);
            toks.push(T::Num(n.as_bytes().to_vec()));
        }
        V::Str(c) => {
            enc_str(c, out);
            toks.extend(s(&dec_str(c)));
        }
        V::Arr(items) => {
            out.push_str("[ ");
            toks.push(T::As);
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                encode(item, out, toks);
            }
            out.push(']');
            toks.push(T::Ae);
        }
        V::Obj(members) => {
            out.push('{');
            toks.push(T::Os);
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                enc_str(key, out);
                out.push_str(" :");
                let key = dec_str(key);
                let cut = utf8_boundary(&key.as_bytes()[..key.len().min(KEY_CAP)]);
                toks.push(T::Key(key.as_bytes()[..cut].to_vec()));
                encode(item, out, toks);
            }
            out.push('}');
            toks.push(T::Oe);
        }
    }
}

fn chars() -> impl Strategy<Value = Vec<(char, bool)>> {
    let c = prop_oneof![
        4 => proptest::char::range('a', 'z'),
        1 => Just('"'),
        1 => Just('\\'),
        1 => Just('\n'),
        1 => proptest::char::range('\0', '\u{1f}'),
        1 => Just('é'),
        1 => Just('\u{FFFF}'),
        1 => Just('😀'),
        1 => any::<char>(),
    ];
    proptest::collection::vec((c, any::<bool>()), 0..12)
}

fn number() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        0u64..100_000,
        proptest::option::of(0u32..1000),
        proptest::option::of(-30i32..30),
    )
        .prop_map(|(neg, int, frac, exp)| {
            let mut n = String::new();
            if neg {
                n.push('-');
            }
            n.push_str(&int.to_string());
            if let Some(f) = frac {
                n.push_str(&std::format!(".{f}"));
            }
            if let Some(e) = exp {
                n.push_str(&std::format!("e{e:+}"));
            }
            n
        })
}

fn value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        Just(V::Null),
        any::<bool>().prop_map(V::Bool),
        number().prop_map(V::Num),
        chars().prop_map(V::Str),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(V::Arr),
            proptest::collection::vec((chars(), inner), 0..6).prop_map(V::Obj),
        ]
    })
}

use std::string::ToString;

proptest! {
    /// Random documents decode to their expected tokens, whatever the split.
    #[test]
    fn random_documents_any_split(v in value(), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let mut text = String::new();
        let mut want = Vec::new();
        // A top-level container, like the API's bodies (a bare number needs a delimiter).
        encode(&V::Arr(std::vec![v]), &mut text, &mut want);
        let bytes = text.as_bytes();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(scan(bytes, &cuts), Ok(want.clone()));
        let every: Vec<usize> = (1..bytes.len()).collect();
        prop_assert_eq!(scan(bytes, &every), Ok(want));
    }

    /// Arbitrary bytes never panic, in one piece or byte by byte.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = whole(&bytes);
        let every: Vec<usize> = (1..bytes.len()).collect();
        let _ = scan(&bytes, &every);
    }

    /// JSON-ish bytes (more likely to go deep into the grammar) never panic either.
    #[test]
    fn jsonish_bytes_never_panic(bytes in proptest::collection::vec(
        prop_oneof![Just(b'{'), Just(b'}'), Just(b'['), Just(b']'), Just(b'"'), Just(b'\\'),
                    Just(b'u'), Just(b'd'), Just(b'8'), Just(b'0'), Just(b':'), Just(b','),
                    Just(b'-'), Just(b'e'), Just(b'.'), Just(b' ')], 0..256)) {
        let _ = whole(&bytes);
    }
}

/// Like [`scan`], but the value after the key `x` is skipped with [`Scanner::skip_value`], and
/// so is the rest of a container opened right after the key `y` (the decoder's two uses).
fn scan_skipping(input: &[u8], cuts: &[usize]) -> Result<Vec<T>, JsonError> {
    let mut s = Scanner::new();
    let mut out = Vec::new();
    // The depth outside the value being skipped.
    let mut skip: Option<usize> = None;
    let mut after_y = false;
    let mut start = 0;
    let mut bounds: Vec<usize> = cuts.to_vec();
    bounds.push(input.len());
    for end in bounds {
        let mut part = &input[start..end];
        while !part.is_empty() {
            if let Some(depth) = skip {
                let (n, over) = s.skip_value(part, depth)?;
                part = &part[n..];
                if over {
                    skip = None;
                } else {
                    assert!(part.is_empty());
                }
                continue;
            }
            let depth = s.depth();
            let (n, tok) = s.next(part)?;
            part = &part[n..];
            let Some(t) = tok else {
                assert!(part.is_empty());
                break;
            };
            let opened = matches!(t, Token::ObjectStart | Token::ArrayStart);
            if after_y && opened {
                skip = Some(depth);
            }
            after_y = t == Token::Key(b"y");
            if t == Token::Key(b"x") {
                skip = Some(depth);
            }
            push(&mut out, t);
        }
        start = end;
    }
    s.finish()?;
    Ok(out)
}

/// The tokens of a full scan without those [`scan_skipping`] skips.
fn without_skipped(full: &[T]) -> Vec<T> {
    let mut out = Vec::new();
    let mut toks = full.iter();
    while let Some(t) = toks.next() {
        out.push(t.clone());
        let drop_opener = match t {
            T::Key(k) if k == b"x" => true,
            T::Key(k) if k == b"y" => false,
            _ => continue,
        };
        let mut depth = 0usize;
        let mut first = true;
        for t in toks.by_ref() {
            match t {
                T::Os | T::As => depth += 1,
                T::Oe | T::Ae => depth -= 1,
                _ => {}
            }
            if first && !drop_opener {
                // The container's start is handed out; the skip begins inside it.
                out.push(t.clone());
            }
            first = false;
            if depth == 0 {
                break;
            }
        }
    }
    out
}

/// Skipping gives the tokens of a full scan minus the skipped ones (or the same error), at
/// every split point and byte at a time.
fn skipping_agrees(input: &[u8]) -> Result<Vec<T>, JsonError> {
    let want = whole(input).map(|t| without_skipped(&t));
    for cut in 0..=input.len() {
        assert_eq!(scan_skipping(input, &[cut]), want, "cut at {cut}");
    }
    let every: Vec<usize> = (1..input.len()).collect();
    assert_eq!(scan_skipping(input, &every), want, "byte at a time");
    want
}

#[test]
fn skipped_values_leave_the_rest_intact_at_every_split() {
    let doc = br#"{"a":1,"x":{"p":[[[{"q":"]}\"\\[{","r":[-0.5e+3,true,null,{}]}]]],"s":"\ud83d\ude00 \u005d"},"y":[{"t":"}"},[1,[2]],"\"]"],"b":[true,"x"],"x":12.5,"y":{"z":{}},"x":"\\\"}","c":"end"}"#;
    let got = skipping_agrees(doc).unwrap();
    let want = [
        T::Os,
        k("a"),
        T::Num(b"1".to_vec()),
        k("x"),
        k("y"),
        T::As,
        k("b"),
        T::As,
        T::Bool(true),
        T::Str(b"x".to_vec()),
        T::Ae,
        k("x"),
        k("y"),
        T::Os,
        k("x"),
        k("c"),
        T::Str(b"end".to_vec()),
        T::Oe,
    ];
    assert_eq!(got, want);
    // A skipped value at the top level of a nested object, and a skipped bare literal.
    skipping_agrees(br#"{"o":{"x":false},"x":[],"y":[]}"#).unwrap();
}

#[test]
fn skipped_values_are_still_checked() {
    let bad: &[&[u8]] = &[
        br#"{"x":{"a":[1,2}]}"#,      // bracket mismatch
        br#"{"x":[1,2}"#,             // bracket mismatch, document cut
        br#"{"x":"abc}"#,             // unterminated string
        br#"{"x":{"a":"b\q"}}"#,      // bad escape
        br#"{"x":{"a":"b\u12g4"}}"#,  // bad \u digit
        b"{\"x\":\"a\x01\"}",         // raw control byte
        br#"{"x":{"a" 1}}"#,          // missing colon
        br#"{"x":[1,,2]}"#,           // missing value
        br#"{"x":[01]}"#,             // number grammar
        br#"{"x":[tru]}"#,            // literal
        br#"{"x":{a:1}}"#,            // unquoted key
        br#"{"y":[[1],}"#,            // trailing comma in a skipped container
        br#"{"x":[1]]}"#,             // extra closer after the value
        br#"{"x":1} 2"#,              // trailing data
        br#"{"x":{"a":01}}"#,         // number grammar in a member
        br#"{"x":{"a":1.,"b":2}}"#,   // number grammar in a member
        br#"{"x":{"a":-}}"#,          // number grammar in a member
        br#"{"x":{"a":"b",}}"#,       // trailing comma after a member
        br#"{"x":{"a":1 "b":2}}"#,    // missing comma between members
        br#"{"x":{"a":"b"]}"#,        // bracket mismatch after a member
        b"{\"x\":{\"a\":\"b\x01\"}}", // raw control byte in a member's value
        br#"{"x":{"a\q":1}}"#,        // bad escape in a member's key
        br#"{"x":["a",]}"#,           // trailing comma after an element
        br#"{"x":["a" "b"]}"#,        // missing comma between elements
        br#"{"x":[1,"a"}"#,           // bracket mismatch after elements
        br#"{"x":[0.5,-]}"#,          // number grammar in an element
    ];
    for doc in bad {
        let want = whole(doc);
        assert!(want.is_err(), "{}", String::from_utf8_lossy(doc));
        assert_eq!(
            skipping_agrees(doc),
            want,
            "{}",
            String::from_utf8_lossy(doc)
        );
    }
    let long = std::format!(r#"{{"x":[{}]}}"#, "1".repeat(NUMBER_CAP + 1));
    assert_eq!(
        skipping_agrees(long.as_bytes()),
        Err(JsonError::NumberTooLong)
    );
    let long = std::format!(r#"{{"x":{{"a":{}}}}}"#, "1".repeat(NUMBER_CAP + 1));
    assert_eq!(
        skipping_agrees(long.as_bytes()),
        Err(JsonError::NumberTooLong)
    );
    // The depth bound holds inside skipped values: no unbounded state.
    let deep = std::format!(
        r#"{{"x":{}{}}}"#,
        "[".repeat(MAX_DEPTH),
        "]".repeat(MAX_DEPTH)
    );
    assert_eq!(skipping_agrees(deep.as_bytes()), Err(JsonError::TooDeep));
}

proptest! {
    /// Random skipped values, whatever the split: the tokens around them are unchanged.
    #[test]
    fn random_skipped_values_any_split(
        v in value(),
        w in value(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut text = String::from(r#"{"x":"#);
        let mut toks = Vec::new();
        encode(&v, &mut text, &mut toks);
        text.push_str(r#","y":["#);
        encode(&w, &mut text, &mut toks);
        text.push_str(r#"],"k":[1,"#);
        encode(&w, &mut text, &mut toks);
        text.push_str("]}");
        let bytes = text.as_bytes();
        let want = whole(bytes).map(|t| without_skipped(&t));
        prop_assert!(want.is_ok());
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(scan_skipping(bytes, &cuts), want.clone());
        let every: Vec<usize> = (1..bytes.len()).collect();
        prop_assert_eq!(scan_skipping(bytes, &every), want);
    }
}

/// The number runs of the fast paths follow the grammar step byte by byte: the same state
/// and length, from every state, for every text of up to five bytes over the number alphabet.
#[cfg(feature = "fast")]
#[test]
fn number_runs_agree_with_the_grammar_step() {
    let states = [
        Num::Minus,
        Num::Zero,
        Num::Int,
        Num::Dot,
        Num::Frac,
        Num::Exp,
        Num::ExpSign,
        Num::ExpDigits,
    ];
    let alphabet = b"01.eE+-x";
    let mut texts: Vec<Vec<u8>> = vec![Vec::new()];
    for len in 1..=5 {
        let mut longer = Vec::new();
        for t in texts.iter().filter(|t| t.len() == len - 1) {
            for &c in alphabet {
                let mut u = t.clone();
                u.push(c);
                longer.push(u);
            }
        }
        texts.extend(longer);
    }
    for &start in &states {
        for text in &texts {
            let mut st = start;
            let mut n = 0;
            while let Some(next) = text.get(n).and_then(|&c| st.step(c)) {
                st = next;
                n += 1;
            }
            assert_eq!(number_run(start, text), (st, n), "{start:?} {text:?}");
        }
    }
}

proptest! {
    /// The run of plain string bytes is the prefix before the first `"`, `\` or control byte,
    /// whatever the length and wherever that byte is (word-at-a-time search included).
    #[test]
    fn string_runs_stop_at_the_first_special_byte(bytes in proptest::collection::vec(
        prop_oneof![8 => 0x20u8..0x7F, 1 => Just(b'"'), 1 => Just(b'\\'), 1 => 0u8..0x20,
                    2 => 0x80u8..=0xFF], 0..40)) {
        for start in 0..=bytes.len() {
            let rest = &bytes[start..];
            let first = rest.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
            prop_assert_eq!(string_run(rest), first.unwrap_or(rest.len()));
        }
    }
}

/// The UTF-8 encoder writes what `char` does for every scalar value, and nothing into a
/// buffer too short.
#[test]
fn encodes_every_scalar_value_as_char_does() {
    for cp in (0..0xD800).chain(0xE000..0x11_0000) {
        let c = char::from_u32(cp).unwrap();
        let mut want = [0u8; 4];
        let want = c.encode_utf8(&mut want).as_bytes();
        let mut got = [0u8; 4];
        assert_eq!(encode_utf8(cp, &mut got), want.len());
        assert_eq!(&got[..want.len()], want, "{cp:#x}");
        assert_eq!(encode_utf8(cp, &mut got[..want.len() - 1]), 0);
    }
    let mut got = [0u8; 4];
    assert_eq!(encode_utf8(0x11_0000, &mut got), 3);
    assert_eq!(&got[..3], &REPLACEMENT);
}

/// An object element of an array skipped right after its `{` (as the decoder skips the
/// choices it does not read): the skip ends with the element, nested objects and all, and
/// the array goes on, at every split point.
#[test]
fn skipping_an_element_object_ends_with_the_element() {
    let doc = br#"{"c":[{"i":1,"m":{"t":{"u":"v"}},"f":true},{"i":2}],"n":3}"#;
    let want = vec![
        T::Os,
        k("c"),
        T::As,
        T::Os,
        T::Os,
        k("i"),
        T::Num(b"2".to_vec()),
        T::Oe,
        T::Ae,
        k("n"),
        T::Num(b"3".to_vec()),
        T::Oe,
    ];
    for cut in 0..=doc.len() {
        let mut s = Scanner::new();
        let mut out = Vec::new();
        let mut skip = None;
        let mut skipped = false;
        for part in [&doc[..cut], &doc[cut..]] {
            let mut part = part;
            while !part.is_empty() {
                if let Some(depth) = skip {
                    let (n, over) = s.skip_value(part, depth).unwrap();
                    part = &part[n..];
                    if over {
                        skip = None;
                    }
                    continue;
                }
                let (n, tok) = s.next(part).unwrap();
                part = &part[n..];
                let Some(t) = tok else { break };
                // The first element: the `{` right after the `[`.
                if t == Token::ObjectStart && out.last() == Some(&T::As) && !skipped {
                    skip = Some(2);
                    skipped = true;
                }
                push(&mut out, t);
            }
        }
        s.finish().unwrap();
        assert_eq!(out, want, "cut at {cut}");
    }
}
