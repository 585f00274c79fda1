//! Reading the reference's legacy markdown ledgers into items: the
//! invariant ledger (`## INV-NNN: title` and `## META-NNN: title` entries
//! with `- **Field:** value` lines) and the work-items backlog (`## Category`
//! sections of `- **DONE|DEFERRED|TODO!|TODO** text` lines), line by line
//! as the reference's parser reads them, so both give the same items and
//! therefore the same content-hash IDs.

use serde_json::{Map, Value};

/// One item read from a ledger, before it becomes a create op.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedItem {
    /// Where it came from: `INV-001`, `INV-001-pg-0`, `wi-ci-infrastructure-3`.
    pub source_id: String,
    pub kind: String,
    pub title: String,
    pub status: String,
    pub priority: i64,
    pub description: String,
    pub fields: Map<String, Value>,
    pub tags: Vec<String>,
    pub pr_ref: Option<String>,
    /// The source ID of the parent (pending generalizations of an entry).
    pub parent_source_id: Option<String>,
}

/// Python's `str.strip()` whitespace (Unicode, plus the separators 0x1c-0x1f).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// A ledger status as a tracker status (unknown ones are `todo_hard`).
pub fn normalize_status(raw: &str) -> &'static str {
    let mut s = strip(raw);
    if let Some(rest) = s.strip_prefix('✅').or_else(|| s.strip_prefix('⬛')) {
        s = rest.trim_start_matches(is_py_space);
    }
    let up = s.to_uppercase();
    if up.starts_with("FIXED") {
        return "done";
    }
    if up.contains("WON'T DO") || up.contains("WONT DO") {
        return "wont_do";
    }
    match up.as_str() {
        "UNFIXED" | "TBD" | "TODO!" => return "todo_hard",
        "DONE" => return "done",
        "DEFERRED" | "TODO" => return "todo_soft",
        _ => {}
    }
    if up.starts_with("PARTIALLY ADDRESSED") {
        return "in_progress";
    }
    // A leading percentage: 100% or more is done, less is in progress.
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if !digits.is_empty() && s[digits.len()..].starts_with('%') {
        let trimmed = digits.trim_start_matches('0');
        let full = trimmed.len() > 3 || trimmed.parse::<u32>().is_ok_and(|n| n >= 100);
        return if full { "done" } else { "in_progress" };
    }
    "todo_hard"
}

/// The priority a migrated status gets: 0 for hard to-dos, 1 for soft ones
/// and work in progress, 4 for finished items.
pub fn assign_priority(status: &str) -> i64 {
    match status {
        "todo_hard" => 0,
        "todo_soft" | "in_progress" => 1,
        _ => 4,
    }
}

/// A section header as a tag: a trailing parenthetical dropped, lower-cased,
/// runs of anything but `[a-z0-9]` made one `_`, edges trimmed.
pub fn category_to_tag(category: &str) -> String {
    let mut s = category;
    // A final "(...)" (no ")" inside), with the whitespace around it.
    if let Some(close) = s.rfind(')') {
        if s[close + 1..].chars().all(is_py_space) {
            let before = &s[..close];
            let open_floor = before.rfind(')').map(|i| i + 1).unwrap_or(0);
            if let Some(open) = before[open_floor..].find('(').map(|i| i + open_floor) {
                s = s[..open].trim_end_matches(is_py_space);
            }
        }
    }
    let lower = s.to_lowercase();
    let mut out = String::new();
    for c in lower.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// `#{2,3} PREFIX-digits: title` → (source ID, title).
fn entry_header<'a>(line: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let hashes = line.len() - line.trim_start_matches('#').len();
    if !(2..=3).contains(&hashes) {
        return None;
    }
    let rest = &line[hashes..];
    let after_ws = rest.trim_start_matches(is_py_space);
    if after_ws.len() == rest.len() {
        return None;
    }
    let id_digits = after_ws.strip_prefix(prefix)?.strip_prefix('-')?;
    let n = id_digits.len()
        - id_digits
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .len();
    if n == 0 {
        return None;
    }
    let after_id = id_digits[n..].strip_prefix(':')?;
    let title = after_id.trim_start_matches(is_py_space);
    if title.len() == after_id.len() || title.is_empty() {
        return None;
    }
    let id = &after_ws[..prefix.len() + 1 + n];
    Some((id, strip(title)))
}

