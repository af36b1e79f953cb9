//! HTTP-date (RFC 9110 §5.6.7) to Unix seconds, without floats, `core::fmt` or panics.
//!
//! All three formats a recipient must accept are parsed: IMF-fixdate
//! (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850 form
//! (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`). Day and month
//! names are matched case-insensitively (lenient); the weekday is checked to be a weekday name
//! but not against the date. Dates before 1970 are not representable and give `None`.

/// The year a two-digit RFC 850 year is judged against (RFC 9110 §5.6.7: a year more than 50
/// years in the future means the most recent past year with those digits). The core has no
/// clock, so the rule is applied relative to this fixed year: `00`–`76` are 2000–2076,
/// `77`–`99` are 1977–1999.
pub const RFC850_REFERENCE_YEAR: u64 = 2026;

const SECS_PER_DAY: u64 = 86_400;

/// Parses an HTTP-date (any of the three formats of RFC 9110 §5.6.7) into Unix seconds.
///
/// Returns `None` for anything else, including out-of-range fields (day 31 in a 30-day month,
/// hour 24, second 61) and dates before 1970.
///
/// ```
/// use kaiko_core::http::parse_http_date;
/// assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
/// assert_eq!(parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
/// assert_eq!(parse_http_date(b"Sun Nov  6 08:49:37 1994"), Some(784_111_777));
/// assert_eq!(parse_http_date(b"yesterday"), None);
/// ```
pub fn parse_http_date(s: &[u8]) -> Option<u64> {
    #[cfg(feature = "fast")]
    if s.get(3) == Some(&b',') {
        return imf_fixdate(s);
    }
    parse_any(s)
}

/// [`parse_http_date`] by the templates below.
fn parse_any(s: &[u8]) -> Option<u64> {
    // The three formats are told apart by what follows the weekday: ", " + digit (IMF),
    // ", " after a long name (RFC 850), or " " (asctime).
    let comma = s.iter().position(|&b| b == b',');
    let (weekday, rest, template, rfc850) = match comma {
        Some(3) => (s.get(..3)?, s.get(3..)?, IMF_FIXDATE, false),
        Some(i) => (s.get(..i)?, s.get(i..)?, RFC850, true),
        None => (s.get(..3)?, s.get(3..)?, ASCTIME, false),
    };
    // RFC 850 names the day in full, the others by its first three letters.
    let known = LONG_DAYS.split(|&b| b == b' ').any(|day| {
        let day = if rfc850 {
            day
        } else {
            day.get(..3).unwrap_or(day)
        };
        weekday.eq_ignore_ascii_case(day)
    });
    if !known {
        return None;
    }
    let [day, month, mut year, h, m, sec] = fields(rest, template)?;
    if rfc850 {
        // RFC 9110 §5.6.7: more than 50 years in the future means the previous century.
        year += 2000;
        if u64::from(year) > RFC850_REFERENCE_YEAR + 50 {
            year -= 100;
        }
    }
    to_unix(year, month, day, h, m, sec)
}

