//! Appends stay safe when a file is replaced under them: the take-over a
//! two-user set-up needs (see `htrac::atomic::take_over`).

/// A take-over (copy + rename, as the other user of a two-user set-up does
/// when it cannot append) racing with appenders loses no line: appenders
/// that locked the old inode notice the rename and append to the new file.
#[test]
fn take_over_racing_appends_loses_nothing() {
    use htrac::oplog::{append_text, AppendMode};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".WI-race.ops");
    // One-line ops (appends refuse text readers would not read back).
    let op = |name: &str| format!("- op: {name}  # 0a0a\n");
    append_text(&path, &op("start"), AppendMode::New).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let path = &path;
            let op = &op;
            s.spawn(move || {
                for i in 0..50 {
                    append_text(path, &op(&format!("line-{t}-{i}")), AppendMode::Existing).unwrap();
                }
            });
        }
        s.spawn(|| {
            for _ in 0..100 {
                htrac::atomic::take_over(&path).unwrap();
            }
        });
    });
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 201, "{text}");
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(lines.len(), 201, "no line written twice");
}
