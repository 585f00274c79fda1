//! The configuration document kept in the cache directory under the exact
//! text it was read from. Reading `config.yaml` through the YAML parser is
//! about a third of a small command's work (the template is mostly
//! comments, and the parser decodes every character); the kept value is
//! decoded in a few microseconds. The key is the whole text, compared byte
//! for byte: any edit, however small, reads the file afresh. Best-effort
//! like the read cache: a memo that does not read back exactly is a miss,
//! and a failed write is ignored.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cache::codec::{checksum, Dec, Enc};

const MAGIC: &[u8; 8] = b"HTRACCF\x01";
/// Bump when the layout, or the way a document becomes a value, changes.
const FORMAT: u32 = 1;

/// Where the memo `slot` (`config`, `template`) for the tracker at `root`
/// lives (`None`: no cache).
pub(super) fn path_for(root: &Path, slot: &str) -> Option<PathBuf> {
    let items = crate::cache::path_for(root)?;
    Some(items.with_file_name(format!("{slot}-{}.bin", crate::alias::fingerprint(root))))
}

/// The document kept at `path` for exactly `text`.
pub(super) fn recall(path: &Path, text: &str) -> Option<Value> {
    let bytes = crate::cache::read_own(path)?;
    let body = bytes.strip_prefix(MAGIC)?;
    let (body, sum) = body.split_at(body.len().checked_sub(8)?);
    if checksum(0, body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut d = Dec::new(body);
    if d.u32()? != FORMAT || d.str()? != env!("CARGO_PKG_VERSION") {
        return None;
    }
    if d.bytes()? != text.as_bytes() {
        return None;
    }
    let value = d.value()?;
    d.at_end().then_some(value)
}

/// Keeps `value`, the document read from `text`, at `path`.
pub(super) fn keep(path: &Path, text: &str, value: &Value) {
    let mut body = Vec::with_capacity(text.len() * 2 + 64);
    let mut e = Enc(&mut body);
    e.u32(FORMAT);
    e.str(env!("CARGO_PKG_VERSION"));
    e.bytes(text.as_bytes());
    e.value(value);
    let sum = checksum(0, &body);
    if let Some(dir) = path.parent() {
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
    }
    let _ = crate::atomic::replace_with(path, 0o600, false, |w| {
        use std::io::Write;
        w.write_all(MAGIC)?;
        w.write_all(&body)?;
        w.write_all(&sum.to_le_bytes())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, Config, Source, DEFAULT_CONFIG_YAML};

    #[test]
    fn the_kept_document_is_the_parsed_one_and_only_for_the_same_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config-x.bin");
        let text = DEFAULT_CONFIG_YAML;
        assert!(recall(&path, text).is_none());
        let doc = parse::document(text, None).unwrap();
        keep(&path, text, &doc);
        assert_eq!(recall(&path, text), Some(doc.clone()));
        // The configuration built from it is the same one.
        let a = Config::from_document(recall(&path, text).unwrap(), Source::Defaults).unwrap();
        let b = Config::parse(text, Source::Defaults).unwrap();
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        // One byte different, same length: not this memo.
        let mut other = text.to_string().into_bytes();
        let at = other.iter().position(|b| *b == b'3').unwrap();
        other[at] = b'4';
        assert!(recall(&path, std::str::from_utf8(&other).unwrap()).is_none());
        // A garbled file is a miss, not an error.
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        std::fs::write(&path, bytes).unwrap();
        assert!(recall(&path, text).is_none());
    }
}
