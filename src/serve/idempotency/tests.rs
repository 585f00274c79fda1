use std::cell::Cell;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use serde_json::json;

use super::*;

const NOW: u64 = 1_800_000_000;

fn ok(n: u64) -> (Answer, bool) {
    (
        Answer {
            status: 200,
            body: json!({"ok": true, "n": n}),
        },
        true,
    )
}

/// Runs `key` for `user` at `now`, counting applications in `applied`.
fn run(keys: &Keys, user: &str, key: &str, fp: &str, now: u64, applied: &Cell<u64>) -> Outcome {
    keys.run_at(user, key, fp, now, || {
        applied.set(applied.get() + 1);
        ok(applied.get())
    })
    .unwrap()
}

#[test]
fn a_repeated_key_is_applied_once_and_answered_with_the_first_answer() {
    let keys = Keys::in_memory();
    let n = Cell::new(0);
    let first = run(&keys, "amy", "k1", "fp", NOW, &n);
    let again = run(&keys, "amy", "k1", "fp", NOW + 5, &n);
    assert_eq!(n.get(), 1);
    assert!(!first.replayed && again.replayed);
    assert_eq!(first.answer, again.answer);
    // Without a key, every request is applied.
    let count = AtomicUsize::new(0);
    for _ in 0..2 {
        keys.run("amy", None, "fp", || {
            count.fetch_add(1, Ordering::SeqCst);
            ok(0)
        })
        .unwrap();
    }
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn the_same_key_on_another_request_is_refused_and_keys_are_per_user() {
    let keys = Keys::in_memory();
    let n = Cell::new(0);
    run(
        &keys,
        "amy",
        "k",
        &fingerprint("POST", "/a", &json!({"x": 1, "y": 2})),
        NOW,
        &n,
    );
    // The same body with its keys in another order is the same request.
    let same = fingerprint("POST", "/a", &json!({"y": 2, "x": 1}));
    assert!(run(&keys, "amy", "k", &same, NOW, &n).replayed);
    for other in [
        fingerprint("POST", "/a", &json!({"x": 1, "y": 3})),
        fingerprint("POST", "/b", &json!({"x": 1, "y": 2})),
        fingerprint("PUT", "/a", &json!({"x": 1, "y": 2})),
    ] {
        let e = keys.run_at("amy", "k", &other, NOW, || ok(9)).unwrap_err();
        assert_eq!((e.status, e.code), (422, "idempotency_key_reused"));
    }
    // Bob's "k" is his own.
    let bob = run(&keys, "bob", "k", &same, NOW, &n);
    assert!(!bob.replayed);
    assert_eq!(n.get(), 2);
}

#[test]
fn an_error_with_nothing_written_frees_the_key_one_after_a_write_is_kept() {
    let keys = Keys::in_memory();
    let refused = || {
        (
            Answer {
                status: 409,
                body: json!({"code": "locked"}),
            },
            false,
        )
    };
    let a = keys.run_at("amy", "k", "fp", NOW, refused).unwrap();
    assert_eq!(a.answer.status, 409);
    let n = Cell::new(0);
    let retried = run(&keys, "amy", "k", "fp", NOW, &n);
    assert!(!retried.replayed && n.get() == 1, "the retry was applied");
    // An error after something was written is replayed, never re-run.
    let half = || {
        (
            Answer {
                status: 500,
                body: json!({"code": "internal"}),
            },
            true,
        )
    };
    keys.run_at("amy", "k2", "fp", NOW, half).unwrap();
    let again = run(&keys, "amy", "k2", "fp", NOW, &n);
    assert!(again.replayed && again.answer.status == 500 && n.get() == 1);
}

#[test]
fn a_repeat_waits_for_the_first_attempt_and_gets_its_answer() {
    let keys = Arc::new(Keys::in_memory());
    let applied = Arc::new(AtomicUsize::new(0));
    let (started_tx, started) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let first = {
        let (keys, applied) = (keys.clone(), applied.clone());
        std::thread::spawn(move || {
            keys.run("amy", Some("k"), "fp", || {
                applied.fetch_add(1, Ordering::SeqCst);
                started_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                ok(1)
            })
            .unwrap()
        })
    };
    started.recv().unwrap();
    let repeats: Vec<_> = (0..3)
        .map(|_| {
            let (keys, applied) = (keys.clone(), applied.clone());
            std::thread::spawn(move || {
                keys.run("amy", Some("k"), "fp", || {
                    applied.fetch_add(1, Ordering::SeqCst);
                    ok(2)
                })
                .unwrap()
            })
        })
        .collect();
    go.send(()).unwrap();
    let first = first.join().unwrap();
    for r in repeats {
        let r = r.join().unwrap();
        assert!(r.replayed);
        assert_eq!(r.answer, first.answer);
    }
    assert_eq!(applied.load(Ordering::SeqCst), 1);
}

#[test]
fn a_repeat_that_waited_too_long_is_told_in_progress_and_nothing_is_applied() {
    let keys = Arc::new(Keys {
        wait: std::time::Duration::from_millis(20),
        ..Keys::default()
    });
    let (started_tx, started) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let first = {
        let keys = keys.clone();
        std::thread::spawn(move || {
            keys.run("amy", Some("k"), "fp", || {
                started_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                ok(1)
            })
            .unwrap()
        })
    };
    started.recv().unwrap();
    let n = Cell::new(0);
    let e = keys
        .run("amy", Some("k"), "fp", || {
            n.set(1);
            ok(2)
        })
        .unwrap_err();
    assert_eq!((e.status, e.code), (409, "in_progress"));
    go.send(()).unwrap();
    let first = first.join().unwrap();
    let later = run(&keys, "amy", "k", "fp", now_secs(), &n);
    assert!(later.replayed && later.answer == first.answer);
    assert_eq!(n.get(), 0, "a repeat was applied");
}

#[test]
fn a_panicking_write_frees_its_key() {
    let keys = Keys::in_memory();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        keys.run("amy", Some("k"), "fp", || panic!("boom")).ok();
    }));
    assert!(r.is_err());
    let n = Cell::new(0);
    assert!(!run(&keys, "amy", "k", "fp", NOW, &n).replayed);
}

