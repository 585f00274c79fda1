//! The parser, and the `--help` text, both made from the commands'
//! declarations: values are collected per flag in command-line order, then
//! each is put into the command's typed arguments (see `Command::build`).

use std::ffi::OsString;

use htrac::{Error, Result};

use super::global::{self, Globals, GLOBAL_FLAGS};
use super::{apply, ArgDoc, Cmd, Command, FlagDoc, COMMANDS};

/// A parsed command line.
#[derive(Debug)]
pub struct Invocation {
    /// The command's name as typed (`unfreeze`).
    pub name: &'static str,
    pub global: Globals,
    pub command: Cmd,
}

/// What the command line asks for.
pub enum Request {
    Run(Invocation),
    Help(Option<&'static dyn Command>),
    Version,
}

fn find_command(name: &str) -> Option<&'static dyn Command> {
    COMMANDS.iter().copied().find(|c| c.name() == name)
}

/// Parses the arguments after the program name.
pub fn parse(args: Vec<OsString>) -> Result<Request> {
    use lexopt::Arg as A;
    let mut p = lexopt::Parser::from_args(args);
    let mut command: Option<&'static dyn Command> = None;
    let mut globals = Globals::default();
    let mut positionals = Vec::new();
    let mut flags: Vec<(&'static str, String)> = Vec::new();
    let bad = |e: lexopt::Error| Error::user(e.to_string()).with_hint("see 'htrac --help'");
    while let Some(arg) = p.next().map_err(bad)? {
        match arg {
            A::Short('h') => globals.help = true,
            A::Long("version") | A::Short('V') if command.is_none() => return Ok(Request::Version),
            A::Long(name) => {
                let name = name.to_string();
                if let Some(g) = global::find(&name) {
                    let value = match g.doc.value {
                        Some(_) => string(p.value().map_err(bad)?)?,
                        None => String::new(),
                    };
                    apply(&g.set, &mut globals, g.doc.long, value)?;
                    continue;
                }
                let Some(cmd) = command else {
                    return Err(unknown_flag_before_command(&name));
                };
                let Some(flag) = cmd.flag_docs().into_iter().find(|f| f.long == name) else {
                    let known: Vec<&str> = cmd
                        .flag_docs()
                        .iter()
                        .map(|f| f.long)
                        .chain(global::names())
                        .collect();
                    let hint = match htrac::nearest::nearest(&name, known) {
                        Some(n) => format!(
                            "did you mean '--{n}'? see 'htrac {} --help' for its flags",
                            cmd.name()
                        ),
                        None => format!("see 'htrac {} --help' for its flags", cmd.name()),
                    };
                    return Err(Error::user(format!(
                        "unknown flag '--{name}' for '{}'",
                        cmd.name()
                    ))
                    .with_hint(hint));
                };
                let value = match flag.value {
                    Some(placeholder) => string(p.value().map_err(|_| {
                        Error::user(format!("--{name} needs a value ({placeholder})"))
                            .with_hint(format!("write --{name} {placeholder}"))
                    })?)?,
                    None => String::new(),
                };
                flags.push((flag.long, value));
            }
            A::Short(c) => {
                return Err(
                    Error::user(format!("unknown flag '-{c}'")).with_hint("see 'htrac --help'")
                );
            }
            A::Value(v) => {
                let v = string(v)?;
                match command {
                    None => {
                        command = Some(find_command(&v).ok_or_else(|| {
                            let names = COMMANDS.iter().map(|c| c.name());
                            Error::user(format!("unknown command '{v}'")).with_hint(
                                match htrac::nearest::nearest(&v, names) {
                                    Some(n) => format!("did you mean '{n}'? see 'htrac --help' for the list of commands"),
                                    None => "see 'htrac --help' for the list of commands".into(),
                                },
                            )
                        })?);
                    }
                    Some(cmd) => {
                        let args = cmd.arg_docs();
                        let takes_more = args.last().is_some_and(|a| a.many);
                        if positionals.len() >= args.len() && !takes_more {
                            return Err(Error::user(format!(
                                "unexpected argument '{v}' for '{}'",
                                cmd.name()
                            ))
                            .with_hint(format!(
                                "see 'htrac {} --help'; quote text that contains spaces",
                                cmd.name()
                            )));
                        }
                        positionals.push(v);
                    }
                }
            }
        }
    }
    if globals.help {
        return Ok(Request::Help(command));
    }
    let Some(cmd) = command else {
        return Ok(Request::Help(None));
    };
    if let Some(missing) = cmd
        .arg_docs()
        .into_iter()
        .skip(positionals.len())
        .find(|a| a.required)
    {
        return Err(
            Error::user(format!("'{}' needs {}", cmd.name(), missing.name))
                .with_hint(format!("usage: {}", usage(cmd))),
        );
    }
    Ok(Request::Run(Invocation {
        name: cmd.name(),
        command: cmd.build(positionals, flags)?,
        global: globals,
    }))
}

/// A flag no global flag is, met before the command name: a command's own
/// flag (which must follow its command), or a slip of a global one.
fn unknown_flag_before_command(name: &str) -> Error {
    let e = Error::user(format!("unknown flag '--{name}'"));
    if COMMANDS
        .iter()
        .any(|c| c.flag_docs().iter().any(|f| f.long == name))
    {
        return e.with_hint(format!(
            "--{name} belongs to a command: write it after the command name (htrac COMMAND --{name} ...)"
        ));
    }
    match htrac::nearest::nearest(name, global::names()) {
        Some(n) => e.with_hint(format!("did you mean '--{n}'? see 'htrac --help'")),
        None => e.with_hint("see 'htrac --help' for the global flags and commands"),
    }
}

fn string(v: OsString) -> Result<String> {
    v.into_string().map_err(|v| {
        Error::user(format!(
            "argument is not valid UTF-8: {}",
            v.to_string_lossy()
        ))
    })
}

fn usage(cmd: &dyn Command) -> String {
    let mut s = format!("htrac {}", cmd.name());
    for a in cmd.arg_docs() {
        let ArgDoc {
            name,
            required,
            many,
        } = a;
        let dots = if *many { "..." } else { "" };
        if *required {
            s.push_str(&format!(" {name}{dots}"));
        } else {
            s.push_str(&format!(" [{name}{dots}]"));
        }
    }
    if !cmd.flag_docs().is_empty() {
        s.push_str(" [FLAGS]");
    }
    s
}

fn flag_lines<'a>(flags: impl IntoIterator<Item = &'a FlagDoc>) -> String {
    let rows: Vec<(String, &str)> = flags
        .into_iter()
        .map(|f| {
            (
                match f.value {
                    Some(v) => format!("--{} {v}", f.long),
                    None => format!("--{}", f.long),
                },
                f.help,
            )
        })
        .collect();
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(l, h)| format!("  {l:width$}  {h}\n"))
        .collect()
}

