//! Who acts is looked up in `/etc/passwd` first (no NSS round trip, no
//! sockets to nscd or systemd-userdb) when the name service reads that file
//! first: for every user listed there, and for ids and names that are not
//! (asked of NSS then), htrac's answer is NSS's own.

use std::ffi::{CStr, CString};

use crate::common::Env;

type Answer = Option<(u32, String, u32, String)>;

fn answer(p: &libc::passwd) -> Answer {
    // SAFETY: the strings point into the buffer the caller still holds.
    let s = |c: *const libc::c_char| unsafe { CStr::from_ptr(c) }.to_string_lossy().into_owned();
    Some((p.pw_uid, s(p.pw_name), p.pw_gid, s(p.pw_dir)))
}

/// NSS's answer for `uid` (`getpwuid_r`).
fn nss_uid(uid: u32) -> Answer {
    let mut buf = vec![0u8; 1 << 16];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: valid pointers; `buf` outlives the strings read.
    let rc =
        unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return None;
    }
    answer(&pwd)
}

/// NSS's answer for `name` (`getpwnam_r`).
fn nss_name(name: &str) -> Answer {
    let c = CString::new(name).ok()?;
    let mut buf = vec![0u8; 1 << 16];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: as above.
    let rc = unsafe {
        libc::getpwnam_r(
            c.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut out,
        )
    };
    if rc != 0 || out.is_null() {
        return None;
    }
    answer(&pwd)
}

fn ours(u: Option<htrac::users::User>) -> Answer {
    u.map(|u| (u.uid, u.name, u.gid, u.home))
}

#[test]
fn user_lookups_agree_with_nss_listed_or_not() {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let listed: Vec<(String, u32)> = passwd
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some((f.first()?.to_string(), f.get(2)?.parse().ok()?))
        })
        .collect();
    assert!(!listed.is_empty(), "/etc/passwd lists users");
    // Not listed: NSS answers (systemd's dynamic users, or no one).
    let unlisted_ids = [61_184, 65_519, 4_000_000_000, u32::MAX - 1];
    for uid in listed.iter().map(|(_, u)| *u).chain(unlisted_ids) {
        assert_eq!(
            ours(htrac::users::user_by_uid(uid)),
            nss_uid(uid),
            "uid {uid}"
        );
    }
    let unlisted_names = ["no_such_user_htrac", "systemd-network", "nobody"];
    for name in listed.iter().map(|(n, _)| n.as_str()).chain(unlisted_names) {
        assert_eq!(
            ours(htrac::users::user_by_name(name)),
            nss_name(name),
            "{name}"
        );
    }
    let me = rustix::process::getuid().as_raw();
    assert_eq!(
        Some(htrac::users::current_user()).map(|u| (u.uid, u.name)),
        nss_uid(me)
            .map(|(uid, name, _, _)| (uid, name))
            .or(Some((me, me.to_string())))
    );
}

#[test]
fn ops_are_written_under_the_nss_name_of_the_real_uid() {
    let env = Env::new();
    let id = env.add("who wrote this", &[]);
    let me = rustix::process::getuid().as_raw();
    let name = nss_uid(me).map_or(me.to_string(), |(_, n, _, _)| n);
    let text = std::fs::read_to_string(env.workspace_ops(&id)).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("  actor: {name}  # "))),
        "{text}"
    );
}