#[test]
fn answers_expire_and_past_the_cap_the_oldest_is_forgotten() {
    let keys = Keys::in_memory();
    let n = Cell::new(0);
    run(&keys, "amy", "old", "fp", NOW, &n);
    assert!(run(&keys, "amy", "old", "fp", NOW + TTL.as_secs() - 1, &n).replayed);
    assert!(!run(&keys, "amy", "old", "fp", NOW + TTL.as_secs(), &n).replayed);
    let t = NOW + TTL.as_secs();
    let keys = Keys::in_memory();
    for i in 0..PER_USER {
        run(&keys, "amy", &format!("k{i}"), "fp", t, &n);
    }
    run(&keys, "bob", "b", "fp", t, &n);
    run(&keys, "amy", "one-more", "fp", t, &n);
    let before = n.get();
    assert!(run(&keys, "amy", "k1", "fp", t, &n).replayed);
    assert!(run(&keys, "bob", "b", "fp", t, &n).replayed);
    assert!(run(&keys, "amy", "one-more", "fp", t, &n).replayed);
    assert!(
        !run(&keys, "amy", "k0", "fp", t, &n).replayed,
        "k0 was the oldest"
    );
    assert_eq!(n.get(), before + 1);
}

#[test]
fn past_the_byte_cap_the_oldest_answers_are_forgotten_also_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, _) = Keys::open(dir.path());
    let big = |i: usize| {
        (
            Answer {
                status: 200,
                body: json!({"n": i, "pad": "x".repeat(1 << 20)}),
            },
            true,
        )
    };
    let count = PER_USER_BYTES / (1 << 20) + 4;
    for i in 0..count {
        keys.run_at("amy", &format!("k{i}"), "fp", now_secs(), || big(i))
            .unwrap();
    }
    keys.run_at("bob", "b", "fp", now_secs(), || ok(0)).unwrap();
    let replayed = |keys: &Keys, key: &str, user: &str| {
        keys.run_at(user, key, "fp", now_secs(), || ok(99))
            .unwrap()
            .replayed
    };
    assert!(replayed(&keys, &format!("k{}", count - 1), "amy"));
    assert!(replayed(&keys, "b", "bob"));
    let (again, w) = Keys::open(dir.path());
    assert!(w.is_empty(), "{w:?}");
    assert!(replayed(&again, &format!("k{}", count - 1), "amy"));
    assert!(replayed(&again, &format!("k{}", count - 2), "amy"));
    assert!(replayed(&again, "b", "bob"));
    // The oldest were forgotten: a retry of one is applied again.
    assert!(!replayed(&again, "k0", "amy"));
    assert!(!replayed(&keys, "k1", "amy"));
}

#[test]
fn keys_bad_and_good() {
    assert_eq!(parse_key("abc-123").unwrap(), "abc-123");
    assert_eq!(parse_key(" \"quoted\" ").unwrap(), "quoted");
    for bad in ["", "\"\"", "a b", "é", &"x".repeat(MAX_KEY + 1)] {
        assert_eq!(
            parse_key(bad).unwrap_err().code,
            "bad_idempotency_key",
            "{bad:?}"
        );
    }
}

