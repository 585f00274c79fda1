//! The arguments of the commands of human authority: locks, freezes, tier
//! moves, deletion, `reconcile-reset`, the message edit window and the
//! message ops it authorises, `fork-setup` and `signing-cutover`.

use htrac::Error;

use super::{parsed, pos, text, Cmd, ItemArg, NoArgs, Set, Spec, ITEM_ARG};

#[derive(Debug, Default, PartialEq)]
pub struct LockArgs {
    pub item: String,
    pub fields: Vec<String>,
}

const LOCK_ARGS: &[super::Pos<LockArgs>] = &[
    pos("ITEM", true, false, Set::Text(|a, v| a.item = v)),
    pos("FIELD", true, true, Set::Text(|a, v| a.fields.push(v))),
];

pub const LOCK: Spec<LockArgs> = Spec {
    name: "lock",
    summary: "Lock fields so agents cannot change them (human only)",
    args: LOCK_ARGS,
    flags: &[],
    wrap: Cmd::Lock,
};

pub const UNLOCK: Spec<LockArgs> = Spec {
    name: "unlock",
    summary: "Unlock fields (human only)",
    args: LOCK_ARGS,
    flags: &[],
    wrap: Cmd::Unlock,
};

/// A command on one item, with no flags.
const fn on_item(
    name: &'static str,
    summary: &'static str,
    wrap: fn(ItemArg) -> Cmd,
) -> Spec<ItemArg> {
    Spec {
        name,
        summary,
        args: ITEM_ARG,
        flags: &[],
        wrap,
    }
}

pub const FREEZE: Spec<ItemArg> = on_item(
    "freeze",
    "Freeze an item: agents may not write to it (human only)",
    Cmd::Freeze,
);
pub const UNFREEZE: Spec<ItemArg> =
    on_item("unfreeze", "Unfreeze an item (human only)", Cmd::Unfreeze);
pub const REPAIR_DRIFT: Spec<ItemArg> = on_item(
    "repair-drift",
    "Restore a frozen item's op log from its freeze sentinel (human only)",
    Cmd::RepairDrift,
);
pub const PROMOTE: Spec<ItemArg> = on_item(
    "promote",
    "Move an item from workspace to canonical",
    Cmd::Promote,
);
pub const DEMOTE: Spec<ItemArg> = on_item(
    "demote",
    "Move an item from canonical to workspace",
    Cmd::Demote,
);
pub const STEALTH: Spec<ItemArg> = on_item(
    "stealth",
    "Move an item from workspace to stealth (local only; human only)",
    Cmd::Stealth,
);
pub const UNSTEALTH: Spec<ItemArg> = on_item(
    "unstealth",
    "Move an item from stealth back to workspace (human only)",
    Cmd::Unstealth,
);
pub const DELETE: Spec<ItemArg> = on_item(
    "delete",
    "Mark an item deleted and drop every isbefore link to it (human only)",
    Cmd::Delete,
);
pub const RECONCILE_RESET: Spec<ItemArg> = on_item(
    "reconcile-reset",
    "Clear a cross-tier conflict: merge every copy into canonical (human only)",
    Cmd::ReconcileReset,
);

/// What `edit-mode` does.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub enum EditModeAction {
    On,
    Off,
    /// The default only until the required argument is read.
    #[default]
    Status,
}

#[derive(Debug, Default, PartialEq)]
pub struct EditModeArgs {
    pub action: EditModeAction,
    /// The window's length in seconds.
    pub ttl: Option<i64>,
    pub cap_max: Option<i64>,
}

pub const EDIT_MODE: Spec<EditModeArgs> = Spec {
    name: "edit-mode",
    summary: "Open (on) or close (off) the message edit window (human only), or show its status",
    args: &[pos(
        "on|off|status",
        true,
        false,
        Set::Parse(|a, v| {
            a.action = match v.text.as_str() {
                "on" => EditModeAction::On,
                "off" => EditModeAction::Off,
                "status" => EditModeAction::Status,
                other => {
                    return Err(Error::user(format!(
                        "edit-mode takes on, off or status, not '{other}'"
                    ))
                    .with_hint("e.g. 'htrac edit-mode on --ttl 30m'"))
                }
            };
            Ok(())
        }),
    )],
    flags: &[
        parsed(
            "ttl",
            "DURATION",
            "window length: 30m, 1h, 600s or seconds (default 30m, at most 1h)",
            |a, v| v.seconds().map(|s| a.ttl = Some(s)),
        ),
        parsed(
            "cap-max",
            "N",
            "most message edits the window allows (default 500, 1-500)",
            |a, v| v.whole().map(|n| a.cap_max = Some(n)),
        ),
    ],
    wrap: Cmd::EditMode,
};

/// `delete-msg`, `undelete-msg`, `edit-msg-text`.
#[derive(Debug, Default, PartialEq)]
pub struct MsgArgs {
    pub item: String,
    pub nonce: String,
    pub reason: Option<String>,
    /// `edit-msg-text` only.
    pub new_text: Option<String>,
}

const MSG_ARGS: &[super::Pos<MsgArgs>] = &[
    pos("ITEM", true, false, Set::Text(|a, v| a.item = v)),
    pos("NONCE", true, false, Set::Text(|a, v| a.nonce = v)),
];

const REASON: super::Flag<MsgArgs> = text(
    "reason",
    "TEXT",
    "why (required, at most 100 characters)",
    |a, v| a.reason = Some(v),
);

