//! Replacing a whole file atomically: write a temporary file in the same
//! directory, fsync it, rename it over the target. Readers see the old file
//! or the new one, never a mix, and the new file belongs to whoever wrote it.
//!
//! Op files are never rewritten this way except by a human's explicit
//! `repair-drift` and by a take-over that copies the bytes unchanged.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

/// Writes `bytes` to `path` with `mode`, atomically (temp file + rename).
pub fn replace(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    replace_with(path, mode, true, |w| w.write_all(bytes))
}

/// Writes what `fill` writes to `path` with `mode`, atomically (temp file +
/// rename), through a buffer so large files need not be built in memory.
/// With `durable`, the file and its directory are fsynced before and after
/// the rename; without (a cache that is checksummed and can be rebuilt),
/// readers still never see a half-written file, but a crash may lose it.
pub fn replace_with(
    path: &Path,
    mode: u32,
    durable: bool,
    fill: impl FnOnce(&mut std::io::BufWriter<File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let (tmp, file) = temp_in(dir)?;
    let result = (|| {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        if durable {
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        if durable {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// [`replace`], or — when this user may not replace the file (a directory
/// it cannot write, or a sticky one and another user's file) but may write
/// it — a rewrite in place through the existing inode, under an exclusive
/// lock, keeping its owner, group and mode. For small state files both
/// users of a two-user set-up update; a crash mid-rewrite can tear it.
pub fn replace_or_rewrite(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    match replace(path, bytes, mode) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && path.is_file() => {
            let file = std::fs::OpenOptions::new().write(true).open(path)?;
            rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
            file.set_len(0)?;
            (&file).write_all(bytes)?;
            file.sync_all()
        }
        other => other,
    }
}

/// Takes over a file another user owns without group write: copies it,
/// byte for byte, to a file of ours (mode 0664) and renames that over it.
/// Needs write permission on the directory only (a shared, setgid one),
/// and fails when the directory is sticky (as `htrac setup` leaves the
/// tier directories in a two-user set-up): there, every op file is
/// group-writable, so no take-over is needed.
/// The old file stays locked (as appenders lock it) until the rename is
/// done, so no append can slip in between the copy and the rename.
pub fn take_over(path: &Path) -> std::io::Result<()> {
    use std::io::Read;
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    rustix::fs::flock(&fd, rustix::fs::FlockOperation::LockExclusive)?;
    let mut old = File::from(fd);
    let mut bytes = Vec::new();
    old.read_to_end(&mut bytes)?;
    replace(path, &bytes, 0o664)
    // `old` (and its lock) is dropped here, after the rename.
}

/// Creates a fresh, exclusive temporary file in `dir`.
fn temp_in(dir: &Path) -> std::io::Result<(PathBuf, File)> {
    for _ in 0..64 {
        let mut b = [0u8; 6];
        rustix::rand::getrandom(&mut b, rustix::rand::GetRandomFlags::empty())?;
        let name: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let tmp = dir.join(format!(".htrac-tmp-{name}"));
        match rustix::fs::open(
            &tmp,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        ) {
            Ok(fd) => return Ok((tmp, File::from(fd))),
            Err(rustix::io::Errno::EXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(std::io::Error::other(format!(
        "cannot create a temporary file in {}",
        dir.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_writes_whole_file_with_mode_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "old").unwrap();
        replace(&p, b"new contents", 0o444).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new contents");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o444);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }
}
