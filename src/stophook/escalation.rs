//! The `[[preface]]` precedence gate: whether a human's `[[tag]]`-prefaced
//! message should be answered before the other unread ones, decided by a
//! configured command (any LLM CLI) instead of the reference's OpenRouter
//! call.
//!
//! As the reference (0.11, `stop_hook.py`): in the reply-first guidance, an
//! item whose *first* unread human message starts, at its very first
//! character, with `[[tag]]` (one or more characters, no whitespace and no
//! brackets inside) is put to the gate — only when other items have unread
//! messages too, since precedence over nothing means nothing. The gate gets
//! the reference's prompt and answers YES or NO; an answer that, trimmed and
//! upper-cased, starts with `YES` lifts the item into `## Escalated`.
//! Anything else — NO, an empty answer, a command that fails, exits
//! non-zero or runs past its time limit — leaves the item where it was
//! (fail-soft, as the reference, whose default is "do not elevate": the item
//! is still listed, only not first, so nothing is hidden).
//!
//! The command (`stop_hook.precedence_gate.command`) runs with `sh -c`, the
//! prompt on its stdin, its stdout read as the answer. It is given
//! `stop_hook.precedence_gate.timeout_seconds` (default 60); past that its
//! whole process group is killed.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::PrecedenceGate;

/// The tag of a `[[tag]]` preface at the very start of `message`.
pub fn preface(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("[[")?;
    let end = rest.find("]]")?;
    let tag = &rest[..end];
    let ok = !tag.is_empty()
        && !tag
            .chars()
            .any(|c| c.is_whitespace() || c == '[' || c == ']');
    ok.then_some(tag)
}

/// The question put to the gate, worded as the reference's.
pub fn prompt(tag: &str, id: &str, title: &str, others: &[(&str, &str)]) -> String {
    let mut lines = vec![
        format!("A human has prefaced their message with the tag [[{tag}]]."),
        format!("The message is on tracker item {id}: \"{title}\"."),
        String::new(),
        format!(
            "There are {} other unread human message(s) on these items:",
            others.len()
        ),
    ];
    for (oid, otitle) in others {
        lines.push(format!("- {oid}: \"{otitle}\""));
    }
    lines.extend([
        String::new(),
        format!(
            "Does the tag [[{tag}]] imply that this particular message takes precedence over \
             the other unreads (e.g. signaling urgency, priority, or a directive to answer first)?"
        ),
        String::new(),
        "Answer with a single word: YES or NO.".to_string(),
    ]);
    lines.join("\n")
}

/// What the gate said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// The command could not answer (why); counts as no.
    Failed(String),
}

/// Reads an answer as the reference reads the model's reply.
pub fn read_answer(stdout: &str) -> Answer {
    if stdout.trim().to_uppercase().starts_with("YES") {
        Answer::Yes
    } else {
        Answer::No
    }
}

/// The most of the command's stdout (and stderr) read.
const MAX_OUTPUT: u64 = 1 << 20;

/// Runs the gate's command with `prompt` on its stdin.
pub fn ask(gate: &PrecedenceGate, prompt: &str) -> Answer {
    let mut child = match Command::new("sh")
        .arg("-c")
        .arg(&gate.command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Answer::Failed(format!("cannot run sh: {e}")),
    };
    let pgid = child.id() as i32;
    let stdin = child.stdin.take();
    let text = prompt.to_string();
    let writer = std::thread::spawn(move || {
        if let Some(mut s) = stdin {
            // A command that does not read its stdin is fine.
            let _ = s.write_all(text.as_bytes());
        }
    });
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(MAX_OUTPUT).read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + Duration::from_secs(gate.timeout_seconds);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Answer::Failed(format!("cannot wait for the command: {e}")),
        }
    };
    // End the whole group: on a timeout the command and its children, after
    // an exit any child left holding the pipes open.
    // SAFETY: kill(2) on the process group this function created.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    let _ = child.wait();
    let _ = writer.join();
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match status {
        None => Answer::Failed(format!(
            "timed out after {} s (killed)",
            gate.timeout_seconds
        )),
        Some(s) if s.success() => read_answer(&stdout),
        Some(s) => {
            let why = stderr
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| format!(": {l}"))
                .unwrap_or_default();
            match s.code() {
                Some(c) => Answer::Failed(format!("exited with {c}{why}")),
                None => Answer::Failed(format!("killed by a signal{why}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preface_shape_as_the_reference() {
        for ok in ["[[IMPORTANT]] x", "[[do-right-now]]", "[[Mclovin]]rest"] {
            assert!(preface(ok).is_some(), "{ok}");
        }
        assert_eq!(preface("[[urgent]] please"), Some("urgent"));
        for bad in [
            "[[has space]]",
            "leading [[X]]",
            " [[X]]",
            "[[ space-before-close]]",
            "[[space-after-close ]]",
            "[[unclosed",
            "[single]",
            "[[]]",
            "[[a[b]]",
        ] {
            assert_eq!(preface(bad), None, "{bad}");
        }
    }

    #[test]
    fn answers_read_as_the_reference() {
        assert_eq!(read_answer("YES"), Answer::Yes);
        assert_eq!(read_answer("  yes, it does\n"), Answer::Yes);
        assert_eq!(read_answer("NO"), Answer::No);
        assert_eq!(read_answer(""), Answer::No);
        assert_eq!(read_answer("Maybe. YES"), Answer::No);
    }

    #[test]
    fn the_prompt_names_the_tag_the_item_and_the_others() {
        let p = prompt("now", "WI-a", "fix it", &[("WI-b", "other")]);
        assert!(p.starts_with(
            "A human has prefaced their message with the tag [[now]].\n\
             The message is on tracker item WI-a: \"fix it\".\n\n\
             There are 1 other unread human message(s) on these items:\n- WI-b: \"other\"\n\n"
        ));
        assert!(p.ends_with("\n\nAnswer with a single word: YES or NO."));
    }
}
