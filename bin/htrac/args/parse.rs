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
                    return Err(Error::user(format!("unknown flag '--{name}'")).with_hint(
                        "put the command name first: htrac COMMAND [FLAGS]; see 'htrac --help'",
                    ));
                };
                let Some(flag) = cmd.flag_docs().into_iter().find(|f| f.long == name) else {
                    return Err(Error::user(format!(
                        "unknown flag '--{name}' for '{}'",
                        cmd.name()
                    ))
                    .with_hint(format!("see 'htrac {} --help' for its flags", cmd.name())));
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
                            Error::user(format!("unknown command '{v}'"))
                                .with_hint("see 'htrac --help' for the list of commands")
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