pub const DELETE_MSG: Spec<MsgArgs> = Spec {
    name: "delete-msg",
    summary: "Tombstone one discussion message by its nonce (needs an open edit window)",
    args: MSG_ARGS,
    flags: &[REASON],
    wrap: Cmd::DeleteMsg,
};

pub const UNDELETE_MSG: Spec<MsgArgs> = Spec {
    name: "undelete-msg",
    summary: "Restore a tombstoned discussion message (needs an open edit window)",
    args: MSG_ARGS,
    flags: &[REASON],
    wrap: Cmd::UndeleteMsg,
};

pub const EDIT_MSG_TEXT: Spec<MsgArgs> = Spec {
    name: "edit-msg-text",
    summary: "Replace a discussion message's text, keeping its history (needs an open edit window)",
    args: MSG_ARGS,
    flags: &[
        text("new-text", "TEXT", "the new text (required)", |a, v| {
            a.new_text = Some(v)
        }),
        REASON,
    ],
    wrap: Cmd::EditMsgText,
};

pub const FORK_SETUP: Spec<NoArgs> = Spec {
    name: "fork-setup",
    summary: "Make the stop hook count only workspace items, for a fork (human only)",
    args: &[],
    flags: &[],
    wrap: |_| Cmd::ForkSetup,
};

pub const SIGNING_CUTOVER: Spec<NoArgs> = Spec {
    name: "signing-cutover",
    summary: "Trust the human ops written so far, signing their list with your SSH key, when switching authority.signing on (human only)",
    args: &[],
    flags: &[],
    wrap: |_| Cmd::SigningCutover,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::testing::{cmd, err};

    fn s(v: &str) -> String {
        v.to_string()
    }

    #[test]
    fn lock_and_the_item_commands() {
        let fields = LockArgs {
            item: s("WI-x"),
            fields: vec![s("status"), s("priority")],
        };
        assert_eq!(
            cmd(&["lock", "WI-x", "status", "priority"]),
            Cmd::Lock(fields)
        );
        assert!(matches!(
            cmd(&["unlock", "WI-x", "status"]),
            Cmd::Unlock(LockArgs { .. })
        ));
        let item = || ItemArg { item: s("WI-x") };
        for (name, want) in [
            ("freeze", Cmd::Freeze(item())),
            ("unfreeze", Cmd::Unfreeze(item())),
            ("repair-drift", Cmd::RepairDrift(item())),
            ("promote", Cmd::Promote(item())),
            ("demote", Cmd::Demote(item())),
            ("stealth", Cmd::Stealth(item())),
            ("unstealth", Cmd::Unstealth(item())),
            ("delete", Cmd::Delete(item())),
            ("reconcile-reset", Cmd::ReconcileReset(item())),
        ] {
            assert_eq!(cmd(&[name, "WI-x"]), want, "{name}");
        }
        assert_eq!(cmd(&["fork-setup"]), Cmd::ForkSetup);
        assert_eq!(cmd(&["signing-cutover"]), Cmd::SigningCutover);
    }

    #[test]
    fn edit_mode() {
        assert_eq!(
            cmd(&["edit-mode", "on", "--ttl", "1h", "--cap-max", "20"]),
            Cmd::EditMode(EditModeArgs {
                action: EditModeAction::On,
                ttl: Some(3600),
                cap_max: Some(20),
            })
        );
        assert_eq!(
            cmd(&["edit-mode", "off"]),
            Cmd::EditMode(EditModeArgs {
                action: EditModeAction::Off,
                ..Default::default()
            })
        );
        assert_eq!(
            cmd(&["edit-mode", "status", "--ttl=600"]),
            Cmd::EditMode(EditModeArgs {
                action: EditModeAction::Status,
                ttl: Some(600),
                cap_max: None,
            })
        );
        assert_eq!(
            err(&["edit-mode", "maybe"]),
            "error: edit-mode takes on, off or status, not 'maybe'\nhint: e.g. 'htrac edit-mode on --ttl 30m'\n"
        );
        assert_eq!(
            err(&["edit-mode", "on", "--ttl", "soon"]),
            "error: --ttl: cannot read 'soon' as a duration\nhint: write e.g. --ttl 30m, --ttl 1h, --ttl 600s or --ttl 600\n"
        );
        assert_eq!(
            err(&["edit-mode", "on", "--cap-max", "many"]),
            "error: --cap-max takes a whole number, got 'many'\nhint: e.g. --cap-max 2\n"
        );
    }

    #[test]
    fn message_ops() {
        let want = MsgArgs {
            item: s("WI-x"),
            nonce: s("ab12"),
            reason: Some(s("typo")),
            new_text: Some(s("fixed")),
        };
        assert_eq!(
            cmd(&[
                "edit-msg-text",
                "WI-x",
                "ab12",
                "--reason",
                "typo",
                "--new-text",
                "fixed"
            ]),
            Cmd::EditMsgText(want)
        );
        let only_reason = |c| match c {
            Cmd::DeleteMsg(m) | Cmd::UndeleteMsg(m) => m.reason,
            _ => None,
        };
        assert_eq!(
            only_reason(cmd(&["delete-msg", "WI-x", "ab12", "--reason=r"])),
            Some(s("r"))
        );
        assert_eq!(
            only_reason(cmd(&["undelete-msg", "WI-x", "ab12", "--reason", "r"])),
            Some(s("r"))
        );
        // Only edit-msg-text takes a new text.
        assert!(err(&["delete-msg", "WI-x", "ab12", "--new-text", "t"])
            .contains("unknown flag '--new-text' for 'delete-msg'"));
    }
}
