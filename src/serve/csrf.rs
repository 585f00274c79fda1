//! Request-origin checks: the `Host` header must name this server (against
//! DNS rebinding), and a state-changing request or WebSocket handshake must
//! come from the server's own origin (`Origin` equal to `http(s)://<Host>`),
//! or, for POSTs with a session, carry the session's CSRF token.

use std::net::IpAddr;

/// The host names this server answers to.
#[derive(Debug, Clone)]
pub struct Origins {
    port: u16,
    /// Names accepted with this server's port (`localhost`, `127.0.0.1`, ...).
    names: Vec<String>,
    /// Configured `auth.allowed_hosts` (a name, or `name:port`), accepted
    /// with any port or none (a reverse proxy may front the server).
    configured: Vec<String>,
}

/// Splits `host[:port]` (also `[v6]:port`) into lower-case name and port.
fn split_host(h: &str) -> Option<(String, Option<u16>)> {
    let h = h.trim().to_ascii_lowercase();
    if h.is_empty() {
        return None;
    }
    if let Some(rest) = h.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        let name = format!("[{inner}]");
        return match after {
            "" => Some((name, None)),
            p => Some((name, Some(p.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match h.rsplit_once(':') {
        Some((n, p)) if !n.contains(':') => Some((n.to_string(), Some(p.parse().ok()?))),
        Some(_) => None,
        None => Some((h, None)),
    }
}

impl Origins {
    pub fn new(bind: IpAddr, port: u16, allowed_hosts: &[String]) -> Origins {
        let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()];
        if !bind.is_unspecified() && !bind.is_loopback() {
            names.push(match bind {
                IpAddr::V4(a) => a.to_string(),
                IpAddr::V6(a) => format!("[{a}]"),
            });
        }
        Origins {
            port,
            names,
            configured: allowed_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        }
    }

    /// Whether a `Host` header value names this server.
    pub fn host_ok(&self, host: &str) -> bool {
        let Some((name, port)) = split_host(host) else {
            return false;
        };
        if self.names.contains(&name) && port == Some(self.port) {
            return true;
        }
        let whole = host.trim().to_ascii_lowercase();
        self.configured
            .iter()
            .any(|c| *c == whole || (*c == name && !c.contains(':')))
    }

    /// Whether `origin` is this server's own origin, reached through `host`.
    pub fn origin_ok(&self, origin: &str, host: &str) -> bool {
        let rest = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        match rest {
            Some(hostport) => hostport.eq_ignore_ascii_case(host.trim()) && self.host_ok(hostport),
            None => false,
        }
    }
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let o = Origins::new("127.0.0.1".parse().unwrap(), 7380, &[]);
        assert!(o.host_ok("localhost:7380"));
        assert!(o.host_ok("127.0.0.1:7380"));
        assert!(o.host_ok("[::1]:7380"));
        assert!(!o.host_ok("localhost:7381"));
        assert!(!o.host_ok("localhost"));
        assert!(!o.host_ok("evil.example:7380"));
        assert!(!o.host_ok(""));
        let o = Origins::new(
            "0.0.0.0".parse().unwrap(),
            7380,
            &["tracker.example".into()],
        );
        assert!(o.host_ok("tracker.example"));
        assert!(o.host_ok("Tracker.example:443"));
        assert!(!o.host_ok("192.168.1.5:7380"));
        let o = Origins::new("192.168.1.5".parse().unwrap(), 7380, &[]);
        assert!(o.host_ok("192.168.1.5:7380"));
    }

    #[test]
    fn origins() {
        let o = Origins::new("127.0.0.1".parse().unwrap(), 7380, &[]);
        assert!(o.origin_ok("http://localhost:7380", "localhost:7380"));
        assert!(!o.origin_ok("http://127.0.0.1:7380", "localhost:7380"));
        assert!(!o.origin_ok("http://evil.example", "localhost:7380"));
        assert!(!o.origin_ok("null", "localhost:7380"));
        assert!(!o.origin_ok("http://evil.example:7380", "evil.example:7380"));
    }

    #[test]
    fn secrets() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
