//! One flag's or argument's value, and its parsing into the domain types
//! commands take (whole numbers, limits, tiers, days, durations, `KEY=VALUE`),
//! each with the error the command line has always given for it.

use htrac::{Error, Result, Tier};

/// A value as typed, with the flag (or argument) it was given for.
pub struct Value {
    /// The flag's long name (`priority`), or the argument's name.
    pub name: &'static str,
    pub text: String,
}

impl Value {
    /// A whole number (surrounding spaces allowed).
    pub fn whole(&self) -> Result<i64> {
        let (long, v) = (self.name, &self.text);
        v.trim().parse::<i64>().map_err(|_| {
            Error::user(format!("--{long} takes a whole number, got '{v}'"))
                .with_hint(format!("e.g. --{long} 2"))
        })
    }

    /// A row limit: `None` for 0 (no limit); a negative one is refused
    /// (the library's [`htrac::items::filter::limit`], the flag named).
    pub fn limit(&self) -> Result<Option<usize>> {
        htrac::items::filter::limit(Some(self.whole()?)).map_err(|e| {
            let message = e.text(|_| format!("--{}", self.name));
            Error {
                message,
                field: None,
                ..e
            }
        })
    }

    /// A count of at least `min`; the hint suggests `example` (the default).
    pub fn at_least(&self, min: usize, example: usize) -> Result<usize> {
        let long = self.name;
        match self.whole()? {
            n if n >= min as i64 => Ok(n as usize),
            n => Err(
                Error::user(format!("--{long} must be at least {min}, got {n}"))
                    .with_hint(format!("e.g. --{long} {example}")),
            ),
        }
    }

    pub fn tier(&self) -> Result<Tier> {
        let t = &self.text;
        Tier::parse(t).ok_or_else(|| {
            Error::user(format!("unknown tier '{t}'"))
                .with_hint("use canonical, workspace or stealth")
        })
    }

    /// A UTC day (`YYYY-MM-DD`) as a day number.
    pub fn day(&self) -> Result<i64> {
        let (long, v) = (self.name, &self.text);
        htrac::insight::trend::parse_day(v).ok_or_else(|| {
            Error::user(format!("--{long} expects YYYY-MM-DD, got '{v}'"))
                .with_hint(format!("e.g. --{long} 2026-01-31 (a UTC day)"))
        })
    }

    /// A duration: `90s`, `45m`, `4h`, `2d` or a number of seconds.
    pub fn duration(&self) -> Result<u64> {
        let long = self.name;
        htrac::claims::parse_lease(&self.text)
            .map(|d| d.as_secs())
            .map_err(|e| {
                Error::user(format!("--{long}: {}", e.message))
                    .with_hint(format!("e.g. --{long} 300, --{long} 5m or --{long} 2h"))
            })
    }

    /// A duration in seconds: `30m`, `1h`, `600s` or `600`.
    pub fn seconds(&self) -> Result<i64> {
        htrac::tracker::editmode::parse_ttl(&self.text)
    }

    /// A `KEY=VALUE` pair (split at the first `=`).
    pub fn key_value(self) -> Result<(String, String)> {
        let long = self.name;
        match self.text.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(
                Error::user(format!("--{long} must be key=value, got '{}'", self.text))
                    .with_hint(format!("write --{long} name=value")),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &'static str, text: &str) -> Value {
        Value {
            name,
            text: text.into(),
        }
    }

    fn message(r: Result<impl std::fmt::Debug>) -> String {
        let e = r.unwrap_err();
        crate::error_lines(&e)
    }

    #[test]
    fn whole_numbers_and_their_error() {
        assert_eq!(v("priority", " 3 ").whole().unwrap(), 3);
        assert_eq!(v("priority", "-1").whole().unwrap(), -1);
        assert_eq!(
            message(v("priority", "high").whole()),
            "error: --priority takes a whole number, got 'high'\nhint: e.g. --priority 2\n"
        );
    }

    #[test]
    fn limits_and_counts() {
        assert_eq!(v("limit", "0").limit().unwrap(), None);
        assert_eq!(v("limit", "5").limit().unwrap(), Some(5));
        assert_eq!(
            message(v("limit", "-1").limit()),
            "error: --limit must be positive, got -1\n"
        );
        assert_eq!(v("k", "1").at_least(1, 6).unwrap(), 1);
        assert_eq!(
            message(v("k", "0").at_least(1, 6)),
            "error: --k must be at least 1, got 0\nhint: e.g. --k 6\n"
        );
    }

    #[test]
    fn tiers_days_durations_and_pairs() {
        assert_eq!(v("tier", "stealth").tier().unwrap(), Tier::Stealth);
        assert_eq!(
            message(v("tier", "gold").tier()),
            "error: unknown tier 'gold'\nhint: use canonical, workspace or stealth\n"
        );
        assert_eq!(v("since", "1970-01-02").day().unwrap(), 1);
        assert_eq!(
            message(v("since", "2026-02-30").day()),
            "error: --since expects YYYY-MM-DD, got '2026-02-30'\nhint: e.g. --since 2026-01-31 (a UTC day)\n"
        );
        assert_eq!(v("ttl", "2m").seconds().unwrap(), 120);
        assert!(message(v("ttl", "soon").seconds()).contains("cannot read 'soon' as a duration"));
        assert_eq!(
            v("field", "k=v=w").key_value().unwrap(),
            ("k".to_string(), "v=w".to_string())
        );
        assert_eq!(
            message(v("field", "kv").key_value()),
            "error: --field must be key=value, got 'kv'\nhint: write --field name=value\n"
        );
    }
}
