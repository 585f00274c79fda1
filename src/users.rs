//! OS users and groups, from the system databases (`getpwuid_r` and
//! friends), and the groups this process acts with. The actor
//! ([`crate::governance::actor`]) and the set-up checks ([`crate::setup`]) both ask here.
//!
//! Users are looked up in `/etc/passwd` first when the system's name
//! service reads that file first (`passwd: files …` in
//! `/etc/nsswitch.conf`): glibc would return the same first matching line,
//! and going through NSS costs every command a `socket`/`connect` to nscd
//! (and, on some systems, systemd-userdb) before it reads the same file.
//! A user not found there, a file htrac cannot parse line for line as
//! glibc does, or any other configuration goes through NSS as before.

use std::ffi::{CStr, CString};

/// A user from the password database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub name: String,
    pub gid: u32,
    pub home: String,
}

/// A group from the group database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub gid: u32,
    pub name: String,
    pub members: Vec<String>,
}

/// Calls a `get*_r` function with a growing buffer until it fits.
fn with_buffer<T>(mut f: impl FnMut(&mut [u8]) -> (i32, Option<T>)) -> Option<T> {
    let mut buf = vec![0u8; 4096];
    loop {
        let (rc, out) = f(&mut buf);
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        return if rc == 0 { out } else { None };
    }
}

