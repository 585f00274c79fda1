//! The arguments of the commands that set an item's fields: `add` and
//! `update` (and the description sources they share), and `claim` and
//! `release`, which set who works on an item.

use htrac::Tier;

use super::{parsed, pos, switch, text, Cmd, Flag, Set, Spec};

/// Where a description comes from: at most one of these may be given.
#[derive(Debug, Default, PartialEq)]
pub struct Description {
    pub text: Option<String>,
    pub file: Option<String>,
    pub stdin: bool,
}

/// Typed arguments that carry a description.
pub trait HasDescription {
    fn description_mut(&mut self) -> &mut Description;
}

/// `--description`, `--description-file`, `--description-stdin`.
const fn description_flags<A: HasDescription>() -> [Flag<A>; 3] {
    [
        text("description", "TEXT", "description text", |a, v| {
            a.description_mut().text = Some(v)
        }),
        text(
            "description-file",
            "FILE",
            "read the description from FILE",
            |a, v| a.description_mut().file = Some(v),
        ),
        switch(
            "description-stdin",
            "read the description from standard input",
            |a| a.description_mut().stdin = true,
        ),
    ]
}

#[derive(Debug, Default, PartialEq)]
pub struct AddArgs {
    pub kind: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    /// A whole number; the library checks the range.
    pub priority: Option<i64>,
    pub parent: Option<String>,
    pub tags: Vec<String>,
    pub isbefore: Vec<String>,
    pub description: Description,
    pub pr_ref: Option<String>,
    pub fields: Vec<(String, String)>,
    pub force_field_key: bool,
    pub tier: Option<Tier>,
}

impl HasDescription for AddArgs {
    fn description_mut(&mut self) -> &mut Description {
        &mut self.description
    }
}

const ADD_DESCRIPTION: [Flag<AddArgs>; 3] = description_flags();

pub const ADD: Spec<AddArgs> = Spec {
    name: "add",
    summary: "Add a new item; prints its ID",
    args: &[],
    flags: &[
        text(
            "kind",
            "KIND",
            "item kind (work_item, invariant, ... from the config)",
            |a, v| a.kind = Some(v),
        ),
        text("title", "TITLE", "item title", |a, v| a.title = Some(v)),
        text(
            "status",
            "STATUS",
            "initial status (default: the kind's first blocking status)",
            |a, v| a.status = Some(v),
        ),
        parsed(
            "priority",
            "0-4",
            "priority, 0 highest (default 2)",
            |a, v| v.whole().map(|x| a.priority = Some(x)),
        ),
        text("parent", "ITEM", "parent item", |a, v| a.parent = Some(v)),
        text("tag", "TAG", "add a tag (repeatable)", |a, v| {
            a.tags.push(v)
        }),
        text(
            "isbefore",
            "ITEM",
            "this item must be done before ITEM (repeatable)",
            |a, v| a.isbefore.push(v),
        ),
        ADD_DESCRIPTION[0],
        ADD_DESCRIPTION[1],
        ADD_DESCRIPTION[2],
        text("pr-ref", "REF", "pull request reference", |a, v| {
            a.pr_ref = Some(v)
        }),
        parsed(
            "field",
            "KEY=VALUE",
            "set a custom field (repeatable)",
            |a, v| v.key_value().map(|kv| a.fields.push(kv)),
        ),
        switch(
            "force-field-key",
            "allow a field key that differs from a declared one only in spelling",
            |a| a.force_field_key = true,
        ),
        parsed(
            "tier",
            "TIER",
            "canonical, workspace (default) or stealth",
            |a, v| v.tier().map(|x| a.tier = Some(x)),
        ),
    ],
    wrap: |a| Cmd::Add(Box::new(a)),
};

#[derive(Debug, Default, PartialEq)]
pub struct UpdateArgs {
    pub item: String,
    pub status: Option<String>,
    /// A whole number; the library checks the range.
    pub priority: Option<i64>,
    pub title: Option<String>,
    pub parent: Option<String>,
    pub pr_ref: Option<String>,
    pub description: Description,
    pub add_tag: Vec<String>,
    pub remove_tag: Vec<String>,
    pub add_isbefore: Vec<String>,
    pub remove_isbefore: Vec<String>,
    pub add_duplicate_of: Vec<String>,
    pub remove_duplicate_of: Vec<String>,
    pub add_not_duplicate_of: Vec<String>,
    pub remove_not_duplicate_of: Vec<String>,
    pub add_blocked_by: Vec<String>,
    pub remove_blocked_by: Vec<String>,
    /// `--field` pairs (exclusive with `--add-field`/`--remove-field`).
    pub field: Vec<(String, String)>,
    pub add_field: Vec<(String, String)>,
    pub remove_field: Vec<String>,
    pub force_field_key: bool,
    pub note: Option<String>,
}

impl HasDescription for UpdateArgs {
    fn description_mut(&mut self) -> &mut Description {
        &mut self.description
    }
}

