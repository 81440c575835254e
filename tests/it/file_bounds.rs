//! Files someone else may control are read with a bound: `ports.toml` (found by walking up
//! through directories such as `/tmp`), `--config FILE`, the audit allowlist and the
//! registry. A huge (sparse) file, `/dev/zero` or a FIFO is refused with exit 2 — quickly,
//! in little memory and without hanging — naming the path, and the bound when it is size.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::audit::{Scratch, run_in};
use super::harness::{self, Run, TempDir};

/// What [`measured`] saw of one run.
#[derive(Debug)]
struct Measured {
    code: i32,
    stderr: String,
    /// From fork to reaped.
    wall: Duration,
    /// The child's peak resident set (`ru_maxrss`), KiB.
    max_rss_kib: u64,
}

/// Run the built binary with `args` in `cwd`, as the child of a small python3 that forks,
/// execs it and reaps it with `wait4`, which returns the child's resource usage as
/// `getrusage(RUSAGE_CHILDREN)` would. (`unsafe` is forbidden here and rustix has no
/// getrusage; the python is already every listener's.) The forked python's own pages count
/// in the peak (about 10 MiB): the figure is an upper bound on portscope's.
fn measured(cwd: &Path, args: &[&str]) -> Measured {
    const SCRIPT: &str = "import os,sys,time\n\
        t=time.monotonic()\n\
        pid=os.fork()\n\
        if pid==0:\n    os.dup2(2,1); os.execv(sys.argv[1],sys.argv[1:])\n\
        _,st,ru=os.wait4(pid,0)\n\
        print(os.waitstatus_to_exitcode(st),(time.monotonic()-t)*1e6,ru.ru_maxrss,flush=True)\n";
    let out = Command::new("python3")
        .args(["-c", SCRIPT, env!("CARGO_BIN_EXE_portscope")])
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let words: Vec<&str> = stdout.split_whitespace().collect();
    let [code, micros, rss] = words[..] else {
        panic!(
            "measuring {args:?}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    Measured {
        code: code.parse().unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        wall: Duration::from_micros(micros.parse::<f64>().unwrap() as u64),
        max_rss_kib: rss.parse().unwrap(),
    }
}

/// Run portscope with `args` in `cwd`; `None` if it is still running after `limit` (it is
/// killed then).
fn within(cwd: &Path, args: &[&str], limit: Duration) -> Option<Run> {
    let mut child = harness::portscope()
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Some(Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    })
}

/// A sparse file of `len` bytes (no disk, no page cache: only a size).
fn sparse(path: &Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

fn fifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        0,
    )
    .unwrap();
}

/// One line on stderr that names `path` and says each of `what`.
fn says(stderr: &str, path: &str, what: &[&str]) {
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(path) && what.iter().all(|w| stderr.contains(w)),
        "expected {path} and {what:?} in: {stderr}"
    );
}

const ONE_MIB: &str = "1 MiB (1048576 bytes)";

#[test]
fn a_sparse_gigabyte_ports_toml_is_refused_in_milliseconds_and_little_memory() {
    let dir = TempDir::new("sparse-ports");
    let file = dir.path().join("ports.toml");
    sparse(&file, 1 << 30);
    let state = dir.join("state");
    let m = measured(dir.path(), &["env", "--state-dir", &state]);
    assert_eq!(m.code, 2, "{m:?}");
    says(
        &m.stderr,
        &file.display().to_string(),
        &["too large: 1073741824 bytes", ONE_MIB],
    );
    // The numbers: under 100 ms, under 30 MiB at its peak (it read the whole
    // gigabyte, then scanned it: over a minute and 2 GiB in a debug build).
    assert!(m.wall < Duration::from_millis(100), "{m:?}");
    assert!(m.max_rss_kib < 30 * 1024, "{m:?}");
    assert!(
        !Path::new(&state).exists(),
        "nothing was done before the file was read"
    );
}

