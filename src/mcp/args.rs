//! A call's arguments checked against its tool's table entry — no unknown
//! argument, every required one, each of its declared type — and read back
//! typed. A bad argument is a JSON-RPC invalid-params error naming it.

use serde_json::{Map, Value};

use super::rpc::RpcError;
use super::tools::{Tool, Ty};
use crate::items::tiers::Tier;

/// A call's arguments, checked.
pub struct Args<'a> {
    map: &'a Map<String, Value>,
}

fn bad(tool: &Tool, why: String) -> RpcError {
    RpcError::invalid_params(format!(
        "invalid params for tool '{}': {why} (see its inputSchema in tools/list)",
        tool.name
    ))
}

/// Checks `map` against `tool`'s parameters.
pub fn check<'a>(tool: &Tool, map: &'a Map<String, Value>) -> Result<Args<'a>, RpcError> {
    if let Some(k) = map
        .keys()
        .find(|k| !tool.params.iter().any(|p| p.name == *k))
    {
        let known: Vec<&str> = tool.params.iter().map(|p| p.name).collect();
        return Err(bad(
            tool,
            format!(
                "unknown argument '{k}' (arguments: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    }
    for p in tool.params {
        let v = match map.get(p.name) {
            None | Some(Value::Null) if p.required => {
                return Err(bad(tool, format!("'{}' is required: {}", p.name, p.help)))
            }
            None | Some(Value::Null) => continue,
            Some(v) => v,
        };
        let fits = match (p.ty, v) {
            (Ty::Str, Value::String(_)) | (Ty::Bool, Value::Bool(_)) => true,
            (Ty::OneOf(allowed), Value::String(s)) if allowed.contains(&s.as_str()) => true,
            (Ty::OneOf(allowed), _) => {
                return Err(bad(
                    tool,
                    format!("'{}' must be one of {}", p.name, allowed.join(", ")),
                ))
            }
            (Ty::Int, Value::Number(n)) => n.is_i64(),
            (Ty::Strs, Value::Array(a)) => a.iter().all(Value::is_string),
            (Ty::Fields, Value::Object(m)) => {
                for (k, v) in m {
                    if !v.is_string() {
                        return Err(bad(tool, format!("'{}.{k}' must be a string", p.name)));
                    }
                    // As the command line can write them (`--field name=value`).
                    if k.is_empty() || k.contains('=') {
                        return Err(bad(
                            tool,
                            format!(
                                "'{}' has a bad field name '{k}' (empty or with '=')",
                                p.name
                            ),
                        ));
                    }
                }
                true
            }
            _ => false,
        };
        if !fits {
            let want = match p.ty {
                Ty::Str | Ty::OneOf(_) => "a string",
                Ty::Int => "an integer",
                Ty::Bool => "true or false",
                Ty::Strs => "an array of strings",
                Ty::Fields => "an object of string values",
            };
            return Err(bad(tool, format!("'{}' must be {want}, got {v}", p.name)));
        }
    }
    Ok(Args { map })
}

impl Args<'_> {
    /// A string argument (a `OneOf` too).
    pub fn str(&self, name: &str) -> Option<&str> {
        self.map.get(name).and_then(Value::as_str)
    }

    /// A string argument, an empty one counting as not given.
    pub fn nonempty(&self, name: &str) -> Option<&str> {
        self.str(name).filter(|s| !s.is_empty())
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.map.get(name).and_then(Value::as_i64)
    }

    /// A boolean argument; not given is false.
    pub fn flag(&self, name: &str) -> bool {
        self.map.get(name).and_then(Value::as_bool) == Some(true)
    }

    pub fn strs(&self, name: &str) -> Vec<String> {
        self.map
            .get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn fields(&self, name: &str) -> Map<String, Value> {
        self.map
            .get(name)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    pub fn tier(&self, name: &str) -> Option<Tier> {
        self.str(name).and_then(Tier::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::rpc::INVALID_PARAMS;
    use crate::mcp::tools::find;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn arguments_are_read_back_typed() {
        let update = find("update").unwrap();
        let m = map(
            json!({"id": "--x", "status": "-done", "priority": 1, "add_tags": ["a", "b"], "fields": {"k": "v=w"}, "force_field_key": false, "note": null}),
        );
        let a = check(update, &m).unwrap();
        assert_eq!(a.str("id"), Some("--x"));
        assert_eq!(a.str("status"), Some("-done"));
        assert_eq!(a.int("priority"), Some(1));
        assert_eq!(a.strs("add_tags"), ["a", "b"]);
        assert_eq!(a.fields("fields"), map(json!({"k": "v=w"})));
        assert!(!a.flag("force_field_key"));
        assert_eq!(a.str("note"), None);
        assert_eq!(a.strs("remove_tags"), Vec::<String>::new());
        let list = find("list").unwrap();
        let m = map(json!({"tier": "stealth"}));
        assert_eq!(check(list, &m).unwrap().tier("tier"), Some(Tier::Stealth));
    }

    #[test]
    fn bad_arguments_are_invalid_params() {
        let add = find("add").unwrap();
        for (a, needle) in [
            (json!({"title": "t"}), "'kind' is required"),
            (
                json!({"kind": "work_item", "title": 3}),
                "'title' must be a string",
            ),
            (
                json!({"kind": "k", "title": "t", "priority": "1"}),
                "an integer",
            ),
            (
                json!({"kind": "k", "title": "t", "priority": 1.5}),
                "an integer",
            ),
            (
                json!({"kind": "k", "title": "t", "tags": "x"}),
                "an array of strings",
            ),
            (
                json!({"kind": "k", "title": "t", "tags": ["x", 1]}),
                "an array of strings",
            ),
            (
                json!({"kind": "k", "title": "t", "tier": "moon"}),
                "one of canonical",
            ),
            (
                json!({"kind": "k", "title": "t", "colour": "red"}),
                "unknown argument 'colour'",
            ),
            (
                json!({"kind": "k", "title": "t", "fields": {"a=b": "c"}}),
                "bad field name",
            ),
            (
                json!({"kind": "k", "title": "t", "fields": {"a": 1}}),
                "'fields.a' must be a string",
            ),
            (
                json!({"kind": "k", "title": "t", "force_field_key": "yes"}),
                "true or false",
            ),
        ] {
            let m = map(a);
            let e = check(add, &m).err().unwrap();
            assert_eq!(e.code, INVALID_PARAMS);
            assert!(e.message.contains(needle), "{}", e.message);
        }
    }
}
