//! `htrac-hook`: the stop hook for agent harnesses.

fn main() -> std::process::ExitCode {
    eprintln!("htrac-hook: not implemented yet");
    std::process::ExitCode::from(2)
}
