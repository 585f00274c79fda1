//! Who is acting: the OS user of the real uid, matched against
//! `actor_resolution.agent_usernames`. No environment variable can change it,
//! so an agent run as its own OS user cannot pass for its human.

use crate::oplog::op::Role;

/// The resolved actor of this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub role: Role,
    pub name: String,
}

impl Actor {
    /// Resolves the current process's actor against the agent patterns.
    pub fn current(agent_patterns: &[String]) -> Actor {
        let uid = rustix::process::getuid().as_raw();
        let name = user_name(uid).unwrap_or_else(|| uid.to_string());
        Actor::for_name(&name, agent_patterns)
    }

    /// The actor for a given user name.
    pub fn for_name(name: &str, agent_patterns: &[String]) -> Actor {
        let role = if agent_patterns.iter().any(|p| fnmatch(p, name)) {
            Role::Agent
        } else {
            Role::Human
        };
        Actor {
            role,
            name: name.to_string(),
        }
    }

    pub fn is_agent(&self) -> bool {
        self.role == Role::Agent
    }
}

/// The user name of `uid` from the system's user database.
pub fn user_name(uid: u32) -> Option<String> {
    crate::users::user_by_uid(uid)
        .map(|u| u.name)
        .filter(|n| !n.is_empty())
}

/// Shell-style pattern matching as Python's `fnmatch.fnmatch` on POSIX:
/// `*`, `?`, `[abc]`, `[!abc]`, `[a-z]`; case-sensitive.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    // ASCII text (every actor name and pattern in practice): its bytes are
    // its characters, matched without copying them out.
    if pattern.is_ascii() && name.is_ascii() {
        return match_from(pattern.as_bytes(), name.as_bytes());
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

/// A character of a pattern or a name: a `char`, or a byte of ASCII text.
trait Sym: Copy + Ord {
    fn is(self, c: char) -> bool;
}

impl Sym for char {
    fn is(self, c: char) -> bool {
        self == c
    }
}

impl Sym for u8 {
    fn is(self, c: char) -> bool {
        char::from(self) == c
    }
}

fn match_from<T: Sym>(p: &[T], n: &[T]) -> bool {
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            let c = p[pi];
            if c.is('*') {
                star = Some((pi, ni));
                pi += 1;
                continue;
            } else if c.is('?') {
                pi += 1;
                ni += 1;
                continue;
            } else if c.is('[') {
                if let Some((matched, len)) = class(&p[pi..], n[ni]) {
                    if matched {
                        pi += len;
                        ni += 1;
                        continue;
                    }
                } else if n[ni].is('[') {
                    pi += 1;
                    ni += 1;
                    continue;
                }
            } else if c == n[ni] {
                pi += 1;
                ni += 1;
                continue;
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| c.is('*'))
}

/// Matches a `[...]` class at the start of `p`; returns (matched, pattern length),
/// or `None` when the bracket is not closed (then it is a literal `[`).
fn class<T: Sym>(p: &[T], c: T) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = p.get(i).is_some_and(|x| x.is('!'));
    if negate {
        i += 1;
    }
    let start = i;
    let mut matched = false;
    while i < p.len() {
        if p[i].is(']') && i > start {
            return Some((matched != negate, i + 1));
        }
        if i + 2 < p.len() && p[i + 1].is('-') && !p[i + 2].is(']') {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// ASCII text matched as bytes matches as it does as characters.
        #[test]
        fn bytes_match_as_characters(p in "[a-c*?!\\[\\]_-]{0,8}", n in "[a-c_\\[\\]!-]{0,8}") {
            let (pc, nc): (Vec<char>, Vec<char>) = (p.chars().collect(), n.chars().collect());
            proptest::prop_assert_eq!(fnmatch(&p, &n), match_from(&pc, &nc), "{} {}", p, n);
        }
    }

    #[test]
    fn patterns() {
        assert!(fnmatch("*_agent", "jgstern_agent"));
        assert!(!fnmatch("*_agent", "jgstern"));
        assert!(!fnmatch("*_agent", "jgstern_agent2"));
        assert!(fnmatch("bot?", "bot1"));
        assert!(fnmatch("ci-[a-c]*", "ci-b-runner"));
        assert!(!fnmatch("ci-[!a-c]*", "ci-b-runner"));
        assert!(fnmatch("*", ""));
        assert!(!fnmatch("*_AGENT", "x_agent"));
    }

    #[test]
    fn roles() {
        let pats = vec!["*_agent".to_string()];
        assert_eq!(Actor::for_name("amy_agent", &pats).role, Role::Agent);
        assert_eq!(Actor::for_name("amy", &pats).role, Role::Human);
    }
}