#[cfg(feature = "fast")]
/// IMF-fixdate, the format servers send (RFC 9110 §5.6.7), at fixed offsets: what
/// [`parse_any`] gives for a string with a comma after three bytes, without the templates.
fn imf_fixdate(s: &[u8]) -> Option<u64> {
    // `Sun, 06 Nov 1994 08:49:37 GMT` as four little-endian words, `Sun, 06 `, `Nov 1994`,
    // `08:49:37` and `9:37 GMT` (overlapping the third), and the SP after the year.
    let word = |at: usize| {
        s.get(at..)
            .and_then(<[u8]>::first_chunk)
            .map(|w| u64::from_le_bytes(*w))
    };
    if s.len() != 29 || s.get(16) != Some(&b' ') {
        return None;
    }
    let (a, b, c, d) = (word(0)?, word(8)?, word(17)?, word(21)?);
    // The separators, each word's fixed bytes compared at once.
    let fixed = |w: u64, mask: u64, want: &[u8; 8]| w & mask == u64::from_le_bytes(*want) & mask;
    if !fixed(a, 0xff00_00ff_ff00_0000, b"   , \0\0 ")
        || !fixed(b, 0x0000_0000_ff00_0000, b"\0\0\0 \0\0\0\0")
        || !fixed(c, 0x0000_ff00_00ff_0000, b"\0\0:\0\0:\0\0")
        || !fixed(d, 0xffff_ffff_0000_0000, b"\0\0\0\0 GMT")
    {
        return None;
    }
    let a_digits = digits(a, 0x00ff_ff00_0000_0000)?.to_le_bytes();
    let b_digits = digits(b, 0xffff_ffff_0000_0000)?.to_le_bytes();
    let c_digits = digits(c, 0xffff_00ff_ff00_ffff)?.to_le_bytes();
    let [.., d0, d1, _] = a_digits.map(u32::from);
    let [.., y0, y1, y2, y3] = b_digits.map(u32::from);
    let [h0, h1, _, i0, i1, _, s0, s1] = c_digits.map(u32::from);
    // Names are letters: `| 0x20` folds exactly their upper case and nothing else onto them.
    let key = |w: u64| (w & 0x00ff_ffff) as u32 | 0x0020_2020;
    name_index(&WEEKDAY_SLOTS, WEEKDAY_HASH, key(a))?;
    let month = name_index(&MONTH_SLOTS, MONTH_HASH, key(b))?;
    to_unix(
        ((y0 * 10 + y1) * 10 + y2) * 10 + y3,
        month + 1,
        d0 * 10 + d1,
        h0 * 10 + h1,
        i0 * 10 + i1,
        s0 * 10 + s1,
    )
}

/// The bytes of `w` that `mask` selects as digit values (the others zero), if all are
/// ASCII digits: after `^ b'0'` a digit is 0–9, and adding 0x76 sets the high bit of any
/// byte from 10 to 0x7f without carrying into the next; a byte with its high bit set is
/// refused whatever the sum.
#[cfg(feature = "fast")]
fn digits(w: u64, mask: u64) -> Option<u64> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let d = (w ^ (ONES * u64::from(b'0'))) & mask;
    let above_nine = (d | d.wrapping_add((ONES * 0x76) & mask)) & (ONES * 0x80);
    (above_nine == 0).then_some(d)
}

/// Multipliers that send the [`name_key`]s of the month names (weekday names) to distinct
/// slots of a 16-slot (8-slot) table: found by search, checked when the tables are built.
#[cfg(feature = "fast")]
const MONTH_HASH: u32 = 26_596;
#[cfg(feature = "fast")]
const WEEKDAY_HASH: u32 = 2_522;
#[cfg(feature = "fast")]
const MONTH_SLOTS: [u32; 16] = name_slots(MONTHS, MONTH_HASH);
#[cfg(feature = "fast")]
const WEEKDAY_SLOTS: [u32; 8] = name_slots(SHORT_DAYS, WEEKDAY_HASH);

/// A three-letter lower-case name as a little-endian word, its top byte zero.
#[cfg(feature = "fast")]
const fn name_key(name: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([name[at], name[at + 1], name[at + 2], 0])
}

/// The slot of `key` in a table of `N` slots (a power of two) hashed with `hash`.
#[cfg(feature = "fast")]
const fn name_slot<const N: usize>(key: u32, hash: u32) -> usize {
    (key.wrapping_mul(hash) >> (32 - N.trailing_zeros())) as usize
}

/// The three-letter `names` (one after the other) hashed into `N` slots: each holds its
/// name's key and, in the top byte, its index; empty slots are zero, which no key is.
#[cfg(feature = "fast")]
const fn name_slots<const N: usize>(names: &[u8], hash: u32) -> [u32; N] {
    let mut slots = [0; N];
    let mut i = 0;
    while i * 3 < names.len() {
        let key = name_key(names, i * 3);
        let at = name_slot::<N>(key, hash);
        assert!(slots[at] == 0, "two names share a slot");
        slots[at] = key | (i as u32) << 24;
        i += 1;
    }
    slots
}

