//! Tables as people see them: columns line up after a CJK process name (display width, not
//! characters), `ls` fits an 80-column terminal (tmux, as a person's window) by shortening
//! long cells with "…", and piped output — what programs read — is never shortened.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use unicode_width::UnicodeWidthStr;

use crate::harness::{self, Spawned, TempDir};

/// The display column where `needle` starts in `line` (`None` when it is not there).
fn column_of(line: &str, needle: &str) -> Option<usize> {
    line.find(needle).map(|i| line[..i].width())
}

/// The display column of the first cell after `cell` in `line`.
fn next_cell_column(line: &str, cell: &str) -> usize {
    let start = line
        .find(cell)
        .unwrap_or_else(|| panic!("no {cell} in {line}"));
    let after = &line[start + cell.len()..];
    let skipped = after.len() - after.trim_start().len();
    line[..start + cell.len() + skipped].width()
}

#[test]
fn a_cjk_process_name_keeps_the_columns_aligned() {
    let cjk = harness::named_listener("服务器");
    let ascii = harness::tcp_listener("127.0.0.1");
    let r = harness::run(&["ls", "--tcp"]);
    assert_eq!(r.code, 0, "{r:?}");
    let header = r.stdout.lines().next().unwrap();
    let row = |port: &str| {
        r.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{port} ")))
            .unwrap_or_else(|| panic!("no row for {port}:\n{}", r.stdout))
    };
    let (cjk_row, ascii_row) = (row(&cjk.words[0]), row(&ascii.words[0]));
    let process = column_of(header, "PROCESS").unwrap();
    let user = column_of(header, "USER").unwrap();
    // 服务器 is three characters and six columns: the old padding by characters put
    // everything after it three columns to the right.
    assert_eq!(column_of(cjk_row, "服务器"), Some(process), "{}", r.stdout);
    assert_eq!(next_cell_column(cjk_row, "服务器"), user, "{}", r.stdout);
    assert_eq!(
        column_of(ascii_row, "python3"),
        Some(process),
        "{}",
        r.stdout
    );
    assert_eq!(next_cell_column(ascii_row, "python3"), user, "{}", r.stdout);
}

/// A unix listener at a path far longer than a terminal line, whose process is named
/// `a-long-process-name` (comm keeps 15 bytes of it); prints its pid.
fn long_unix_listener(path: &Path) -> Spawned {
    harness::python(&format!(
        "import socket,os,time,ctypes\n\
         ctypes.CDLL(None).prctl(15, b'a-long-process-name', 0, 0, 0)\n\
         s=socket.socket(socket.AF_UNIX); s.bind({path:?}); s.listen(4)\n\
         print(os.getpid(), flush=True)\n\
         time.sleep(120)\n",
        path = path.display().to_string()
    ))
}

/// A socket path of about 95 bytes (the limit is 107) in `dir`.
fn long_path(dir: &TempDir) -> PathBuf {
    let name = "a-socket-whose-path-is-longer-than-any-terminal-line";
    let fill = 95usize.saturating_sub(dir.arg().len() + 1 + name.len() + 5);
    dir.path().join(format!("{name}{}.sock", "-".repeat(fill)))
}

