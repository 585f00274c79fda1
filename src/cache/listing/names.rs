//! A listing's file names: kept in one buffer ([`Names`]; each
//! [`super::Listed`] knows where its own lies), read from `getdents` as
//! bytes and checked as UTF-8 all at once ([`RawNames`]), and sorted by
//! item ID ([`sort_by_id`]) — the order of the read cache's records.

use super::TierDir;

/// The file names of a listing, one after the other (one allocation, not
/// one per file); a [`super::Listed`] knows where its own lies.
#[derive(Default)]
pub(super) struct Names(pub(super) String);

impl Names {
    /// Adds `name`; `None` past 4 GiB of names.
    pub(super) fn push(&mut self, name: &str) -> Option<(u32, u32)> {
        let at = u32::try_from(self.0.len()).ok()?;
        let len = u32::try_from(name.len()).ok()?;
        at.checked_add(len)?;
        self.0.push_str(name);
        Some((at, len))
    }

    pub(super) fn get(&self, at: u32, len: u32) -> &str {
        &self.0[at as usize..(at + len) as usize]
    }
}

/// File names as `getdents` gives them, before their UTF-8 is checked —
/// all at once ([`RawNames::into_names`]): much faster than name by name.
#[derive(Default)]
pub(super) struct RawNames(Vec<u8>);

impl RawNames {
    /// Adds `name`; `None` past 4 GiB of names.
    pub(super) fn push(&mut self, name: &[u8]) -> Option<(u32, u32)> {
        let at = u32::try_from(self.0.len()).ok()?;
        let len = u32::try_from(name.len()).ok()?;
        at.checked_add(len)?;
        self.0.extend_from_slice(name);
        Some((at, len))
    }

    pub(super) fn get(&self, at: u32, len: u32) -> &[u8] {
        &self.0[at as usize..(at + len) as usize]
    }

    /// The names as text, and each tier's files with their names' new
    /// places: a name that is not UTF-8 is left out (as it always was).
    pub(super) fn into_names(self, dirs: &mut [TierDir]) -> Names {
        let RawNames(bytes) = self;
        match String::from_utf8(bytes) {
            Ok(text) => Names(text),
            Err(e) => {
                let raw = RawNames(e.into_bytes());
                let mut names = Names::default();
                for dir in dirs {
                    dir.named.retain_mut(|(at, len, _)| {
                        let Ok(name) = std::str::from_utf8(raw.get(*at, *len)) else {
                            return false;
                        };
                        let (a, l) = names.push(name).expect("no longer than before");
                        (*at, *len) = (a, l);
                        true
                    });
                }
                names
            }
        }
    }
}

/// Whether `name` is an op file's name (`.ID.ops`, as
/// [`crate::items::tiers::id_from_file_name`] reads them).
pub(super) fn is_op_file_name(name: &[u8]) -> bool {
    name.len() > 5 && name[0] == b'.' && name.ends_with(b".ops")
}

/// Op files sorted by ID (each the place of its name `.ID.ops` in
/// `names`, and what else is known of it), which is not the names' own
/// order (`.a-b.ops` < `.a.ops`). Each is keyed by the 8 bytes of its ID
/// that follow what every ID here begins with (`WI-`, say), as a
/// big-endian integer (zero-padded: a shorter ID first on a tie, as in
/// byte order), which settles almost every comparison; only IDs whose
/// keys tie are compared. Only the keys and places move while sorting.
pub(super) fn sort_by_id<K: Copy>(
    named: Vec<(u32, u32, K)>,
    names: &RawNames,
) -> Vec<(u32, u32, K)> {
    let name = |t: &(u32, u32, K)| names.get(t.0, t.1);
    fn id(name: &[u8]) -> &[u8] {
        name.get(1..name.len() - 4).unwrap_or_default()
    }
    let Some(first) = named.first() else {
        return named;
    };
    let first = id(name(first));
    let common = named.iter().fold(first.len(), |n, t| {
        first[..n]
            .iter()
            .zip(id(name(t)))
            .take_while(|(a, b)| a == b)
            .count()
    });
    let prefix = |t: &(u32, u32, K)| -> u64 {
        let mut b = [0u8; 8];
        let rest = &id(name(t))[common..];
        let n = rest.len().min(8);
        b[..n].copy_from_slice(&rest[..n]);
        u64::from_be_bytes(b)
    };
    let mut keyed: Vec<(u64, u32)> = named
        .iter()
        .enumerate()
        .map(|(i, t)| (prefix(t), i as u32))
        .collect();
    radix_sort(&mut keyed);
    // Runs of equal keys, by ID (each place is unique: the sort was total).
    let mut start = 0;
    while start < keyed.len() {
        let k = keyed[start].0;
        let mut end = start + 1;
        while keyed.get(end).is_some_and(|x| x.0 == k) {
            end += 1;
        }
        if end - start > 1 {
            keyed[start..end].sort_unstable_by(|a, b| {
                id(name(&named[a.1 as usize])).cmp(id(name(&named[b.1 as usize])))
            });
        }
        start = end;
    }
    keyed.iter().map(|&(_, i)| named[i as usize]).collect()
}

