//! The staged (index) and `HEAD` copies of many files, through one
//! `git cat-file --batch` process used as a conversation: each directory's
//! `HEAD` tree is read once (so no path is walked from the commit again per
//! file), each file's index blob is read, and a `HEAD` blob is read only
//! when it differs from the index one — in a pre-commit hook, only the
//! files being committed.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// A file's staged and `HEAD` copies, when git has them.
pub(super) type Copies = (Option<Vec<u8>>, Option<Vec<u8>>);

struct Batch {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// One object: its ID, type and content.
struct Object {
    oid: String,
    kind: String,
    data: Vec<u8>,
}

impl Batch {
    fn spawn(work_tree: &Path) -> std::io::Result<Batch> {
        let mut child = Command::new("git")
            .arg("-C")
            .arg(work_tree)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Ok(Batch {
            child,
            stdin,
            stdout,
        })
    }

    /// The object `spec` names, or `None` when there is none.
    fn get(&mut self, spec: &str) -> std::io::Result<Option<Object>> {
        Ok(self.get_many(&[spec.to_string()])?.pop().flatten())
    }

    /// The objects `specs` name, asked all at once (a thread writes the
    /// requests while this one reads the answers, so neither pipe fills up).
    fn get_many(&mut self, specs: &[String]) -> std::io::Result<Vec<Option<Object>>> {
        let stdin = &mut self.stdin;
        let stdout = &mut self.stdout;
        std::thread::scope(|s| {
            let writer = s.spawn(move || -> std::io::Result<()> {
                let mut buf = Vec::new();
                for spec in specs {
                    // A spec with a newline would split in two; ask for nothing instead.
                    let spec = if spec.contains('\n') {
                        ""
                    } else {
                        spec.as_str()
                    };
                    buf.extend_from_slice(spec.as_bytes());
                    buf.push(b'\n');
                }
                stdin.write_all(&buf)?;
                stdin.flush()
            });
            let mut out = Vec::with_capacity(specs.len());
            for _ in specs {
                out.push(read_one(stdout)?);
            }
            writer.join().expect("writer thread")?;
            Ok(out)
        })
    }
}

/// Reads one answer of `git cat-file --batch`.
fn read_one(stdout: &mut BufReader<ChildStdout>) -> std::io::Result<Option<Object>> {
    {
        let mut header = String::new();
        if stdout.read_line(&mut header)? == 0 {
            return Err(std::io::Error::other("git cat-file ended early"));
        }
        let parts: Vec<&str> = header.split_whitespace().collect();
        let size = match parts.as_slice() {
            [_, kind, size] if *kind != "missing" && *kind != "ambiguous" => size.parse().ok(),
            _ => None,
        };
        let Some(size) = size else {
            return Ok(None);
        };
        let mut data = vec![0u8; size];
        stdout.read_exact(&mut data)?;
        let mut nl = [0u8; 1];
        stdout.read_exact(&mut nl)?;
        Ok(Some(Object {
            oid: parts[0].to_string(),
            kind: parts[1].to_string(),
            data,
        }))
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The entries of a tree object: name → object ID (hex).
fn tree_entries(data: &[u8], oid_len: usize) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut pos = 0;
    while pos < data.len() {
        let Some(nul) = data[pos..].iter().position(|&b| b == 0).map(|i| pos + i) else {
            break;
        };
        let entry = String::from_utf8_lossy(&data[pos..nul]);
        let name = entry.split_once(' ').map(|(_, n)| n).unwrap_or("");
        let end = (nul + 1 + oid_len).min(data.len());
        let hex: String = data[nul + 1..end]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        out.insert(name.to_string(), hex);
        pos = end;
    }
    out
}

/// Reads the copies of file after file through one `git cat-file`
/// process, each directory's `HEAD` tree read once.
pub(super) struct Reader {
    batch: Batch,
    trees: HashMap<String, HashMap<String, String>>,
}

impl Reader {
    pub(super) fn new(work_tree: &Path) -> std::io::Result<Reader> {
        Ok(Reader {
            batch: Batch::spawn(work_tree)?,
            trees: HashMap::new(),
        })
    }

    /// The copies of each of `rels` (paths relative to the work tree,
    /// `/`-separated).
    pub(super) fn read(&mut self, rels: &[String]) -> std::io::Result<Vec<Copies>> {
        let batch = &mut self.batch;
        let trees = &mut self.trees;
        let split = |rel: &str| -> (String, String) {
            match rel.rsplit_once('/') {
                Some((d, n)) => (d.to_string(), n.to_string()),
                None => (String::new(), rel.to_string()),
            }
        };
        for rel in rels {
            let (dir, _) = split(rel);
            if let std::collections::hash_map::Entry::Vacant(slot) = trees.entry(dir) {
                let spec = format!("HEAD:{}", slot.key());
                let tree = batch
                    .get(&spec)?
                    .filter(|t| t.kind == "tree")
                    .map(|t| tree_entries(&t.data, t.oid.len() / 2))
                    .unwrap_or_default();
                slot.insert(tree);
            }
        }
        let index_specs: Vec<String> = rels.iter().map(|r| format!(":{r}")).collect();
        let staged: Vec<Option<Object>> = batch
            .get_many(&index_specs)?
            .into_iter()
            .map(|o| o.filter(|o| o.kind == "blob"))
            .collect();
        // HEAD blobs that differ from the staged ones (or have no staged copy).
        let mut wanted: Vec<(usize, String)> = Vec::new();
        let mut out: Vec<Copies> = Vec::with_capacity(rels.len());
        for (i, (rel, staged)) in rels.iter().zip(staged).enumerate() {
            let (dir, name) = split(rel);
            let head_oid = trees.get(&dir).and_then(|t| t.get(&name));
            let head = match (&staged, head_oid) {
                (Some(s), Some(h)) if s.oid == *h => Some(s.data.clone()),
                (_, Some(h)) => {
                    wanted.push((i, h.clone()));
                    None
                }
                (_, None) => None,
            };
            out.push((staged.map(|o| o.data), head));
        }
        let specs: Vec<String> = wanted.iter().map(|(_, h)| h.clone()).collect();
        for ((i, _), obj) in wanted.iter().zip(batch.get_many(&specs)?) {
            out[*i].1 = obj.map(|o| o.data);
        }
        Ok(out)
    }
}