/// The index of the name whose key is `key` (folded to lower case), by one table lookup.
#[cfg(feature = "fast")]
fn name_index<const N: usize>(slots: &[u32; N], hash: u32, key: u32) -> Option<u32> {
    let slot = *slots.get(name_slot::<N>(key, hash))?;
    (slot & 0x00ff_ffff == key).then_some(slot >> 24)
}

// What follows the weekday in each format, one template byte per input byte: a digit names
// the field the input digit belongs to (0 day, 2 year, 3 hour, 4 minute, 5 second), `m` a
// month letter, `_` a space or a digit of the day (asctime pads the day with a space); any
// other byte must be there as is.

/// `Sun, 06 Nov 1994 08:49:37 GMT`
const IMF_FIXDATE: &[u8] = b", 00 mmm 2222 33:44:55 GMT";
/// `Sunday, 06-Nov-94 08:49:37 GMT`
const RFC850: &[u8] = b", 00-mmm-22 33:44:55 GMT";
/// `Sun Nov  6 08:49:37 1994`
const ASCTIME: &[u8] = b" mmm _0 33:44:55 2222";

/// The fields of `s` laid out as `template` says: day, month (1–12), year, hour, minute,
/// second.
fn fields(s: &[u8], template: &[u8]) -> Option<[u32; 6]> {
    if s.len() != template.len() {
        return None;
    }
    let mut f = [0u32; 6];
    let mut month = [0u8; 3];
    let mut letters = 0;
    for (&b, &t) in s.iter().zip(template) {
        let slot = match t {
            b'm' => {
                *month.get_mut(letters)? = b;
                letters += 1;
                continue;
            }
            b'_' if b == b' ' => continue,
            b'_' => 0,
            b'0'..=b'5' => usize::from(t - b'0'),
            _ if b == t => continue,
            _ => return None,
        };
        if !b.is_ascii_digit() {
            return None;
        }
        let v = f.get_mut(slot)?;
        *v = *v * 10 + u32::from(b - b'0');
    }
    let m = MONTHS
        .chunks_exact(3)
        .position(|m| month.eq_ignore_ascii_case(m))?;
    *f.get_mut(1)? = m as u32 + 1;
    Some(f)
}

/// The day and month names, three letters each, one after the other.
#[cfg(feature = "fast")]
const SHORT_DAYS: &[u8; 21] = b"montuewedthufrisatsun";
const MONTHS: &[u8; 36] = b"janfebmaraprmayjunjulaugsepoctnovdec";
/// The long day names, separated by spaces (no table of pointers).
const LONG_DAYS: &[u8] = b"monday tuesday wednesday thursday friday saturday sunday";