#[test]
fn kept_answers_survive_a_restart_in_a_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let n = Cell::new(0);
    {
        let (keys, w) = Keys::open(dir.path());
        assert!(w.is_empty(), "{w:?}");
        run(&keys, "amy", "k", "fp", now_secs(), &n);
        run(&keys, "amy", "k2", "fp2", now_secs(), &n);
    }
    let path = dir.path().join(journal::FILE);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (keys, w) = Keys::open(dir.path());
    assert!(w.is_empty(), "{w:?}");
    let again = run(&keys, "amy", "k", "fp", now_secs(), &n);
    assert!(again.replayed);
    assert_eq!(again.answer, ok(1).0);
    assert_eq!(
        run(&keys, "amy", "k2", "fp2", now_secs(), &n).answer,
        ok(2).0
    );
    assert_eq!(n.get(), 2);
}

#[test]
fn a_damaged_journal_loses_only_its_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let n = Cell::new(0);
    {
        let (keys, _) = Keys::open(dir.path());
        run(&keys, "amy", "k", "fp", now_secs(), &n);
    }
    let path = dir.path().join(journal::FILE);
    let mut text = std::fs::read_to_string(&path).unwrap();
    let expired = json!({"user": "amy", "key": "gone", "fp": "fp", "status": 200,
                         "body": {}, "at": now_secs() - TTL.as_secs() - 1});
    text = format!("not json\n{expired}\n{text}{{\"user\": \"amy\", \"key\": \"torn");
    std::fs::write(&path, text).unwrap();
    let (keys, w) = Keys::open(dir.path());
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("2 unreadable line(s)"), "{w:?}");
    assert!(run(&keys, "amy", "k", "fp", now_secs(), &n).replayed);
    assert!(!run(&keys, "amy", "gone", "fp", now_secs(), &n).replayed);
    // The file was rewritten without them.
    let (_, w) = Keys::open(dir.path());
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn a_journal_open_to_others_is_left_alone_and_keys_stay_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(journal::FILE);
    std::fs::write(&path, "whatever\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (keys, w) = Keys::open(dir.path());
    assert!(
        w.len() == 1 && w[0].contains("open to other users"),
        "{w:?}"
    );
    let n = Cell::new(0);
    run(&keys, "amy", "k", "fp", now_secs(), &n);
    assert!(run(&keys, "amy", "k", "fp", now_secs(), &n).replayed);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "whatever\n");
    assert!(keys.take_warnings().is_empty());
}

/// A running server compacts its journal once it holds about twice what is
/// kept: the file shrinks back, stays private, and what is appended after
/// goes to the new file (a restart replays it), while the answers the cap
/// forgot are gone from it too.
#[test]
fn a_running_server_compacts_its_journal_and_keeps_appending_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(journal::FILE);
    let lines = || std::fs::read_to_string(&path).unwrap().lines().count();
    let n = Cell::new(0);
    let (keys, w) = Keys::open(dir.path());
    assert!(w.is_empty(), "{w:?}");
    // Past the per-user cap, each new key forgets the oldest but adds a line.
    let total = 2 * PER_USER + 100;
    let mut most = 0;
    for i in 0..total {
        run(&keys, "amy", &format!("k{i}"), "fp", now_secs(), &n);
        most = most.max(lines());
    }
    assert!(keys.take_warnings().is_empty());
    assert!(
        most <= 2 * PER_USER + 64 + 1,
        "the file grew to {most} lines"
    );
    assert!(lines() < total, "{} lines: never compacted", lines());
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Appended after the compaction: in the file a restart reads.
    run(&keys, "bob", "after", "fp", now_secs(), &n);
    drop(keys);
    let (again, w) = Keys::open(dir.path());
    assert!(w.is_empty(), "{w:?}");
    let applied = n.get();
    assert!(run(&again, "bob", "after", "fp", now_secs(), &n).replayed);
    assert!(
        run(
            &again,
            "amy",
            &format!("k{}", total - 1),
            "fp",
            now_secs(),
            &n
        )
        .replayed
    );
    assert!(
        run(
            &again,
            "amy",
            &format!("k{}", total - PER_USER),
            "fp",
            now_secs(),
            &n
        )
        .replayed
    );
    assert_eq!(n.get(), applied, "nothing kept was applied again");
    // Forgotten by the cap (and not brought back by the compacted file).
    assert!(!run(&again, "amy", "k0", "fp", now_secs(), &n).replayed);
    assert!(
        !run(
            &again,
            "amy",
            &format!("k{}", total - PER_USER - 1),
            "fp",
            now_secs(),
            &n
        )
        .replayed
    );
}