/// `- **Name:** value` → (name, value), both stripped.
fn field_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('-')?;
    let body = rest.trim_start_matches(is_py_space);
    if body.len() == rest.len() {
        return None;
    }
    let body = body.strip_prefix("**")?;
    let end = body.find('*')?;
    let name = body[..end].strip_suffix(':').filter(|n| !n.is_empty())?;
    // `[^*]+` stops at the first '*', which must open the closing "**".
    let value = body[end..].strip_prefix("**")?;
    // The ':' belonged to the name part, so `[^*]+` matched "name:" whole.
    Some((strip(name), strip(value)))
}

/// `> "statement"` → the text between the first and the last quote.
fn blockquote(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('>')?;
    let body = rest.trim_start_matches(is_py_space);
    if body.len() == rest.len() {
        return None;
    }
    let inner = body.strip_prefix('"')?;
    let close = inner.rfind('"')?;
    (close > 0).then(|| &inner[..close])
}

#[derive(Default)]
struct Entry {
    source_id: String,
    kind: &'static str,
    title: String,
    raw_status: String,
    fields: Map<String, Value>,
    description: Vec<String>,
    regression_tests: Vec<String>,
    pending: Vec<String>,
}

/// Which part of an entry continuation lines extend.
#[derive(Clone, PartialEq)]
enum Target {
    Tests,
    Pending,
    Description,
    Field(String),
}

const INV_FIELDS: &[(&str, &str)] = &[
    ("Statement", "statement"),
    ("Root cause", "root_cause"),
    ("Fix", "fix"),
    ("Verification", "verification"),
];

const DESCRIPTION_FIELDS: &[&str] = &[
    "Limitation",
    "Trade-offs",
    "Discovery",
    "Architecture decision",
    "Impact",
    "Resolution",
    "Enhanced fix",
    "Enhanced fix (v2)",
    "Original fix",
    "Fix 2",
    "Related",
];

fn finish(e: Entry, items: &mut Vec<ParsedItem>) {
    let status = normalize_status(&e.raw_status);
    let mut fields = e.fields;
    if !e.regression_tests.is_empty() {
        fields.insert(
            "regression_tests".into(),
            Value::Array(e.regression_tests.into_iter().map(Value::String).collect()),
        );
    }
    items.push(ParsedItem {
        source_id: e.source_id.clone(),
        kind: e.kind.into(),
        title: e.title,
        status: status.into(),
        priority: assign_priority(status),
        description: e.description.join("\n\n"),
        fields,
        tags: Vec::new(),
        pr_ref: None,
        parent_source_id: None,
    });
    for (idx, text) in e.pending.into_iter().enumerate() {
        let up = text.to_uppercase();
        let status = if up.starts_with("**DONE") {
            "done"
        } else if up.starts_with("**TODO!") {
            "todo_hard"
        } else {
            "todo_soft"
        };
        items.push(ParsedItem {
            source_id: format!("{}-pg-{idx}", e.source_id),
            kind: e.kind.into(),
            title: text,
            status: status.into(),
            priority: assign_priority(status),
            description: String::new(),
            fields: Map::new(),
            tags: Vec::new(),
            pr_ref: None,
            parent_source_id: Some(e.source_id.clone()),
        });
    }
}

/// The INV and META entries of an invariant ledger, each followed by the
/// child items of its pending generalizations.
pub fn parse_invariant_ledger(content: &str) -> Vec<ParsedItem> {
    let mut items = Vec::new();
    let mut current: Option<Entry> = None;
    let mut target: Option<Target> = None;
    for line in content.split('\n') {
        let s = strip(line);
        let header = entry_header(s, "INV")
            .map(|h| (h, "invariant"))
            .or_else(|| entry_header(s, "META").map(|h| (h, "meta_invariant")));
        if let Some(((id, title), kind)) = header {
            if let Some(e) = current.take() {
                finish(e, &mut items);
            }
            current = Some(Entry {
                source_id: id.into(),
                kind,
                title: title.into(),
                ..Entry::default()
            });
            target = None;
            continue;
        }
        if s == "---" {
            if let Some(e) = current.take() {
                finish(e, &mut items);
            }
            target = None;
            continue;
        }
        let Some(e) = current.as_mut() else { continue };
        if e.kind == "meta_invariant" {
            if let Some(statement) = blockquote(s) {
                e.fields
                    .insert("statement".into(), Value::String(statement.into()));
                target = None;
                continue;
            }
        }
        if let Some((name, value)) = field_line(s) {
            target = field(e, name, value);
            continue;
        }
        let Some(t) = target.as_ref() else { continue };
        if s.is_empty() || s.starts_with('#') {
            continue;
        }
        let cont = strip(s.trim_start_matches(['-', ' ']));
        match t {
            Target::Tests => {
                if let Some(inner) = cont.strip_prefix('`') {
                    if let Some(close) = inner.rfind('`').filter(|c| *c > 0) {
                        e.regression_tests.push(inner[..close].into());
                    }
                }
            }
            Target::Pending => {
                if !cont.is_empty() && cont.to_lowercase() != "none" {
                    e.pending.push(cont.into());
                }
            }
            Target::Description => e.description.push(cont.into()),
            Target::Field(key) => {
                if let Some(Value::String(v)) = e.fields.get_mut(key) {
                    v.push(' ');
                    v.push_str(cont);
                }
            }
        }
    }
    if let Some(e) = current.take() {
        finish(e, &mut items);
    }
    items
}

