//! The YAML implicit-type rules the reference's writer applies to bare
//! scalars: a string that would read back as null, a bool, a number, a
//! timestamp or a merge key must be quoted.

/// True when the bare text `s` would not read back as the string `s`.
pub fn resolves_to_non_string(s: &str) -> bool {
    is_null(s) || is_bool(s) || is_int(s) || is_float(s) || is_timestamp(s) || s == "<<" || s == "="
}

fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

fn is_bool(s: &str) -> bool {
    matches!(
        s,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "yes" | "Yes" | "YES" | "no" | "No" | "NO" | "on"
            | "On" | "ON" | "off" | "Off" | "OFF" | "y" | "Y" | "n" | "N"
    )
}

fn strip_sign(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

fn all(s: &str, f: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(f)
}

fn is_int(s: &str) -> bool {
    let t = strip_sign(s);
    if let Some(b) = t.strip_prefix("0b") {
        return all(b, |c| c == '0' || c == '1' || c == '_');
    }
    if let Some(x) = t.strip_prefix("0x") {
        return all(x, |c| c.is_ascii_hexdigit() || c == '_');
    }
    if let Some(o) = t.strip_prefix("0o") {
        return all(o, |c| ('0'..='7').contains(&c) || c == '_');
    }
    // Sexagesimal integers of YAML 1.1 (`1:30`).
    if t.contains(':') {
        let mut parts = t.split(':');
        let head = parts.next().unwrap_or("");
        return all(head, |c| c.is_ascii_digit() || c == '_')
            && head.starts_with(|c: char| ('1'..='9').contains(&c))
            && parts.all(|p| p.len() <= 2 && all(p, |c| c.is_ascii_digit()) && p.parse::<u32>().map(|n| n < 60).unwrap_or(false));
    }
    all(t, |c| c.is_ascii_digit() || c == '_')
}

fn is_float(s: &str) -> bool {
    let t = strip_sign(s);
    if matches!(t, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // mantissa: digits[_digits]* [. digits_*]  or  . digits
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    if let Some(e) = exponent {
        let e = strip_sign(e);
        if !all(e, |c| c.is_ascii_digit()) {
            return false;
        }
    }
    match mantissa.find('.') {
        Some(i) => {
            let (int_part, frac) = (&mantissa[..i], &mantissa[i + 1..]);
            let int_ok = int_part.is_empty() || (int_part.starts_with(|c: char| c.is_ascii_digit()) && all(int_part, |c| c.is_ascii_digit() || c == '_'));
            let frac_ok = frac.chars().all(|c| c.is_ascii_digit() || c == '_');
            if int_part.is_empty() {
                // `.5`, `.5e+3`
                int_ok && !frac.is_empty() && frac_ok
            } else {
                int_ok && frac_ok
            }
        }
        None => exponent.is_some() && mantissa.starts_with(|c: char| c.is_ascii_digit()) && all(mantissa, |c| c.is_ascii_digit() || c == '_'),
    }
}

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // YYYY-M[M]-D[D]
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut i = 5;
    let digits = |i: &mut usize, max: usize| {
        let start = *i;
        while *i < b.len() && *i - start < max && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if digits(&mut i, 2) == 0 || i >= b.len() || b[i] != b'-' {
        return false;
    }
    i += 1;
    if digits(&mut i, 2) == 0 {
        return false;
    }
    if i == b.len() {
        return true;
    }
    // A time part: [Tt] or spaces, then H[H]:MM:SS
    if b[i] == b'T' || b[i] == b't' {
        i += 1;
    } else if b[i] == b' ' || b[i] == b'\t' {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
    } else {
        return false;
    }
    if digits(&mut i, 2) == 0 || i >= b.len() || b[i] != b':' {
        return false;
    }
    i += 1;
    if digits(&mut i, 2) != 2 || i >= b.len() || b[i] != b':' {
        return false;
    }
    i += 1;
    if digits(&mut i, 2) != 2 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    if i == b.len() {
        return true;
    }
    if b[i] == b'Z' {
        return i + 1 == b.len();
    }
    if b[i] == b'+' || b[i] == b'-' {
        i += 1;
        if digits(&mut i, 2) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b':' {
            i += 1;
            if digits(&mut i, 2) != 2 {
                return false;
            }
        }
        return i == b.len();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_words() {
        for s in ["8293", "2e71", "0b11", "1_000", "-1", "+1", "1.5", ".5", "1e10", ".inf", "-.inf", ".nan", "0x1f", "0o17"] {
            assert!(resolves_to_non_string(s), "{s}");
        }
        for s in ["0b9d", "abcd", "1a2b", "WI-foo", "e123", "1.2.3", "-", "0x", "0b", "nan", "inf"] {
            assert!(!resolves_to_non_string(s), "{s}");
        }
        for s in ["null", "~", "", "true", "False", "2026-01-01", "2026-11-24T19:41:13Z", "2001-12-14 21:59:43.10 -5"] {
            assert!(resolves_to_non_string(s), "{s}");
        }
    }
}
