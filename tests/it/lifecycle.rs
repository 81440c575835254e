//! Integration tests of `pick`, `reserve` and `release`: the registry under concurrency and
//! crashes, and what a pick avoids.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::harness::{self, portscope, require_root};

/// A fresh state directory, removed on drop.
struct StateDir(PathBuf);

impl StateDir {
    fn new(tag: &str) -> StateDir {
        let dir = std::env::temp_dir().join(format!(
            "portscope-it-{tag}-{}-{}",
            std::process::id(),
            random() % 1_000_000
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        StateDir(dir)
    }

    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }

    fn registry(&self) -> PathBuf {
        self.0.join("registry.json")
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn random() -> u64 {
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}

fn run_in(state: &StateDir, args: &[&str]) -> harness::Run {
    harness::output(portscope().args(args).args(["--state-dir", state.arg()]))
}

fn one_port(r: &harness::Run) -> u16 {
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    r.stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a port: {:?}", r.stdout))
}

/// Reservations as name → port, from `reserve --list --json` (which must succeed).
fn reservations(state: &StateDir) -> BTreeMap<String, u16> {
    let r = run_in(state, &["reserve", "--list", "--json"]);
    assert_eq!(r.code, 0, "the registry no longer loads: {}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["port"].as_u64().unwrap() as u16,
            )
        })
        .collect()
}

fn ephemeral() -> (u16, u16) {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap();
    let mut it = text.split_whitespace().map(|t| t.parse::<u16>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}

#[test]
fn hundred_concurrent_picks_get_distinct_ports() {
    let state = StateDir::new("conc");
    let children: Vec<_> = (0..100)
        .map(|_| {
            portscope()
                .args(["pick", "--state-dir", state.arg()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ports = HashSet::new();
    let (lo, hi) = ephemeral();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port: u16 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        assert!(
            !(lo..=hi).contains(&port),
            "{port} is in the ephemeral range"
        );
        assert!(ports.insert(port), "port {port} was handed out twice");
    }
    assert_eq!(ports.len(), 100);
    // Every pick is recorded as a lease.
    let reg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.registry()).unwrap()).unwrap();
    assert_eq!(reg["leases"].as_array().unwrap().len(), 100);
}

#[test]
fn sigkill_at_any_moment_keeps_the_registry_loadable_and_committed_entries() {
    let state = StateDir::new("crash");
    let mut committed: BTreeMap<String, u16> = BTreeMap::new();
    for i in 0..5 {
        let name = format!("base{i}");
        let port = one_port(&run_in(&state, &["reserve", &name]));
        committed.insert(name, port);
    }
    let mut killed_mid_run = 0;
    for i in 0..100 {
        let name = format!("crash{i}");
        let args: Vec<&str> = if i % 2 == 0 {
            vec!["reserve", &name]
        } else {
            vec!["pick"]
        };
        let mut child = portscope()
            .args(&args)
            .args(["--state-dir", state.arg()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // A random moment within a run's lifetime (a debug build takes ~10-40 ms).
        std::thread::sleep(Duration::from_micros(random() % 40_000));
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            if i % 2 == 0 {
                let port = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
                committed.insert(name, port);
            }
        } else {
            killed_mid_run += 1;
        }
        let now = reservations(&state);
        for (name, port) in &committed {
            assert_eq!(
                now.get(name),
                Some(port),
                "{name} was committed on {port} but is gone after run {i}"
            );
        }
    }
    assert!(
        killed_mid_run > 10,
        "only {killed_mid_run} of 100 runs were killed mid-run: the test did not exercise crashes"
    );
}

#[test]
fn same_name_same_port_and_release_frees_it() {
    let state = StateDir::new("stable");
    let first = one_port(&run_in(&state, &["reserve", "shop/web"]));
    let again = one_port(&run_in(&state, &["reserve", "shop/web"]));
    assert_eq!(first, again);
    let other = one_port(&run_in(&state, &["reserve", "shop/api"]));
    assert_ne!(first, other);
    let listed = reservations(&state);
    assert_eq!(listed.get("shop/web"), Some(&first));

    let r = run_in(&state, &["release", "shop/web"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(&format!("port {first}")), "{}", r.stdout);
    assert!(!reservations(&state).contains_key("shop/web"));
    let r = run_in(&state, &["release", "shop/web"]);
    assert_eq!(r.code, 1, "releasing an unknown name is 'nothing'");
    assert!(r.stdout.contains("no reservation named shop/web"));
}

#[test]
fn explicit_ports_clash_and_picks_avoid_reservations() {
    let state = StateDir::new("clash");
    let p = one_port(&run_in(&state, &["pick"]));
    let ps = p.to_string();
    assert_eq!(
        one_port(&run_in(&state, &["reserve", "a", "--port", &ps])),
        p
    );

    let r = run_in(&state, &["reserve", "b", "--port", &ps]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains(&format!("port {p} is already reserved for 'a'"))
    );
    assert_eq!(r.stderr.lines().count(), 1);

    let q = if p > 1024 { p - 1 } else { p + 1 };
    let r = run_in(&state, &["reserve", "a", "--port", &q.to_string()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("'a' is already reserved on port"),
        "{}",
        r.stderr
    );

    // A range holding only the reserved port has nothing to give.
    let r = run_in(
        &state,
        &["pick", "--range", &format!("{p}-{p}"), "--allow-ephemeral"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("1 reserved or leased"), "{}", r.stderr);
}

#[test]
fn pick_avoids_ports_in_use_and_the_ephemeral_range() {
    let state = StateDir::new("avoid");
    let l = harness::tcp_listener("127.0.0.1");
    let port = l.num(0);
    let only = format!("{port}-{port}");
    let pick_only = |extra: &[&str]| {
        let mut args = vec!["pick", "--range", &only, "--allow-ephemeral"];
        args.extend_from_slice(extra);
        run_in(&state, &args)
    };
    let r = pick_only(&[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("1 in use"), "{}", r.stderr);
    // Free for another loopback address, though: 127.0.0.2 is not 127.0.0.1.
    let r = pick_only(&["--host", "127.0.0.2"]);
    assert_eq!(one_port(&r), port as u16);

    let (lo, hi) = ephemeral();
    let inside = format!("{lo}-{}", lo.saturating_add(20).min(hi));
    let r = run_in(&state, &["pick", "--range", &inside]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("ephemeral range") && r.stderr.contains("--allow-ephemeral"));
    let r = run_in(
        &state,
        &["pick", "--range", &inside, "--allow-ephemeral", "-c", "2"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 2);
}

#[test]
fn a_lease_ends_once_something_listened() {
    let state = StateDir::new("lease");
    let p = one_port(&run_in(&state, &["pick"]));
    let range = format!("{p}-{p}");
    let r = run_in(&state, &["pick", "--range", &range]);
    assert_eq!(r.code, 2, "a leased port must not be handed out again");
    // The caller starts its server on the port; the next pick sees it listening…
    let server = harness::python(&format!(
        "import socket,time\ns=socket.socket(); s.bind(('127.0.0.1',{p})); s.listen(1)\n\
         print('ready', flush=True)\ntime.sleep(120)\n"
    ));
    one_port(&run_in(&state, &["pick"]));
    drop(server);
    // …so once the server is gone the port is available again, before the 60 s lease.
    assert_eq!(one_port(&run_in(&state, &["pick", "--range", &range])), p);
}

#[test]
fn prune_forgets_names_whose_directory_is_gone() {
    let state = StateDir::new("prune");
    let gone = state.0.join("project-gone");
    std::fs::create_dir_all(&gone).unwrap();
    one_port(&run_in(
        &state,
        &["reserve", "old", "--dir", gone.to_str().unwrap()],
    ));
    one_port(&run_in(&state, &["reserve", "kept", "--dir", state.arg()]));
    std::fs::remove_dir_all(&gone).unwrap();
    let r = run_in(&state, &["reserve", "--prune"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("old") && r.stdout.contains("(gone)"),
        "{}",
        r.stdout
    );
    let left = reservations(&state);
    assert!(
        left.contains_key("kept") && !left.contains_key("old"),
        "{left:?}"
    );
}

#[test]
fn corrupt_registry_is_reported_with_its_path_and_left_untouched() {
    let state = StateDir::new("corrupt");
    let garbage = b"{\"schema_version\": 1, \"reservations\": [ {\"name\": \"x\"";
    std::fs::write(state.registry(), garbage).unwrap();
    for args in [
        vec!["pick"],
        vec!["reserve", "app"],
        vec!["reserve", "--list"],
        vec!["release", "app"],
    ] {
        let r = run_in(&state, &args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.contains(state.registry().to_str().unwrap())
                && r.stderr.contains("corrupt")
                && r.stderr.contains("untouched"),
            "{}",
            r.stderr
        );
        assert_eq!(std::fs::read(state.registry()).unwrap(), garbage);
    }
}

#[test]
fn unreadable_registry_is_reported_not_replaced() {
    if !require_root(
        "unreadable_registry_is_reported_not_replaced",
        "runs portscope as uid 65534 against root's state directory",
    ) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let state = StateDir::new("perm");
    std::fs::set_permissions(&state.0, std::fs::Permissions::from_mode(0o700)).unwrap();
    run_in(&state, &["reserve", "app"]);
    let before = std::fs::read(state.registry()).unwrap();
    let bin = harness::binary_for_other_users();
    let r = bin.run_as_nobody(&["reserve", "other", "--state-dir", state.arg()]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1);
    assert!(
        r.stderr.contains(state.arg()) && r.stderr.contains("ermission denied"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(state.registry()).unwrap(), before);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let state = StateDir::new("bad");
    let cases: &[&[&str]] = &[
        &["pick", "--range", "4000-3000"],
        &["pick", "--range", "0-10"],
        &["pick", "--range", "1-70000"],
        &["pick", "--range", "abc"],
        &["pick", "--count", "0"],
        &["pick", "--count", "x"],
        &["pick", "--host", "localhost"],
        &["pick", "--lease", "2d"],
        &["reserve", "-bad"],
        &["reserve", "has space"],
        &["reserve", "app", "--port", "70000"],
        &["reserve", "app", "--port", "0"],
        &["reserve", "app", "--range", "9-8"],
        &["reserve"],
        &["release", "a;b"],
    ];
    for args in cases {
        let r = run_in(&state, args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("portscope: error:"), "{}", r.stderr);
        assert!(!r.stderr.contains("panicked"));
    }
    assert!(!state.registry().exists() || reservations(&state).is_empty());
}

#[test]
fn state_dir_defaults_to_xdg_state_home() {
    let state = StateDir::new("xdg");
    let r = harness::output(
        portscope()
            .args(["reserve", "xdg-app"])
            .env_remove("PORTSCOPE_STATE_DIR")
            .env("XDG_STATE_HOME", state.arg()),
    );
    one_port(&r);
    assert!(
        Path::new(state.arg())
            .join("portscope/registry.json")
            .is_file()
    );
}
