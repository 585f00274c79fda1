//! UTC timestamps as ops record them: `YYYY-MM-DDTHH:MM:SSZ`, whole seconds
//! (item ops), or with microseconds `YYYY-MM-DDTHH:MM:SS.ffffffZ` (edit-mode
//! windows and the message ops they authorise).
/// Seconds since the Unix epoch, or `None` when `s` is not a timestamp.
pub fn parse_utc(s: &str) -> Option<i64> {
    let s = s.trim_end_matches('Z');
    let (date, time) = s.split_once(['T', ' '])?;
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let m: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    let time = time.split(['+', '.']).next()?;
    let mut t = time.split(':');
    let hh: i64 = t.next()?.parse().ok()?;
    let mm: i64 = t.next()?.parse().ok()?;
    let ss: i64 = t.next().unwrap_or("0").parse().ok()?;
    let in_range = (0..=9999).contains(&y)
        && (1..=12).contains(&m)
        && (1..=31).contains(&day)
        && (0..=24).contains(&hh)
        && (0..=59).contains(&mm)
        && (0..=60).contains(&ss);
    if !in_range {
        return None;
    }
    Some(days_from_civil(y, m, day) * 86400 + hh * 3600 + mm * 60 + ss)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch.
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let z = days + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    format_utc(secs)
}

/// Microseconds since the Unix epoch, or `None` when `s` is not a timestamp.
/// Fractional seconds (any number of digits) are kept to the microsecond.
pub fn parse_utc_micros(s: &str) -> Option<i64> {
    let secs = parse_utc(s)?;
    let frac = s
        .trim_end_matches('Z')
        .split_once(['T', ' '])
        .and_then(|(_, t)| t.split('+').next())
        .and_then(|t| t.split_once('.'))
        .map(|(_, f)| f)
        .unwrap_or("");
    let mut micros = 0i64;
    for (i, c) in frac.chars().take(6).enumerate() {
        let d = c.to_digit(10)? as i64;
        micros += d * 10i64.pow(5 - i as u32);
    }
    Some(secs * 1_000_000 + micros)
}

/// The current time as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub fn now_utc_micros() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let whole = format_utc(d.as_secs() as i64);
    format!("{}.{:06}Z", whole.trim_end_matches('Z'), d.subsec_micros())
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, as writers record times.
pub(crate) fn is_canonical_time(at: &str) -> bool {
    let b = at.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() < 20 || !at.ends_with('Z') {
        return false;
    }
    let base = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    base && (b.len() == 20 || (b[19] == b'.' && b.len() > 21 && digits(20..b.len() - 1)))
}

/// Does `at` read as a time ([`parse_utc`])? Told from the digits when it
/// is written as writers write it ([`is_canonical_time`]).
pub(crate) fn valid_time(at: &str) -> bool {
    if !is_canonical_time(at) {
        return parse_utc(at).is_some();
    }
    let n = |r: std::ops::Range<usize>| at[r].parse::<u32>().unwrap_or(u32::MAX);
    (1..=12).contains(&n(5..7))
        && (1..=31).contains(&n(8..10))
        && n(11..13) <= 24
        && n(14..16) <= 59
        && n(17..19) <= 60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_times() {
        assert!(is_canonical_time("2026-11-24T19:41:13Z"));
        assert!(is_canonical_time("2026-11-24T19:41:13.123456Z"));
        assert!(!is_canonical_time("2026-11-24 19:41:13Z"));
        assert!(!is_canonical_time("2026-11-24T19:41:13+00:00"));
        assert!(!is_canonical_time("2026-11-24T19:41:13.Z"));
    }

    proptest::proptest! {
        #[test]
        fn times_in_the_writers_layout_are_judged_as_parse_utc_judges_them(
            y in "[0-9]{4}", m in "[0-9]{2}", d in "[0-9]{2}", h in "[0-9]{2}", mi in "[0-9]{2}", sec in "[0-9]{2}", frac in "(\\.[0-9]{1,6})?"
        ) {
            let at = format!("{y}-{m}-{d}T{h}:{mi}:{sec}{frac}Z");
            proptest::prop_assert!(is_canonical_time(&at));
            proptest::prop_assert_eq!(valid_time(&at), parse_utc(&at).is_some(), "{}", at);
        }
    }

    #[test]
    fn times_not_in_the_writers_layout_are_left_to_parse_utc() {
        for at in [
            "2026-01-05 10:00:00+00:00",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-1-5T1:2:3Z",
            "",
        ] {
            assert_eq!(valid_time(at), parse_utc(at).is_some(), "{at}");
        }
    }

    #[test]
    fn micros_keep_the_fraction() {
        let base = parse_utc("2026-11-25T10:00:00Z").unwrap() * 1_000_000;
        assert_eq!(parse_utc_micros("2026-11-25T10:00:00Z"), Some(base));
        assert_eq!(
            parse_utc_micros("2026-11-25T10:00:00.5Z"),
            Some(base + 500_000)
        );
        assert_eq!(
            parse_utc_micros("2026-11-25T10:00:00.000123Z"),
            Some(base + 123)
        );
        assert_eq!(parse_utc_micros("2026-11-25T10:00:00.x1Z"), None);
        let now = now_utc_micros();
        assert_eq!(now.len(), "2026-11-25T10:00:00.000000Z".len());
        assert!(parse_utc_micros(&now).is_some());
    }
}