/// Run `portscope ARGS` in a detached tmux session `width` columns wide (a private server,
/// killed at the end) and return everything it printed, wrapped lines joined again (`-J`), so
/// a line wider than the window shows as wider. `None` without tmux (skipped).
fn in_tmux(args: &str, width: u16) -> Option<String> {
    let tmux = harness::needs(&harness::current_test(), "tmux", "tmux")?;
    let dir = TempDir::new("tables-tmux");
    std::fs::write(
        dir.path().join("tmux.conf"),
        "set -g remain-on-exit on\nset -g history-limit 50000\n",
    )
    .unwrap();
    let tmux_cmd = |args: &[&str]| {
        let out = Command::new(&tmux)
            .arg("-S")
            .arg(dir.path().join("sock"))
            .arg("-f")
            .arg(dir.path().join("tmux.conf"))
            .env_remove("TMUX")
            .env_remove("COLUMNS") // the width must come from the terminal itself
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let bin = env!("CARGO_BIN_EXE_portscope").replace('\'', r"'\''");
    let cmd = format!("'{bin}' {args} --color=never; echo \"exited with $?\"");
    tmux_cmd(&[
        "new-session",
        "-d",
        "-x",
        &width.to_string(),
        "-y",
        "30",
        &cmd,
    ]);
    let t0 = Instant::now();
    let screen = loop {
        let screen = tmux_cmd(&["capture-pane", "-p", "-J", "-S", "-"]);
        if screen.contains("exited with ") {
            break screen;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "no exit:\n{screen}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = tmux_cmd(&["kill-server"]);
    assert!(screen.contains("exited with 0"), "{screen}");
    Some(screen)
}

/// Every line of `screen` is at most `width` columns.
fn assert_fits(screen: &str, width: usize) {
    for line in screen.lines() {
        assert!(
            line.width() <= width,
            "{} columns: {line}\n{screen}",
            line.width()
        );
    }
}

#[test]
fn ls_fits_an_80_column_terminal() {
    let dir = TempDir::new("tables-fit");
    let path = long_path(&dir);
    let l = long_unix_listener(&path);
    let pid = l.words[0].clone();
    let Some(screen) = in_tmux("ls --unix", 80) else {
        return;
    };
    assert_fits(&screen, 80);
    let row = screen
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == pid))
        .unwrap_or_else(|| panic!("no row for pid {pid}:\n{screen}"));
    // The path was shortened with "…" to a prefix of itself; the name (15 columns) too, as
    // names give columns first.
    let address = row
        .split_whitespace()
        .find(|w| w.starts_with('/'))
        .unwrap_or_else(|| panic!("no address in {row}"));
    let shown = address.strip_suffix('…').unwrap_or_else(|| panic!("{row}"));
    assert!(path.display().to_string().starts_with(shown), "{row}");
    let name = row
        .split_whitespace()
        .find(|w| w.starts_with("a-long"))
        .unwrap_or_else(|| panic!("no process name in {row}"));
    assert!(name == "a-long-process-" || name.ends_with('…'), "{row}");
    // The same command on a terminal that is wide enough is not shortened.
    let wide = in_tmux("ls --unix", 250).unwrap();
    assert!(wide.contains(&path.display().to_string()), "{wide}");
}

#[test]
fn piped_output_is_never_fitted() {
    let dir = TempDir::new("tables-piped");
    let path = long_path(&dir);
    let _l = long_unix_listener(&path);
    // COLUMNS is for a terminal; a pipe gets whole lines whatever it says.
    let r = harness::output(
        harness::portscope()
            .env("COLUMNS", "40")
            .args(["ls", "--unix"]),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&path.display().to_string()),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains('…'), "{}", r.stdout);
    let widest = r.stdout.lines().map(UnicodeWidthStr::width).max();
    assert!(widest > Some(80), "{}", r.stdout);
}

#[test]
fn who_wraps_a_long_command_line_under_itself() {
    let l = harness::python(
        "import socket,os,time\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(4)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)  # a command line longer than any terminal line: the whole script\n",
    );
    let port = l.words[0].clone();
    let Some(screen) = in_tmux(&format!("who {port}"), 80) else {
        return;
    };
    assert_fits(&screen, 80);
    // The command wraps under its first line, and none of it is lost.
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("  command   "))
        .unwrap_or_else(|| panic!("no command line:\n{screen}"));
    assert!(lines[at + 1].starts_with(&" ".repeat(12)), "{screen}");
    let joined: String = lines[at..]
        .iter()
        .take_while(|l| l.starts_with("  command") || l.starts_with(&" ".repeat(12)))
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains("longer than any terminal line"), "{joined}");
}
