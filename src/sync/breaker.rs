//! The circuit breaker and the record of the last sync, in
//! `htrac-sync-state.json` in the git common dir.
//!
//! Each failure is counted and starts a cooldown during which auto-sync
//! does not try again. After [`MAX_FAILURES`] consecutive failures
//! auto-sync turns itself off until a manual `htrac sync` succeeds. A
//! success resets everything. The file is only written under the sync lock.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// Consecutive failures after which auto-sync switches itself off.
pub const MAX_FAILURES: u32 = 3;

/// Whether auto-sync may run now.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    Open,
    /// Seconds left of the cooldown after a failure.
    Cooling(u64),
    /// Switched off after too many failures.
    Off,
}

/// The persisted state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    /// Unix seconds of the last attempt (success or failure).
    pub last_attempt: i64,
    /// The last result, as shown by `sync --status`.
    pub last: Option<Value>,
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl State {
    pub fn path(common_dir: &Path) -> PathBuf {
        common_dir.join("htrac-sync-state.json")
    }

    /// Reads the state; a missing or unreadable file is a fresh state.
    pub fn load(common_dir: &Path) -> State {
        let Ok(text) = std::fs::read_to_string(State::path(common_dir)) else {
            return State::default();
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            return State::default();
        };
        State {
            consecutive_failures: v["consecutive_failures"].as_u64().unwrap_or(0) as u32,
            last_error: v["last_error"].as_str().map(str::to_string),
            last_attempt: v["last_attempt"].as_i64().unwrap_or(0),
            last: v.get("last").filter(|l| !l.is_null()).cloned(),
        }
    }

    pub fn save(&self, common_dir: &Path) -> std::io::Result<()> {
        let v = json!({
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "last_attempt": self.last_attempt,
            "last": self.last,
        });
        let text = format!("{}\n", crate::py::json::pretty(&v));
        crate::atomic::replace_or_rewrite(&State::path(common_dir), text.as_bytes(), 0o664)
    }

    pub fn gate(&self, now: i64, cooldown: u64) -> Gate {
        if self.consecutive_failures >= MAX_FAILURES {
            return Gate::Off;
        }
        if self.consecutive_failures > 0 {
            let until = self.last_attempt.saturating_add(cooldown as i64);
            if now < until {
                return Gate::Cooling((until - now) as u64);
            }
        }
        Gate::Open
    }

    pub fn record_success(&mut self, now: i64, last: Value) {
        self.consecutive_failures = 0;
        self.last_error = None;
        self.last_attempt = now;
        self.last = Some(last);
    }

    /// Counts a failure; true when this one switched auto-sync off.
    pub fn record_failure(&mut self, now: i64, error: &str, last: Value) -> bool {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.last_error = Some(error.to_string());
        self.last_attempt = now;
        self.last = Some(last);
        self.consecutive_failures == MAX_FAILURES
    }

    /// The breaker as `sync --status --json` shows it.
    pub fn to_json(&self, now: i64, cooldown: u64) -> Value {
        let (state, remaining) = match self.gate(now, cooldown) {
            Gate::Open => ("closed", 0),
            Gate::Cooling(s) => ("cooling", s),
            Gate::Off => ("off", 0),
        };
        json!({
            "state": state,
            "auto_sync": state != "off",
            "consecutive_failures": self.consecutive_failures,
            "max_failures": MAX_FAILURES,
            "cooldown_remaining_seconds": remaining,
            "last_error": self.last_error,
        })
    }
}

/// The loud line printed while auto-sync is off.
pub fn off_message(state: &State) -> String {
    format!(
        "auto-sync: OFF after {} consecutive failures (last: {}). Tracker ops are NOT reaching the remote. \
         Fix the cause, then run 'htrac sync' (a success turns auto-sync back on); 'htrac sync --status' shows details.",
        state.consecutive_failures,
        state.last_error.as_deref().unwrap_or("unknown error")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_failures_turn_it_off_and_a_success_resets() {
        let mut s = State::default();
        assert_eq!(s.gate(100, 60), Gate::Open);
        assert!(!s.record_failure(100, "boom", Value::Null));
        assert_eq!(s.gate(130, 60), Gate::Cooling(30));
        assert_eq!(s.gate(160, 60), Gate::Open);
        assert!(!s.record_failure(200, "boom", Value::Null));
        assert!(s.record_failure(300, "boom3", Value::Null));
        assert_eq!(s.gate(10_000, 60), Gate::Off);
        assert!(off_message(&s).contains("boom3"));
        s.record_success(400, json!({"ok": true}));
        assert_eq!(s.gate(400, 60), Gate::Open);
        assert_eq!(s.consecutive_failures, 0);
    }

    #[test]
    fn round_trips_through_its_file_and_tolerates_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = State::default();
        s.record_failure(5, "no route", json!({"ok": false}));
        s.save(dir.path()).unwrap();
        assert_eq!(State::load(dir.path()), s);
        std::fs::write(State::path(dir.path()), "{nope").unwrap();
        assert_eq!(State::load(dir.path()), State::default());
    }
}