impl UpdateArgs {
    /// The item and every flag value that names an item.
    pub fn items_mut(&mut self) -> Vec<&mut String> {
        let mut v = vec![&mut self.item];
        v.extend(self.parent.as_mut());
        for list in [
            &mut self.add_isbefore,
            &mut self.remove_isbefore,
            &mut self.add_duplicate_of,
            &mut self.remove_duplicate_of,
            &mut self.add_not_duplicate_of,
            &mut self.remove_not_duplicate_of,
            &mut self.add_blocked_by,
            &mut self.remove_blocked_by,
        ] {
            v.extend(list.iter_mut());
        }
        v
    }
}

const UPDATE_DESCRIPTION: [Flag<UpdateArgs>; 3] = description_flags();

pub const UPDATE: Spec<UpdateArgs> = Spec {
    name: "update",
    summary: "Change an item's fields",
    args: &[pos("ITEM", true, false, Set::Text(|a, v| a.item = v))],
    flags: &[
        text("status", "STATUS", "new status", |a, v| a.status = Some(v)),
        parsed("priority", "0-4", "new priority", |a, v| {
            v.whole().map(|x| a.priority = Some(x))
        }),
        text("title", "TITLE", "new title", |a, v| a.title = Some(v)),
        text("parent", "ITEM", "new parent", |a, v| a.parent = Some(v)),
        text("pr-ref", "REF", "pull request reference", |a, v| {
            a.pr_ref = Some(v)
        }),
        UPDATE_DESCRIPTION[0],
        UPDATE_DESCRIPTION[1],
        UPDATE_DESCRIPTION[2],
        text("add-tag", "TAG", "add a tag (repeatable)", |a, v| {
            a.add_tag.push(v)
        }),
        text("remove-tag", "TAG", "remove a tag (repeatable)", |a, v| {
            a.remove_tag.push(v)
        }),
        text(
            "add-isbefore",
            "ITEM",
            "this item must be done before ITEM (repeatable)",
            |a, v| a.add_isbefore.push(v),
        ),
        text(
            "remove-isbefore",
            "ITEM",
            "remove an isbefore link (repeatable)",
            |a, v| a.remove_isbefore.push(v),
        ),
        text(
            "add-duplicate-of",
            "ITEM",
            "mark as a duplicate of ITEM (repeatable)",
            |a, v| a.add_duplicate_of.push(v),
        ),
        text(
            "remove-duplicate-of",
            "ITEM",
            "unmark a duplicate (repeatable)",
            |a, v| a.remove_duplicate_of.push(v),
        ),
        text(
            "add-not-duplicate-of",
            "ITEM",
            "mark as not a duplicate of ITEM (repeatable)",
            |a, v| a.add_not_duplicate_of.push(v),
        ),
        text(
            "remove-not-duplicate-of",
            "ITEM",
            "remove a not-duplicate mark (repeatable)",
            |a, v| a.remove_not_duplicate_of.push(v),
        ),
        text(
            "add-blocked-by",
            "ITEM",
            "ITEM must be done before this one (writes ITEM's isbefore)",
            |a, v| a.add_blocked_by.push(v),
        ),
        text(
            "remove-blocked-by",
            "ITEM",
            "remove a blocked-by link (writes ITEM's isbefore)",
            |a, v| a.remove_blocked_by.push(v),
        ),
        parsed(
            "field",
            "KEY=VALUE",
            "set a custom field, other fields kept (repeatable)",
            |a, v| v.key_value().map(|kv| a.field.push(kv)),
        ),
        parsed(
            "add-field",
            "KEY=VALUE",
            "set a custom field (repeatable)",
            |a, v| v.key_value().map(|kv| a.add_field.push(kv)),
        ),
        text(
            "remove-field",
            "KEY",
            "delete a custom field (repeatable)",
            |a, v| a.remove_field.push(v),
        ),
        switch(
            "force-field-key",
            "allow a field key that differs from a declared one only in spelling",
            |a| a.force_field_key = true,
        ),
        text("note", "TEXT", "also add TEXT to the discussion", |a, v| {
            a.note = Some(v)
        }),
    ],
    wrap: |a| Cmd::Update(Box::new(a)),
};

#[derive(Debug, Default, PartialEq)]
pub struct ClaimArgs {
    /// The item; `None`: the best free ready item.
    pub item: Option<String>,
    /// `--lease`, as typed (checked by the library).
    pub lease: Option<String>,
}

pub const CLAIM: Spec<ClaimArgs> = Spec {
    name: "claim",
    summary: "Take an item for this agent session (the best free ready one, or ITEM) for a lease",
    args: &[pos("ITEM", false, false, Set::Text(|a, v| a.item = Some(v)))],
    flags: &[text(
        "lease",
        "DURATION",
        "how long the claim holds unless renewed (90s, 45m, 4h, 2d; default: config claims.lease, else 4h)",
        |a, v| a.lease = Some(v),
    )],
    wrap: Cmd::Claim,
};

#[derive(Debug, Default, PartialEq)]
pub struct ReleaseArgs {
    pub item: String,
    /// Break another session's claim (human only).
    pub breaking: bool,
}

