//! Preferences saved per repository in the user's config directory
//! (`$XDG_CONFIG_HOME/htrac/<fingerprint>/tui.json`, else
//! `~/.config/htrac/<fingerprint>/tui.json`): custom order, filters, the
//! five filter favourites, the toggle counts of the last nine runs (for
//! the "Fav 5", see `toggles`), read/unread marks, the full-ID and tree
//! toggles. A corrupt or missing file gives the defaults; a failed save is
//! reported, never fatal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::app::{App, Toast};
use crate::logic::{Filters, ReadMark};
use crate::toggles::{Counts, MAX_SESSIONS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefs {
    pub display_order: Vec<String>,
    pub hidden_statuses: BTreeSet<String>,
    pub hidden_kinds: BTreeSet<String>,
    pub hidden_tiers: BTreeSet<String>,
    pub hidden_tags: BTreeSet<String>,
    pub hide_tagged: bool,
    pub read_marks: BTreeMap<String, ReadMark>,
    pub full_ids: bool,
    pub tree: bool,
    /// Always `filters::SLOTS` long; `None` is an empty slot.
    pub favourites: Vec<Option<Filters>>,
    /// Toggle counts of the last runs, oldest first (`toggle_sessions`).
    pub toggle_sessions: Vec<Counts>,
}

impl Default for Prefs {
    fn default() -> Prefs {
        Prefs {
            display_order: Vec::new(),
            hidden_statuses: BTreeSet::new(),
            hidden_kinds: BTreeSet::new(),
            hidden_tiers: BTreeSet::new(),
            hidden_tags: BTreeSet::new(),
            hide_tagged: false,
            read_marks: BTreeMap::new(),
            full_ids: false,
            tree: false,
            favourites: vec![None; crate::filters::SLOTS],
            toggle_sessions: Vec::new(),
        }
    }
}

/// A saved filter as JSON.
fn filters_json(f: &Filters) -> Value {
    json!({
        "hidden_statuses": f.hidden_statuses,
        "hidden_kinds": f.hidden_kinds,
        "hidden_tiers": f.hidden_tiers,
        "hidden_tags": f.hidden_tags,
        "hide_tagged": f.hide_tagged,
        "text": f.text,
    })
}

/// A saved filter from JSON (`None` for anything but an object).
fn filters_from(v: &Value) -> Option<Filters> {
    v.as_object()?;
    Some(Filters {
        hidden_statuses: strings(&v["hidden_statuses"]).collect(),
        hidden_kinds: strings(&v["hidden_kinds"]).collect(),
        hidden_tiers: strings(&v["hidden_tiers"]).collect(),
        hidden_tags: strings(&v["hidden_tags"]).collect(),
        hide_tagged: v["hide_tagged"].as_bool().unwrap_or(false),
        text: v["text"].as_str().unwrap_or("").to_string(),
    })
}

/// The preferences file of the tracker at `root` (its `.agent/` directory).
pub fn path_for(root: &Path) -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
    };
    let digest = Sha256::digest(root.to_string_lossy().as_bytes());
    let fp: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Some(base.join("htrac").join(fp).join("tui.json"))
}

/// One run's toggle counts from JSON (entries that are not counts dropped).
fn counts_from(v: &Value) -> Counts {
    v.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, n)| Some((k.clone(), n.as_u64()?)))
        .collect()
}

fn strings(v: &Value) -> impl Iterator<Item = String> + '_ {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
}