/// Gregorian leap year: of the multiples of 4, a multiple of 100 (here: of 25) only when it
/// is one of 400 (here: of 16), one division instead of two.
fn is_leap(y: u32) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(25) || y.is_multiple_of(16))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Validates the fields and converts them to Unix seconds (leap second 60 is allowed and
/// counts as the next minute's first second, as POSIX time does).
fn to_unix(y: u32, m: u32, d: u32, h: u32, min: u32, s: u32) -> Option<u64> {
    if !matches!(y, 1970..=9999) || !matches!(m, 1..=12) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    if h > 23 || min > 59 || s > 60 {
        return None;
    }
    let days = u64::from(days_from_civil(y, m, d));
    Some(days * SECS_PER_DAY + u64::from(h * 3600 + min * 60 + s))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`),
/// restricted to years ≥ 1970 so everything stays unsigned. Inputs are validated and
/// `y ≤ 9999`, so no step can overflow.
fn days_from_civil(y: u32, m: u32, d: u32) -> u32 {
    // 32-bit arithmetic (the result is below 3 000 000): no 64-bit division routine.
    // Years start in March so the leap day is the last day of the year.
    let y = if m <= 2 { y - 1 } else { y };
    let mp = if m > 2 { m - 3 } else { m + 9 }; // [0, 11]
    let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
    // Leap days up to year `y` (the 400-year eras of the original folded in: one division).
    let centuries = y / 100;
    let leap_days = y / 4 - centuries + centuries / 4;
    // 719468 = days from 0000-03-01 to 1970-01-01; y ≥ 1969 keeps this non-negative.
    y * 365 + leap_days + doy - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_three_formats_of_rfc_9110() {
        assert_eq!(
            parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date(b"Sun Nov  6 08:49:37 1994"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date(b"Sun Nov 06 08:49:37 1994"),
            Some(784_111_777)
        );
    }

    #[test]
    fn known_timestamps() {
        assert_eq!(parse_http_date(b"Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date(b"Tue, 31 Mar 2026 00:00:00 GMT"),
            Some(1_774_915_200)
        );
        assert_eq!(
            parse_http_date(b"Thu, 02 Jan 2025 00:00:00 GMT"),
            Some(1_735_776_000)
        );
        assert_eq!(
            parse_http_date(b"Tue, 19 Jan 2038 03:14:08 GMT"),
            Some(1 << 31)
        );
        assert_eq!(
            parse_http_date(b"Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600)
        );
        assert_eq!(
            parse_http_date(b"Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(253_402_300_799)
        );
        // Leap second: the next minute's first second.
        assert_eq!(
            parse_http_date(b"Sat, 31 Dec 2016 23:59:60 GMT"),
            Some(1_483_228_800)
        );
        assert_eq!(
            parse_http_date(b"sun, 06 nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
    }

    #[test]
    fn rfc850_two_digit_years() {
        assert_eq!(
            parse_http_date(b"Thursday, 01-Jan-70 00:00:00 GMT"),
            Some(3_155_760_000)
        );
        assert_eq!(
            parse_http_date(b"Friday, 31-Dec-99 23:59:59 GMT"),
            Some(946_684_799)
        );
        assert_eq!(
            parse_http_date(b"Saturday, 01-Jan-00 00:00:00 GMT"),
            Some(946_684_800)
        );
        assert_eq!(
            parse_http_date(b"Tuesday, 31-Mar-26 00:00:00 GMT"),
            Some(1_774_915_200)
        );
        // 2076 is 50 years after the reference year: still the future; 2077 is not.
        assert_eq!(
            parse_http_date(b"Wednesday, 01-Jan-76 00:00:00 GMT"),
            Some(3_345_062_400)
        );
        assert_eq!(
            parse_http_date(b"Saturday, 01-Jan-77 00:00:00 GMT"),
            Some(220_924_800)
        );
        assert_eq!(
            parse_http_date(b"Thursday, 01-Jan-60 00:00:00 GMT"),
            Some(2_840_140_800)
        );
    }

    #[test]
    fn rejects_out_of_range_and_malformed() {
        for bad in [
            &b"Sun, 31 Nov 1994 08:49:37 GMT"[..],
            b"Sun, 29 Feb 1900 08:49:37 GMT",
            b"Sun, 00 Nov 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1994 24:00:00 GMT",
            b"Sun, 06 Nov 1994 08:60:00 GMT",
            b"Sun, 06 Nov 1994 08:49:61 GMT",
            b"Sun, 06 Nov 1969 08:49:37 GMT",
            b"Sun, 06 Nov 1994 08:49:37 UTC",
            b"Sun, 06 Xyz 1994 08:49:37 GMT",
            b"Abc, 06 Nov 1994 08:49:37 GMT",
            b"Sun, 6 Nov 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1994 08:49:37 GMT ",
            b"Sun, 06 Nov +994 08:49:37 GMT",
            b"Sunday, 06-Nov-1994 08:49:37 GMT",
            b"Sundae, 06-Nov-94 08:49:37 GMT",
            b"Sun Nov  6 08:49:37 94",
            b"Sun Nov 6  08:49:37 1994",
            b"60",
            b"",
            b",",
        ] {
            assert_eq!(
                parse_http_date(bad),
                None,
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
    }

    #[test]
    fn leap_years_are_the_gregorian_ones() {
        for y in 1969..=10_000u32 {
            let gregorian = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            assert_eq!(is_leap(y), gregorian, "{y}");
        }
    }

    #[test]
    fn days_from_civil_matches_a_day_by_day_count() {
        let mut days = 0;
        for y in 1970..=9999 {
            for m in 1..=12 {
                for d in 1..=days_in_month(y, m) {
                    assert_eq!(days_from_civil(y, m, d), days);
                    days += 1;
                }
            }
        }
    }

    /// The fixed-offset IMF-fixdate reader agrees with the templates on dates with any one
    /// byte changed (case, digits, separators, the zone).
    #[cfg(feature = "fast")]
    #[test]
    fn imf_fixdate_agrees_with_the_templates() {
        let dates: [&[u8]; 4] = [
            b"Sun, 06 Nov 1994 08:49:37 GMT",
            b"Tue, 29 Feb 2000 12:00:00 GMT",
            b"Fri, 31 Dec 9999 23:59:59 GMT",
            b"Thu, 01 Jan 1970 00:00:00 GMT",
        ];
        for date in dates {
            assert!(imf_fixdate(date).is_some());
            for at in 0..date.len() {
                for b in 0..=u8::MAX {
                    let mut s = date.to_vec();
                    s[at] = b;
                    if s.get(3) == Some(&b',') {
                        assert_eq!(imf_fixdate(&s), parse_any(&s), "{s:?}");
                    }
                }
            }
        }
    }

    /// Any three letters where the weekday or the month goes, in any case: the hashed name
    /// tables accept exactly the names the templates accept.
    #[cfg(feature = "fast")]
    #[test]
    fn imf_fixdate_names_agree_with_the_templates() {
        let letters = (b'A'..=b'Z').chain(b'a'..=b'z');
        for at in [0, 8] {
            for a in letters.clone() {
                for b in letters.clone() {
                    for c in letters.clone() {
                        let mut s = *b"Sun, 06 Nov 1994 08:49:37 GMT";
                        s[at..at + 3].copy_from_slice(&[a, b, c]);
                        assert_eq!(imf_fixdate(&s), parse_any(&s), "{s:?}");
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_http_date(&s);
        }

        #[test]
        fn imf_and_asctime_agree(days in 0u64..2_932_896, secs in 0u64..86_400) {
            // Render a timestamp in both formats by brute force and parse it back.
            extern crate std;
            use std::format;
            let t = days * SECS_PER_DAY + secs;
            let (mut y, mut rem) = (1970, days);
            while rem >= if is_leap(y) { 366 } else { 365 } {
                rem -= if is_leap(y) { 366 } else { 365 };
                y += 1;
            }
            let mut m = 1;
            while rem >= u64::from(days_in_month(y, m)) {
                rem -= u64::from(days_in_month(y, m));
                m += 1;
            }
            let d = rem + 1;
            // 1970-01-01 was a Thursday.
            let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
            let mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][(m - 1) as usize];
            let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            let imf = format!("{wd}, {d:02} {mon} {y:04} {h:02}:{mi:02}:{s:02} GMT");
            let asc = format!("{wd} {mon} {d:>2} {h:02}:{mi:02}:{s:02} {y:04}");
            prop_assert_eq!(parse_http_date(imf.as_bytes()), Some(t));
            prop_assert_eq!(parse_http_date(asc.as_bytes()), Some(t));
        }
    }
}