pub const RELEASE: Spec<ReleaseArgs> = Spec {
    name: "release",
    summary: "Give up this session's claim on an item (a human may --break anyone's)",
    args: &[pos("ITEM", true, false, Set::Text(|a, v| a.item = v))],
    flags: &[switch(
        "break",
        "release another session's claim (human only)",
        |a| a.breaking = true,
    )],
    wrap: Cmd::Release,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::testing::{cmd, err};

    fn s(v: &str) -> String {
        v.to_string()
    }

    #[test]
    fn add() {
        let Cmd::Add(a) = cmd(&[
            "add",
            "--kind",
            "work_item",
            "--title=T",
            "--status",
            "todo_soft",
            "--priority",
            " 1",
            "--parent",
            "WI-p",
            "--tag",
            "a",
            "--tag=b",
            "--isbefore",
            "WI-q",
            "--description",
            "d",
            "--pr-ref",
            "#1",
            "--field",
            "k=v=w",
            "--force-field-key",
            "--tier",
            "stealth",
        ]) else {
            panic!()
        };
        let want = AddArgs {
            kind: Some(s("work_item")),
            title: Some(s("T")),
            status: Some(s("todo_soft")),
            priority: Some(1),
            parent: Some(s("WI-p")),
            tags: vec![s("a"), s("b")],
            isbefore: vec![s("WI-q")],
            description: Description {
                text: Some(s("d")),
                ..Default::default()
            },
            pr_ref: Some(s("#1")),
            fields: vec![(s("k"), s("v=w"))],
            force_field_key: true,
            tier: Some(Tier::Stealth),
        };
        assert_eq!(*a, want);
        // Range and required flags are the library's and the command's to check.
        let Cmd::Add(a) = cmd(&["add", "--priority", "9"]) else {
            panic!()
        };
        assert_eq!((a.priority, a.kind), (Some(9), None));
        assert_eq!(
            err(&["add", "--priority", "high"]),
            "error: --priority takes a whole number, got 'high'\nhint: e.g. --priority 2\n"
        );
        assert_eq!(
            err(&["add", "--tier", "gold"]),
            "error: unknown tier 'gold'\nhint: use canonical, workspace or stealth\n"
        );
        assert_eq!(
            err(&["add", "--field", "kv"]),
            "error: --field must be key=value, got 'kv'\nhint: write --field name=value\n"
        );
    }

    #[test]
    fn add_description_sources() {
        let Cmd::Add(a) = cmd(&["add", "--description-file", "d.txt", "--description-stdin"])
        else {
            panic!()
        };
        assert_eq!(
            a.description,
            Description {
                text: None,
                file: Some(s("d.txt")),
                stdin: true,
            },
            "both kept: the command refuses more than one"
        );
    }

    #[test]
    fn update() {
        let Cmd::Update(u) = cmd(&[
            "update",
            "WI-x",
            "--status",
            "done",
            "--priority=0",
            "--title",
            "T",
            "--parent",
            "WI-p",
            "--pr-ref",
            "#2",
            "--description",
            "",
            "--add-tag",
            "a",
            "--remove-tag",
            "b",
            "--add-isbefore",
            "WI-1",
            "--remove-isbefore",
            "WI-2",
            "--add-duplicate-of",
            "WI-3",
            "--remove-duplicate-of",
            "WI-4",
            "--add-not-duplicate-of",
            "WI-5",
            "--remove-not-duplicate-of",
            "WI-6",
            "--add-blocked-by",
            "WI-7",
            "--remove-blocked-by",
            "WI-8",
            "--field",
            "f=1",
            "--add-field",
            "g=2",
            "--remove-field",
            "h",
            "--force-field-key",
            "--note",
            "n",
        ]) else {
            panic!()
        };
        let want = UpdateArgs {
            item: s("WI-x"),
            status: Some(s("done")),
            priority: Some(0),
            title: Some(s("T")),
            parent: Some(s("WI-p")),
            pr_ref: Some(s("#2")),
            description: Description {
                text: Some(s("")),
                ..Default::default()
            },
            add_tag: vec![s("a")],
            remove_tag: vec![s("b")],
            add_isbefore: vec![s("WI-1")],
            remove_isbefore: vec![s("WI-2")],
            add_duplicate_of: vec![s("WI-3")],
            remove_duplicate_of: vec![s("WI-4")],
            add_not_duplicate_of: vec![s("WI-5")],
            remove_not_duplicate_of: vec![s("WI-6")],
            add_blocked_by: vec![s("WI-7")],
            remove_blocked_by: vec![s("WI-8")],
            field: vec![(s("f"), s("1"))],
            add_field: vec![(s("g"), s("2"))],
            remove_field: vec![s("h")],
            force_field_key: true,
            note: Some(s("n")),
        };
        assert_eq!(*u, want);
        assert!(err(&["update", "WI-x", "--priority", "high"])
            .contains("--priority takes a whole number"));
        assert_eq!(
            err(&["update", "WI-x", "--add-field", "g"]),
            "error: --add-field must be key=value, got 'g'\nhint: write --add-field name=value\n"
        );
    }
}