/// # Safety
/// `p` must be null or point to a NUL-terminated string.
unsafe fn string(p: *const libc::c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

fn user_from(pwd: &libc::passwd) -> User {
    // SAFETY: the strings point into the buffer the caller still holds.
    unsafe {
        User {
            uid: pwd.pw_uid,
            name: string(pwd.pw_name),
            gid: pwd.pw_gid,
            home: string(pwd.pw_dir),
        }
    }
}

/// The user with id `uid`: `/etc/passwd` first (see the module doc), else NSS.
pub fn user_by_uid(uid: u32) -> Option<User> {
    if let Some(u) = local_user(|u| u.uid == uid) {
        return Some(u);
    }
    nss_user_by_uid(uid)
}

/// The user with id `uid`, from NSS (`getpwuid_r`).
fn nss_user_by_uid(uid: u32) -> Option<User> {
    with_buffer(|buf| {
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: all pointers are valid for the call; `buf` outlives the strings read.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        (rc, (!result.is_null()).then(|| user_from(&pwd)))
    })
}

/// The user called `name`: `/etc/passwd` first (see the module doc), else NSS.
pub fn user_by_name(name: &str) -> Option<User> {
    if let Some(u) = local_user(|u| u.name == name) {
        return Some(u);
    }
    nss_user_by_name(name)
}

/// The user called `name`, from NSS (`getpwnam_r`).
fn nss_user_by_name(name: &str) -> Option<User> {
    let cname = CString::new(name).ok()?;
    with_buffer(|buf| {
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: as in `user_by_uid`.
        let rc = unsafe {
            libc::getpwnam_r(
                cname.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        (rc, (!result.is_null()).then(|| user_from(&pwd)))
    })
}

/// The first user in `/etc/passwd` that `matches`, when NSS would answer
/// from that file too; `None` sends the caller to NSS.
fn local_user(matches: impl Fn(&User) -> bool) -> Option<User> {
    // An NSS wrapper preloaded (tests, containers) answers from elsewhere.
    if std::env::var_os("LD_PRELOAD").is_some() || std::env::var_os("NSS_WRAPPER_PASSWD").is_some()
    {
        return None;
    }
    find_in_passwd(&local_passwd()?, matches)
}

/// `/etc/passwd`'s text when NSS reads it first. Kept for the process
/// while both files' keys stay the same (a command asks for its own user
/// and the configuration file's owner; a server lives on across `useradd`).
fn local_passwd() -> Option<std::sync::Arc<str>> {
    use std::os::unix::fs::MetadataExt;
    type Key = (u64, i64, i64, u64);
    type Memo = Option<([Key; 2], Option<std::sync::Arc<str>>)>;
    static MEMO: std::sync::Mutex<Memo> = std::sync::Mutex::new(None);
    let key = |p: &str| -> Option<Key> {
        let m = std::fs::metadata(p).ok()?;
        Some((
            m.ino(),
            m.mtime_nsec() + m.mtime() * 1_000_000_000,
            m.ctime_nsec() + m.ctime() * 1_000_000_000,
            m.size(),
        ))
    };
    let keys = [key("/etc/nsswitch.conf")?, key("/etc/passwd")?];
    let mut memo = MEMO.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((k, text)) = memo.as_ref() {
        if *k == keys {
            return text.clone();
        }
    }
    let read = || -> Option<std::sync::Arc<str>> {
        let conf = std::fs::read_to_string("/etc/nsswitch.conf").ok()?;
        passwd_first_source(&conf)?;
        std::fs::read_to_string("/etc/passwd").ok().map(Into::into)
    };
    let text = read();
    *memo = Some((keys, text.clone()));
    text
}

/// The first service of the `passwd:` line of nsswitch.conf text, when it
/// is one htrac reads the same way (`files`, or `compat`).
fn passwd_first_source(conf: &str) -> Option<&str> {
    let line = conf
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .find(|l| {
            l.strip_prefix("passwd")
                .is_some_and(|r| r.trim_start().starts_with(':'))
        })?;
    let (_, services) = line.split_once(':')?;
    let first = services.split_whitespace().next()?;
    matches!(first, "files" | "compat").then_some(first)
}

/// The first entry of passwd-file `text` that `matches`, parsed as glibc's
/// files service does (blank and `#` lines skipped; `name:passwd:uid:gid:
/// gecos:dir:shell`). `None` — ask NSS — when it is not found, or when a
/// line is not in that plain form (glibc's parser is more lenient than
/// this one, so its answer could differ), or when a line names NIS
/// entries (`+`/`-`, which `compat` would look up).
fn find_in_passwd(text: &str, matches: impl Fn(&User) -> bool) -> Option<User> {
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.splitn(7, ':').collect();
        if f.len() != 7 || f[0].is_empty() || f[0].starts_with(['+', '-']) {
            // A short line, an empty name, NIS compat syntax: leave it to glibc.
            return None;
        }
        let num = |s: &str| -> Option<u32> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let (Some(uid), Some(gid)) = (num(f[2]), num(f[3])) else {
            return None;
        };
        let user = User {
            uid,
            name: f[0].to_string(),
            gid,
            home: f[5].to_string(),
        };
        if matches(&user) {
            return Some(user);
        }
    }
    None
}

/// The group with id `gid`.
pub fn group_by_gid(gid: u32) -> Option<Group> {
    with_buffer(|buf| {
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: all pointers are valid for the call; `buf` outlives the strings read.
        let rc = unsafe {
            libc::getgrgid_r(
                gid,
                &mut grp,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        if result.is_null() {
            return (rc, None);
        }
        let mut members = Vec::new();
        // SAFETY: gr_mem is a NULL-terminated array of strings in `buf`.
        unsafe {
            let mut p = grp.gr_mem;
            while !p.is_null() && !(*p).is_null() {
                members.push(string(*p));
                p = p.add(1);
            }
        }
        let name = unsafe { string(grp.gr_name) };
        (rc, Some(Group { gid, name, members }))
    })
}

/// The group's name, or its number when it has none.
pub fn group_label(gid: u32) -> String {
    group_by_gid(gid)
        .map(|g| g.name)
        .unwrap_or_else(|| gid.to_string())
}

/// This process's user (from the real uid).
pub fn current_user() -> User {
    let uid = rustix::process::getuid().as_raw();
    user_by_uid(uid).unwrap_or_else(|| User {
        uid,
        name: uid.to_string(),
        gid: rustix::process::getgid().as_raw(),
        home: std::env::var("HOME").unwrap_or_default(),
    })
}

/// Every group `user` is in: its primary group and the groups that list
/// it (`getgrouplist`).
pub fn groups_of(user: &User) -> Vec<u32> {
    let Ok(name) = CString::new(user.name.as_str()) else {
        return vec![user.gid];
    };
    let mut n: libc::c_int = 64;
    loop {
        let mut gids = vec![0 as libc::gid_t; n as usize];
        let mut count = n;
        // SAFETY: `gids` holds `count` entries; getgrouplist writes at most
        // that many and sets `count` to the number it needs.
        let rc =
            unsafe { libc::getgrouplist(name.as_ptr(), user.gid, gids.as_mut_ptr(), &mut count) };
        if rc >= 0 {
            gids.truncate(count.max(0) as usize);
            return gids;
        }
        if count <= n || n > 65536 {
            return vec![user.gid];
        }
        n = count;
    }
}

/// The users in group `gid`: those it lists and those whose primary group
/// it is (from `/etc/passwd`, for the latter).
pub fn members_of(gid: u32) -> Vec<User> {
    let mut names: Vec<String> = group_by_gid(gid).map(|g| g.members).unwrap_or_default();
    if let Ok(passwd) = std::fs::read_to_string("/etc/passwd") {
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() > 3 && f[3].parse() == Ok(gid) {
                names.push(f[0].to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names.iter().filter_map(|n| user_by_name(n)).collect()
}

/// Whether this process acts with group `gid` (its effective or a supplementary group).
pub fn process_in_group(gid: u32) -> bool {
    if rustix::process::getegid().as_raw() == gid {
        return true;
    }
    rustix::process::getgroups()
        .map(|gs| gs.iter().any(|g| g.as_raw() == gid))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_groups() {
        let me = current_user();
        assert_eq!(user_by_name(&me.name).map(|u| u.uid), Some(me.uid));
        assert_eq!(user_by_uid(me.uid).map(|u| u.name), Some(me.name.clone()));
        assert!(process_in_group(rustix::process::getegid().as_raw()));
        assert!(user_by_name("no such user \u{1}").is_none());
    }

    #[test]
    fn nsswitch_passwd_line() {
        let conf = "# comment\npasswd:         files systemd\ngroup: files\n";
        assert_eq!(passwd_first_source(conf), Some("files"));
        assert_eq!(passwd_first_source("passwd: compat\n"), Some("compat"));
        assert_eq!(passwd_first_source("passwd: sss files\n"), None);
        assert_eq!(passwd_first_source("passwd: systemd files\n"), None);
        assert_eq!(passwd_first_source("#passwd: files\n"), None);
        assert_eq!(passwd_first_source("group: files\n"), None);
        assert_eq!(passwd_first_source("passwd:\n"), None);
    }

    #[test]
    fn passwd_file_first_match_or_nss() {
        let text = "# c\n\nroot:x:0:0:root:/root:/bin/bash\n  amy:x:1000:100:Amy:/home/amy:/bin/sh:x\ntwin:x:1000:1:t:/t:/bin/sh\n";
        let amy = find_in_passwd(text, |u| u.uid == 1000).unwrap();
        assert_eq!(
            (amy.name.as_str(), amy.gid, amy.home.as_str()),
            ("amy", 100, "/home/amy")
        );
        assert_eq!(find_in_passwd(text, |u| u.name == "twin").unwrap().gid, 1);
        assert!(
            find_in_passwd(text, |u| u.uid == 7).is_none(),
            "not found: NSS"
        );
        // Lines glibc might read otherwise, met before a match: NSS decides.
        for odd in [
            "+::::::\n",
            "-bob:x:::::\n",
            "bob:x:1:1\n",
            "bob:x: 1:1:g:/h:/s\n",
            ":x:1:1:g:/h:/s\n",
        ] {
            let t = format!("{odd}amy:x:1000:100:Amy:/home/amy:/bin/sh\n");
            assert!(find_in_passwd(&t, |u| u.uid == 1000).is_none(), "{odd:?}");
        }
    }
}