/// Records one `- **Name:** value` line; returns what continuation lines extend.
fn field(e: &mut Entry, name: &str, value: &str) -> Option<Target> {
    let inv = e.kind == "invariant";
    if name == "Status" {
        e.raw_status = value.into();
        return None;
    }
    if name == "Regression tests" {
        return Some(Target::Tests);
    }
    if name == "Pending Generalizations" {
        if value.is_empty() {
            return Some(Target::Pending);
        }
        if value.to_lowercase().starts_with("none") {
            return None;
        }
        e.pending.push(value.into());
        return Some(Target::Pending);
    }
    if let Some((_, key)) = INV_FIELDS.iter().find(|(n, _)| *n == name).filter(|_| inv) {
        e.fields.insert((*key).into(), Value::String(value.into()));
        return Some(Target::Field((*key).into()));
    }
    if DESCRIPTION_FIELDS.contains(&name) {
        e.description.push(format!("{name}: {value}"));
    } else if !value.is_empty() {
        if name == "Notes" && !inv {
            e.description.push(value.into());
        } else if name.starts_with("Unified by") {
            e.description.push(format!("Unified by: {value}"));
        } else {
            e.description.push(format!("{name}: {value}"));
        }
    }
    Some(Target::Description)
}

/// `- **STATUS** rest` of a work-items file → (status word, rest).
fn work_item_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('-')?;
    let body = rest.trim_start_matches(is_py_space);
    if body.len() == rest.len() {
        return None;
    }
    let body = body.strip_prefix("**")?;
    for word in ["DONE", "DEFERRED", "TODO!", "TODO"] {
        if let Some(after) = body.strip_prefix(word).and_then(|b| b.strip_prefix("**")) {
            return Some((word, strip(after)));
        }
    }
    None
}

/// A leading `(... PR ...)` of a work item: (the text inside, the rest).
fn leading_pr_ref(rest: &str) -> Option<(&str, &str)> {
    let inner = rest.strip_prefix('(')?;
    let close = inner.find(')')?;
    let text = &inner[..close];
    text.contains("PR").then(|| (text, &inner[close + 1..]))
}

/// The items of a work-items backlog, tagged with their section.
pub fn parse_work_items(content: &str) -> Vec<ParsedItem> {
    let mut items = Vec::new();
    let mut category: Option<String> = None;
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    for line in content.split('\n') {
        let s = strip(line);
        if let Some(rest) = s.strip_prefix("##") {
            let name = strip(rest);
            if rest.starts_with(is_py_space) && !name.is_empty() {
                category = Some(name.to_string());
                continue;
            }
        }
        let (Some((word, rest)), Some(cat)) = (work_item_line(s), category.as_ref()) else {
            continue;
        };
        let status = normalize_status(word);
        let mut rest = rest.to_string();
        let mut pr_ref = None;
        if let Some((pr, after)) = leading_pr_ref(&rest) {
            pr_ref = Some(pr.to_string());
            rest = strip(after).to_string();
        }
        let (title, description) = match rest.find(". ").filter(|i| *i > 0) {
            Some(i) => (rest[..=i].to_string(), strip(&rest[i + 2..]).to_string()),
            None => (rest.clone(), String::new()),
        };
        let tag = category_to_tag(cat);
        let slug = tag.replace('_', "-");
        let idx = counts.entry(slug.clone()).or_default();
        let source_id = format!("wi-{slug}-{idx}");
        *idx += 1;
        items.push(ParsedItem {
            source_id,
            kind: "work_item".into(),
            title,
            status: status.into(),
            priority: assign_priority(status),
            description,
            fields: Map::new(),
            tags: if tag.is_empty() {
                Vec::new()
            } else {
                vec![tag]
            },
            pr_ref,
            parent_source_id: None,
        });
    }
    items
}
