//! The YAML 1.2 implicit-type rules the reference's writer (ruamel.yaml)
//! applies to bare scalars: a string that would read back as null, a bool, a
//! number, a timestamp or a merge key must be quoted. As in ruamel, a rule is
//! only tried when the string starts with one of the rule's first characters.

/// True when the bare text `s` would not read back as the string `s`.
pub fn resolves_to_non_string(s: &str) -> bool {
    let first = s.chars().next();
    let starts = |set: &str| first.is_some_and(|c| set.contains(c));
    (starts("tTfF") && is_bool(s))
        || (starts("-+0123456789.") && is_float(s))
        || (starts("-+0123456789") && is_int(s))
        || s == "<<"
        || (first.is_none() || starts("~nN")) && is_null(s)
        || (starts("0123456789") && is_timestamp(s))
        || s == "="
}

fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

fn is_bool(s: &str) -> bool {
    matches!(s, "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
}

fn strip_sign(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

/// Non-empty and every char satisfies `f`.
fn all(s: &str, f: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(f)
}

fn digits_(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// `[-+]?0b[0-1_]+ | [-+]?0o?[0-7_]+ | [-+]?[0-9_]+ | [-+]?0x[0-9a-fA-F_]+`
fn is_int(s: &str) -> bool {
    let t = strip_sign(s);
    if let Some(b) = t.strip_prefix("0b") {
        if all(b, |c| c == '0' || c == '1' || c == '_') {
            return true;
        }
    }
    if let Some(x) = t.strip_prefix("0x") {
        if all(x, |c| c.is_ascii_hexdigit() || c == '_') {
            return true;
        }
    }
    if let Some(o) = t.strip_prefix("0o") {
        if all(o, |c| ('0'..='7').contains(&c) || c == '_') {
            return true;
        }
    }
    all(t, |c| c.is_ascii_digit() || c == '_')
}

/// An exponent `[eE][-+]?[0-9]+` (sign required when `need_sign`).
fn is_exponent(e: &str, need_sign: bool) -> bool {
    let Some(rest) = e.strip_prefix(['e', 'E']) else {
        return false;
    };
    let unsigned = rest.strip_prefix(['-', '+']);
    match unsigned {
        Some(d) => all(d, |c| c.is_ascii_digit()),
        None => !need_sign && all(rest, |c| c.is_ascii_digit()),
    }
}

fn is_float(s: &str) -> bool {
    let t = strip_sign(s);
    if matches!(t, ".inf" | ".Inf" | ".INF") || matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i..])),
        None => (t, None),
    };
    if let Some(frac) = mantissa.strip_prefix('.') {
        // [-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        return all(frac, |c| c.is_ascii_digit() || c == '_')
            && exponent.is_none_or(|e| is_exponent(e, true));
    }
    if !mantissa.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    match mantissa.split_once('.') {
        // [0-9][0-9_]*\.[0-9_]*(exp)?
        Some((int, frac)) => {
            digits_(int) && digits_(frac) && exponent.is_none_or(|e| is_exponent(e, false))
        }
        // [0-9][0-9_]*(exp) — the exponent is required
        None => digits_(mantissa) && exponent.is_some_and(|e| is_exponent(e, false)),
    }
}

/// `YYYY-MM-DD`, or `YYYY-M[M]-D[D]` with a time `[Tt ]H[H]:MM:SS[.f][ ][Z|±H[H][:MM]]`.
pub(crate) fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let is_d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    if b.len() == 10
        && (0..4).all(is_d)
        && b[4] == b'-'
        && is_d(5)
        && is_d(6)
        && b[7] == b'-'
        && is_d(8)
        && is_d(9)
    {
        return true;
    }
    if b.len() < 5 || !(0..4).all(is_d) || b[4] != b'-' {
        return false;
    }
    let mut i = 5;
    let digits = |i: &mut usize, min: usize, max: usize| -> bool {
        let start = *i;
        while *i < b.len() && *i - start < max && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start >= min
    };
    if !digits(&mut i, 1, 2) || b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    if !digits(&mut i, 1, 2) {
        return false;
    }
    match b.get(i) {
        Some(b'T') | Some(b't') => i += 1,
        Some(b' ') | Some(b'\t') => {
            while matches!(b.get(i), Some(b' ') | Some(b'\t')) {
                i += 1;
            }
        }
        _ => return false,
    }
    if !digits(&mut i, 1, 2) || b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    if !digits(&mut i, 2, 2) || b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    if !digits(&mut i, 2, 2) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while is_d(i) {
            i += 1;
        }
    }
    if i == b.len() {
        return true;
    }
    while matches!(b.get(i), Some(b' ') | Some(b'\t')) {
        i += 1;
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+') | Some(b'-') => {
            i += 1;
            if !digits(&mut i, 1, 2) {
                return false;
            }
            if b.get(i) == Some(&b':') {
                i += 1;
                if !digits(&mut i, 2, 2) {
                    return false;
                }
            }
            i == b.len()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_words() {
        for s in [
            "8293", "2e71", "0b11", "1_000", "-1", "+1", "1.5", ".5", "1e10", ".inf", "-.inf",
            ".nan", "0x1f", "0o17", "017",
        ] {
            assert!(resolves_to_non_string(s), "{s}");
        }
        for s in [
            "0b9d", "abcd", "1a2b", "WI-foo", "e123", "1.2.3", "-", "0x", "0b", "nan", "inf", "_1",
            "yes", "1:20", ".5e3",
        ] {
            assert!(!resolves_to_non_string(s), "{s}");
        }
        for s in [
            "null",
            "~",
            "",
            "true",
            "False",
            "2026-01-01",
            "2026-11-24T19:41:13Z",
            "2001-12-14 21:59:43.10 -5",
        ] {
            assert!(resolves_to_non_string(s), "{s}");
        }
        assert!(!resolves_to_non_string("2026-1-1"));
    }
}