/// Sorts `v` as `sort_unstable` would (by key, then place: the places
/// are unique), by the key's bytes from the lowest (a stable counting
/// sort each, so equal keys keep their places' order, in which `v` comes),
/// skipping bytes every key shares: a few linear passes instead of
/// `n log n` comparisons.
fn radix_sort(v: &mut Vec<(u64, u32)>) {
    if v.len() < 256 || !v.windows(2).all(|w| w[0].1 < w[1].1) {
        v.sort_unstable();
        return;
    }
    let mut other = vec![(0u64, 0u32); v.len()];
    for shift in (0..64).step_by(8) {
        let digit = |k: u64| ((k >> shift) & 0xff) as usize;
        let mut at = [0usize; 256];
        for &(k, _) in v.iter() {
            at[digit(k)] += 1;
        }
        if at.contains(&v.len()) {
            continue;
        }
        let mut start = 0;
        for slot in at.iter_mut() {
            let n = *slot;
            *slot = start;
            start += n;
        }
        for &e in v.iter() {
            let d = digit(e.0);
            other[at[d]] = e;
            at[d] += 1;
        }
        std::mem::swap(v, &mut other);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_that_are_not_utf8_are_left_out_and_the_rest_kept_in_order() {
        use rustix::fs::{FileType, Mode, OFlags};
        let fd =
            || rustix::fs::open(".", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let mut raw = super::RawNames::default();
        let mut dirs = Vec::new();
        for (tier, names) in [
            (
                crate::items::tiers::Tier::Canonical,
                &[&b".a.ops"[..], b".\xff.ops", b".b.ops"][..],
            ),
            (
                crate::items::tiers::Tier::Workspace,
                &[&b".c\xc3.ops"[..], ".é.ops".as_bytes()][..],
            ),
        ] {
            let named = names
                .iter()
                .map(|n| {
                    let (at, len) = raw.push(n).unwrap();
                    (at, len, FileType::RegularFile)
                })
                .collect();
            dirs.push(super::TierDir {
                tier,
                fd: fd(),
                named,
                frozen: Default::default(),
            });
        }
        let names = raw.into_names(&mut dirs);
        let kept: Vec<Vec<&str>> = dirs
            .iter()
            .map(|d| {
                d.named
                    .iter()
                    .map(|&(at, len, _)| names.get(at, len))
                    .collect()
            })
            .collect();
        assert_eq!(kept, [vec![".a.ops", ".b.ops"], vec![".é.ops"]]);
        assert!(super::is_op_file_name(b".x.ops") && !super::is_op_file_name(b".ops"));
        assert!(!super::is_op_file_name(b"x.ops") && !super::is_op_file_name(b".x.opsx"));
    }

    #[test]
    fn radix_sort_is_sort_unstable() {
        let mut seed = 0x1234_5678_9abc_def0_u64;
        for n in [0, 1, 255, 256, 1000, 5000] {
            for spread in [1u64, 3, 1 << 20, u64::MAX] {
                let v: Vec<(u64, u32)> = (0..n)
                    .map(|i| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        ((seed % spread) << 24, i as u32)
                    })
                    .collect();
                let mut want = v.clone();
                want.sort_unstable();
                let mut got = v;
                super::radix_sort(&mut got);
                assert_eq!(got, want, "{n} {spread}");
            }
        }
    }

    #[test]
    fn sort_by_id_is_the_ids_byte_order() {
        let ids = [
            "WI-q",
            "WI-q-r",
            "WI-qr",
            "WI-q.r",
            "WI-quuuuuuua",
            "WI-quuuuuuub",
            "WI-quuuuuuu",
            "WI-quuuuuuua-c1",
            "WI-é",
            "WI-",
            "W",
            "WJ",
            "WI-quuuuuuuuuuuuuuuuuuu",
            "WI-quuuuuuuuuuuuuuuuuut",
        ];
        // Every ordering of a few rotations, and each size of prefix.
        for skip in 0..ids.len() {
            for take in 0..=ids.len() {
                let mut names = super::RawNames::default();
                let named: Vec<(u32, u32, usize)> = ids
                    .iter()
                    .cycle()
                    .skip(skip)
                    .take(take)
                    .enumerate()
                    .map(|(i, id)| {
                        let (at, len) = names.push(format!(".{id}.ops").as_bytes()).unwrap();
                        (at, len, i)
                    })
                    .collect();
                let id = |t: &(u32, u32, usize)| {
                    let n = names.get(t.0, t.1);
                    n[1..n.len() - 4].to_vec()
                };
                let mut want = named.clone();
                want.sort_by_key(|t| id(t));
                let got = super::sort_by_id(named, &names);
                assert_eq!(got, want, "skip {skip} take {take}");
            }
        }
    }
}
