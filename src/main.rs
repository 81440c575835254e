//! The `portscope` binary: parse, resolve a `Config` once, let `app` run the command, render,
//! exit.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use portscope::cli::{self, Cli};
use portscope::{app, exit::Exit, render};

fn main() -> ExitCode {
    // `portscope 3000` is `portscope who 3000`.
    let args = cli::with_lone_target(std::env::args_os());
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print(); // --help / --version: print and succeed
            return Exit::Success.into();
        }
        Err(e) => {
            // One line: on stderr with exit 2, or under `check` the plugin's UNKNOWN (exit 3).
            let usage = cli::usage_error(&args, &e);
            let _ = if usage.stdout {
                std::io::stdout().lock().write_all(usage.text.as_bytes())
            } else {
                std::io::stderr().lock().write_all(usage.text.as_bytes())
            };
            return usage.exit.into();
        }
    };
    let cfg = cli.config();
    let ui = render::interact::Terminal::new(&cfg);
    let (report, code) = match app::run(cli.command.as_ref(), &ui) {
        Ok(done) => done,
        Err(e) => {
            eprint!("{}", render::error(&e));
            return e.exit_code().into();
        }
    };
    let written = render::write_report(&report, &cfg, &mut std::io::stdout().lock());
    // A listing of 30k sockets is tens of thousands of small allocations; the OS takes them
    // back at exit faster than freeing them one by one.
    std::mem::forget(report);
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Exit::Failure.into(),
        _ => code.into(),
    }
}