fn global_lines() -> String {
    flag_lines(GLOBAL_FLAGS.iter().map(|f| &f.doc))
}

/// The `--help` text, made from the declarations.
pub fn help(cmd: Option<&dyn Command>) -> String {
    match cmd {
        Some(c) => format!(
            "{}\n\nusage: {}\n\nflags:\n{}\nglobal flags (anywhere on the line):\n{}",
            c.summary(),
            usage(c),
            if c.flag_docs().is_empty() {
                "  (none)\n".to_string()
            } else {
                flag_lines(c.flag_docs())
            },
            global_lines()
        ),
        None => {
            let width = COMMANDS.iter().map(|c| c.name().len()).max().unwrap_or(0);
            let list: String = COMMANDS
                .iter()
                .map(|c| format!("  {:width$}  {}\n", c.name(), c.summary()))
                .collect();
            format!(
                "htrac — a work tracker for AI coding agents and the humans who govern them\n\nusage: htrac COMMAND [ARGS] [FLAGS]\n\ncommands:\n{list}\nglobal flags (anywhere on the line):\n{}\nItems can be named by full ID, any unique prefix (WI-foh or foh), or :N (row N of the last list/ready).\nExit codes: 0 success, 1 bad input or refused, 2 corrupt data or internal error.\nRun 'htrac COMMAND --help' for a command's flags.\n",
                global_lines()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    //! Checks over every command's declarations (each command's own flags
    //! are tested next to them).

    use super::super::testing::{cmd, err};
    use super::*;

    /// The `n`th value a placeholder accepts (none is any flag's default).
    fn sample(placeholder: &str, n: usize) -> String {
        match placeholder {
            "0-4" => n.to_string(),
            "N" => (6 + n).to_string(),
            "TIER" => ["stealth", "canonical"][n - 1].to_string(),
            "DURATION" => format!("{n}m"),
            "YYYY-MM-DD" => format!("2026-01-0{n}"),
            "KEY=VALUE" => format!("k{n}=v"),
            "on|off|status" => "on".to_string(),
            "ITEM" => format!("WI-{n}"),
            _ => format!("x{n}"),
        }
    }

    /// The command and its required arguments.
    fn required(c: &dyn Command) -> Vec<String> {
        let mut argv = vec![c.name().to_string()];
        for a in c.arg_docs().into_iter().filter(|a| a.required) {
            argv.push(sample(a.name, 1));
        }
        argv
    }

    fn with(base: &[String], more: &[String]) -> Vec<String> {
        base.iter().chain(more).cloned().collect()
    }

    fn parse_all(argv: &[String]) -> Cmd {
        cmd(&argv.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// Flags that keep every value though their help does not say
    /// "(repeatable)" (as they always have).
    const QUIETLY_REPEATABLE: &[&str] = &["add-blocked-by", "remove-blocked-by"];

    #[test]
    fn every_flag_lands_in_its_own_place() {
        for c in COMMANDS {
            let base = required(*c);
            let plain = parse_all(&base);
            let mut seen: Vec<(&str, Cmd)> = Vec::new();
            for f in c.flag_docs() {
                let (long, name) = (f.long, c.name());
                let flag = format!("--{long}");
                let given = match f.value {
                    None => parse_all(&with(&base, std::slice::from_ref(&flag))),
                    Some(ph) => {
                        let got = parse_all(&with(&base, &[flag.clone(), sample(ph, 1)]));
                        let joined = format!("{flag}={}", sample(ph, 1));
                        assert_eq!(parse_all(&with(&base, &[joined])), got, "{name} {flag}=");
                        // A repeatable flag keeps every value; another keeps the last.
                        let twice = parse_all(&with(
                            &base,
                            &[flag.clone(), sample(ph, 1), flag.clone(), sample(ph, 2)],
                        ));
                        let last = parse_all(&with(&base, &[flag.clone(), sample(ph, 2)]));
                        let repeatable =
                            f.help.contains("(repeatable)") || QUIETLY_REPEATABLE.contains(&long);
                        assert_eq!(twice != last, repeatable, "{name} {flag} given twice");
                        got
                    }
                };
                assert_ne!(given, plain, "{name} {flag}: its value lands nowhere");
                for (other, earlier) in &seen {
                    assert_ne!(
                        &given, earlier,
                        "{name}: {flag} and --{other} land in one place"
                    );
                }
                assert!(
                    global::find(long).is_none(),
                    "{name} {flag} is hidden by the global flag"
                );
                seen.push((long, given));
            }
        }
    }

    #[test]
    fn unknown_flags_are_refused() {
        for c in COMMANDS {
            let name = c.name();
            let argv = with(&required(*c), &["--bogus".to_string()]);
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            assert_eq!(
                err(&argv),
                format!(
                    "error: unknown flag '--bogus' for '{name}'\nhint: see 'htrac {name} --help' for its flags\n"
                )
            );
        }
        assert_eq!(
            err(&["--bogus", "list"]),
            "error: unknown flag '--bogus'\nhint: see 'htrac --help' for the global flags and commands\n"
        );
        assert_eq!(
            err(&["list", "-x"]),
            "error: unknown flag '-x'\nhint: see 'htrac --help'\n"
        );
        // Another command's flag is unknown too.
        assert!(
            err(&["show", "WI-x", "--limit", "3"]).contains("unknown flag '--limit' for 'show'")
        );
        assert_eq!(
            err(&["frobnicate"]),
            "error: unknown command 'frobnicate'\nhint: see 'htrac --help' for the list of commands\n"
        );
    }

    #[test]
    fn values_arguments_and_dashes() {
        assert_eq!(
            err(&["update", "WI-x", "--priority"]),
            "error: --priority needs a value (0-4)\nhint: write --priority 0-4\n"
        );
        assert_eq!(
            err(&["show"]),
            "error: 'show' needs ITEM\nhint: usage: htrac show ITEM [FLAGS]\n"
        );
        assert_eq!(
            err(&["lock", "WI-x"]),
            "error: 'lock' needs FIELD\nhint: usage: htrac lock ITEM FIELD...\n"
        );
        assert_eq!(
            err(&["show", "a", "b"]),
            "error: unexpected argument 'b' for 'show'\nhint: see 'htrac show --help'; quote text that contains spaces\n"
        );
        assert!(err(&["--tracker-root"]).contains("missing argument for option '--tracker-root'"));
        // After `--` everything is an argument, even what looks like a flag.
        let Cmd::Discuss(d) = cmd(&["discuss", "WI-x", "--", "--not-a-flag"]) else {
            panic!()
        };
        assert_eq!(d.message.as_deref(), Some("--not-a-flag"));
        let Cmd::Lock(l) = cmd(&["lock", "WI-x", "status", "--", "-p"]) else {
            panic!()
        };
        assert_eq!(l.fields, ["status", "-p"]);
        assert!(matches!(parse(vec!["-V".into()]), Ok(Request::Version)));
        assert!(err(&["list", "--version"]).contains("unknown flag '--version' for 'list'"));
    }

    /// `:N` is resolved in every value that names an item, and only there.
    #[test]
    fn item_values_are_the_ones_resolved() {
        let resolved = |argv: &[String]| -> bool {
            let mut c = parse_all(argv);
            for v in c.items_mut() {
                if v == ":1" {
                    *v = "WI-resolved".into();
                }
            }
            !format!("{c:?}").contains("\":1\"")
        };
        for c in COMMANDS {
            let base = required(*c);
            for f in c.flag_docs() {
                let Some(ph) = f.value else { continue };
                let argv = with(&base, &[format!("--{}", f.long), ":1".into()]);
                let argv_str: Vec<&str> = argv.iter().map(String::as_str).collect();
                if parse(argv_str.iter().map(Into::into).collect()).is_err() {
                    continue; // a number, a tier, ...: never an item
                }
                assert_eq!(resolved(&argv), ph == "ITEM", "{} --{}", c.name(), f.long);
            }
            let args = c.arg_docs();
            for (i, a) in args.iter().enumerate() {
                let mut argv = vec![c.name().to_string()];
                for (j, b) in args.iter().enumerate() {
                    if j == i {
                        argv.push(":1".into());
                    } else if j < i || b.required {
                        argv.push(sample(b.name, 1));
                    }
                }
                let argv_str: Vec<&str> = argv.iter().map(String::as_str).collect();
                if parse(argv_str.iter().map(Into::into).collect()).is_err() {
                    continue;
                }
                assert_eq!(resolved(&argv), a.name == "ITEM", "{} {}", c.name(), a.name);
            }
        }
    }

    #[test]
    fn help_is_made_from_the_declarations() {
        for c in COMMANDS {
            let text = help(Some(*c));
            assert!(text.starts_with(c.summary()), "{}", c.name());
            for f in c.flag_docs() {
                let shown = match f.value {
                    Some(v) => format!("--{} {v}", f.long),
                    None => format!("--{}", f.long),
                };
                let line = text.lines().find(|l| l.trim_start().starts_with(&shown));
                assert!(
                    line.is_some_and(|l| l.ends_with(f.help)),
                    "{}: {shown}",
                    c.name()
                );
            }
            assert!(help(None).contains(&format!("  {} ", c.name())));
        }
        assert_eq!(
            help(find_command("show")),
            "Show one item in full\n\nusage: htrac show ITEM [FLAGS]\n\nflags:\n  --include-deleted  also show deleted (tombstoned) messages\n  --include-history  show earlier texts of edited messages\n\nglobal flags (anywhere on the line):\n  --json               print machine-readable JSON (stable; see README)\n  --tracker-root PATH  the .agent/ directory (default: nearest .agent/ above the working directory)\n  --no-auto-sync       do not sync after a change\n  --help               show help\n"
        );
        assert!(help(find_command("cache-rebuild")).contains("flags:\n  (none)\n"));
    }
}