impl Prefs {
    pub fn load(path: &Path) -> Prefs {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Prefs::default();
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            return Prefs::default();
        };
        let mut read_marks = BTreeMap::new();
        if let Some(m) = v["human_read_state"].as_object() {
            for (id, s) in m {
                if let (Some(read), Some(len)) = (s["read"].as_bool(), s["discussion_len"].as_u64())
                {
                    read_marks.insert(
                        id.clone(),
                        ReadMark {
                            read,
                            discussion_len: len as usize,
                        },
                    );
                }
            }
        }
        Prefs {
            display_order: strings(&v["display_order"]).collect(),
            hidden_statuses: strings(&v["hidden_statuses"]).collect(),
            hidden_kinds: strings(&v["hidden_kinds"]).collect(),
            hidden_tiers: strings(&v["hidden_tiers"]).collect(),
            hidden_tags: strings(&v["hidden_tags"]).collect(),
            hide_tagged: v["hide_tagged"].as_bool().unwrap_or(false),
            read_marks,
            full_ids: v["full_ids"].as_bool().unwrap_or(false),
            tree: v["tree"].as_bool().unwrap_or(false),
            favourites: (0..crate::filters::SLOTS)
                .map(|n| filters_from(&v["filter_favourites"][n]))
                .collect(),
            toggle_sessions: load_sessions(&v),
        }
    }

    pub fn to_json(&self) -> Value {
        let skip = self.toggle_sessions.len().saturating_sub(MAX_SESSIONS);
        let marks: serde_json::Map<String, Value> = self
            .read_marks
            .iter()
            .map(|(id, m)| {
                (
                    id.clone(),
                    json!({"read": m.read, "discussion_len": m.discussion_len}),
                )
            })
            .collect();
        json!({
            "version": 1,
            "display_order": self.display_order,
            "hidden_statuses": self.hidden_statuses,
            "hidden_kinds": self.hidden_kinds,
            "hidden_tiers": self.hidden_tiers,
            "hidden_tags": self.hidden_tags,
            "hide_tagged": self.hide_tagged,
            "human_read_state": marks,
            "full_ids": self.full_ids,
            "tree": self.tree,
            "filter_favourites": self
                .favourites
                .iter()
                .map(|f| f.as_ref().map_or(Value::Null, filters_json))
                .collect::<Vec<_>>(),
            "toggle_sessions": self.toggle_sessions[skip..],
        })
    }

    /// Writes a temp file and renames it over the old one.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let text = serde_json::to_string_pretty(&self.to_json()).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text + "\n")?;
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

/// The last runs' toggle counts; a file from before they were kept has
/// none. The reference's older flat `toggle_counts` map counts as one run.
fn load_sessions(v: &Value) -> Vec<Counts> {
    let mut runs: Vec<Counts> = v["toggle_sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(counts_from)
        .collect();
    if runs.is_empty() {
        runs.extend(Some(counts_from(&v["toggle_counts"])).filter(|c| !c.is_empty()));
    }
    let skip = runs.len().saturating_sub(MAX_SESSIONS);
    runs.split_off(skip)
}

impl App {
    /// Saves the preferences; a failure is a toast.
    pub fn save_prefs(&mut self) {
        let Some(path) = self.prefs_path.clone() else {
            return;
        };
        let prefs = Prefs {
            display_order: self.order.clone(),
            hidden_statuses: self.filters.hidden_statuses.clone(),
            hidden_kinds: self.filters.hidden_kinds.clone(),
            hidden_tiers: self.filters.hidden_tiers.clone(),
            hidden_tags: self.filters.hidden_tags.clone(),
            hide_tagged: self.filters.hide_tagged,
            read_marks: self.marks.clone(),
            full_ids: self.full_ids,
            tree: self.tree,
            favourites: self.favourites.clone(),
            toggle_sessions: self.toggles.sessions(),
        };
        if let Err(e) = prefs.save(&path) {
            self.toast = Some(Toast {
                text: format!("preferences not saved: {e}"),
                error: true,
                until: std::time::Instant::now() + std::time::Duration::from_secs(6),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corrupt_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/tui.json");
        let mut p = Prefs {
            display_order: vec!["WI-b".into(), "WI-a".into()],
            full_ids: true,
            ..Prefs::default()
        };
        p.hidden_statuses.insert("done".into());
        p.read_marks.insert(
            "WI-a".into(),
            ReadMark {
                read: true,
                discussion_len: 3,
            },
        );
        let mut fav = Filters {
            hide_tagged: true,
            text: "parser".into(),
            ..Filters::default()
        };
        fav.hidden_tags.insert("docs".into());
        p.favourites[1] = Some(fav);
        p.toggle_sessions = vec![[("status:done".to_string(), 2)].into()];
        p.save(&path).unwrap();
        assert_eq!(Prefs::load(&path), p);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\"filter_favourites\": [\n    null,"),
            "{text}"
        );
        // No toggle_sessions: none; the reference's flat toggle_counts is one run.
        std::fs::write(&path, r#"{"toggle_counts": {"tag:a": 4, "x": "no"}}"#).unwrap();
        let old = Prefs::load(&path);
        assert_eq!(old.toggle_sessions, vec![[("tag:a".to_string(), 4)].into()]);
        std::fs::write(&path, r#"{"tree": true}"#).unwrap();
        assert!(Prefs::load(&path).toggle_sessions.is_empty());
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(Prefs::load(&path), Prefs::default());
        assert_eq!(Prefs::load(&dir.path().join("missing")), Prefs::default());
    }
}