#[test]
fn dev_zero_and_a_fifo_as_config_are_refused_without_reading_them() {
    let dir = TempDir::new("config-devices");
    let state = dir.join("state");
    for verb in ["env", "check-config"] {
        let m = measured(
            dir.path(),
            &[verb, "--config", "/dev/zero", "--state-dir", &state],
        );
        assert_eq!(m.code, 2, "{verb}: {m:?}");
        says(
            &m.stderr,
            "/dev/zero",
            &["is a character device, not a regular file"],
        );
        assert!(m.wall < Duration::from_millis(100), "{verb}: {m:?}");
        assert!(m.max_rss_kib < 30 * 1024, "{verb}: {m:?}");
    }
    // Nobody will ever write to it: a blocking open or read would wait forever.
    let pipe = dir.path().join("ports.toml");
    fifo(&pipe);
    for args in [
        vec!["env", "--config", dir.arg()],
        vec!["check-config", "--config", pipe.to_str().unwrap()],
        // Found by the search, too.
        vec!["env"],
    ] {
        let mut all = args.clone();
        all.extend(["--state-dir", &state]);
        let r = within(dir.path(), &all, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{args:?} still waits on the FIFO after 10 s"));
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        says(
            &r.stderr,
            &pipe.display().to_string(),
            &["is a FIFO (named pipe), not a regular file"],
        );
    }
}

#[test]
fn the_search_upwards_stops_at_a_ports_toml_that_is_not_a_regular_file() {
    // A ports.toml further up is fine; the one in between is a FIFO, or too large: the
    // search must say so, not pass it by for the one above.
    let dir = TempDir::new("search-up");
    let sub = dir.path().join("sub");
    let deeper = sub.join("deeper");
    std::fs::create_dir_all(&deeper).unwrap();
    std::fs::write(
        dir.path().join("ports.toml"),
        "[services.web]\nport = 3000\n",
    )
    .unwrap();
    let state = dir.join("state");
    let between = sub.join("ports.toml");
    let between_text = between.display().to_string();
    let run = |verb: &str| {
        within(
            &deeper,
            &[verb, "--state-dir", &state],
            Duration::from_secs(10),
        )
        .unwrap_or_else(|| panic!("{verb} still waits on {between_text} after 10 s"))
    };
    fifo(&between);
    let r = run("env");
    assert_eq!(r.code, 2, "{r:?}");
    says(&r.stderr, &between_text, &["a FIFO (named pipe)"]);
    std::fs::remove_file(&between).unwrap();
    sparse(&between, (1 << 20) + 1);
    let r = run("check-config");
    assert_eq!(r.code, 2, "{r:?}");
    says(
        &r.stderr,
        &between_text,
        &["too large: 1048577 bytes", ONE_MIB],
    );
    // Exactly the bound is still read (and parsed: a file of 1 MiB of spaces is empty).
    std::fs::write(&between, vec![b' '; 1 << 20]).unwrap();
    let r = run("env");
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{r:?}");
}

#[test]
fn a_too_large_allowlist_is_refused_naming_it_and_the_bound() {
    let dir = Scratch::new();
    let file = dir.path().join("portscope-audit.toml");
    sparse(&file, (1 << 20) + 1);
    let path = file.display().to_string();
    // Given, and found in the working directory.
    for r in [run_in(&dir, &["--allowlist", &path]), run_in(&dir, &[])] {
        assert_eq!(r.code, 2, "{r:?}");
        says(&r.stderr, &path, &["too large: 1048577 bytes", ONE_MIB]);
    }
    // One found in the working directory that is a FIFO is an error too, not skipped.
    std::fs::remove_file(&file).unwrap();
    fifo(&file);
    let r = run_in(&dir, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    says(
        &r.stderr,
        &path,
        &["a FIFO (named pipe), not a regular file"],
    );
}

#[test]
fn a_too_large_or_fifo_registry_is_refused_naming_it_and_the_bound() {
    let dir = TempDir::new("registry-size");
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let registry = state.join("registry.json");
    let path = registry.display().to_string();
    std::fs::write(dir.path().join("ports.toml"), "[services.web]\n").unwrap();
    sparse(&registry, (16 << 20) + 1);
    let s = state.to_str().unwrap();
    // Read under the lock (reserve, release, pick, env) and without it (check-config).
    for args in [
        vec!["reserve", "app"],
        vec!["release", "app"],
        vec!["pick"],
        vec!["env"],
        vec!["check-config"],
    ] {
        let mut all = args.clone();
        all.extend(["--state-dir", s]);
        let r = harness::output(harness::portscope().args(&all).current_dir(dir.path()));
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        let bound = "16 MiB (16777216 bytes)";
        says(
            &r.stderr,
            &path,
            &["too large: 16777217 bytes", bound, "left untouched"],
        );
        assert_eq!(std::fs::metadata(&registry).unwrap().len(), (16 << 20) + 1);
    }
    std::fs::remove_file(&registry).unwrap();
    fifo(&registry);
    for args in [vec!["reserve", "app"], vec!["check-config"]] {
        let mut all = args.clone();
        all.extend(["--state-dir", s]);
        let r = within(dir.path(), &all, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{args:?} still waits on the FIFO after 10 s"));
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        says(
            &r.stderr,
            &path,
            &["a FIFO (named pipe), not a regular file"],
        );
    }
}
