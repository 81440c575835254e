//! User names through NSS: a user that exists only in an NSS source other than `/etc/passwd`
//! (`libnss-extrausers`, whose users live in /var/lib/extrausers/passwd — as LDAP, SSSD and
//! systemd's DynamicUser accounts live elsewhere too) is found by `ls --user NAME` and named in
//! the USER column. Root only: the test adds `extrausers` to the passwd line of
//! /etc/nsswitch.conf and puts both files back as they were, however it ends.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness;

/// Where Debian puts the module (`/usr/lib` in bookworm; multiarch directories elsewhere).
const MODULE: [&str; 3] = [
    "/usr/lib/libnss_extrausers.so.2",
    "/usr/lib/x86_64-linux-gnu/libnss_extrausers.so.2",
    "/lib/x86_64-linux-gnu/libnss_extrausers.so.2",
];

const NSSWITCH: &str = "/etc/nsswitch.conf";
const EXTRA_PASSWD: &str = "/var/lib/extrausers/passwd";

/// A user name and uid no other source has (checked before use).
const NAME: &str = "ps-nss-only";
const UID: u32 = 61_731;

/// A file's content before the test, written back on drop (or the file removed if it did not
/// exist). Writes go through a temporary file and a rename: other programs on the machine may
/// read /etc/nsswitch.conf meanwhile, and must never see half of it.
struct Restore {
    path: PathBuf,
    before: Option<Vec<u8>>,
}

impl Restore {
    fn file(path: &str) -> Restore {
        Restore {
            path: PathBuf::from(path),
            before: std::fs::read(path).ok(),
        }
    }

    fn write(&self, content: &[u8]) {
        write_atomically(&self.path, content);
    }
}

fn write_atomically(path: &Path, content: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = path.with_extension("portscope-test");
    std::fs::write(&tmp, content).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

impl Drop for Restore {
    fn drop(&mut self) {
        match &self.before {
            Some(content) => write_atomically(&self.path, content),
            None => {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// `passwd:` with `extrausers` added at the end, the rest of the file as it was.
fn with_extrausers(nsswitch: &str) -> String {
    let mut seen = false;
    let mut out: Vec<String> = nsswitch
        .lines()
        .map(|line| {
            let is_passwd = line.trim_start().starts_with("passwd:");
            seen |= is_passwd;
            match is_passwd {
                true if !line.split_whitespace().any(|w| w == "extrausers") => {
                    format!("{line} extrausers")
                }
                _ => line.to_string(),
            }
        })
        .collect();
    if !seen {
        out.push("passwd: files extrausers".into());
    }
    out.join("\n") + "\n"
}

/// `getent passwd KEY`: what NSS answers, the oracle.
fn getent(key: &str) -> String {
    let out = Command::new("getent")
        .args(["passwd", key])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn ls_finds_and_names_a_user_known_only_through_nss() {
    let test = harness::current_test();
    if !harness::require_root(&test, "it edits /etc/nsswitch.conf") {
        return;
    }
    let found = MODULE.iter().any(|m| Path::new(m).exists());
    let needs = "libnss_extrausers.so.2 (Debian package libnss-extrausers)";
    if !harness::needs_installed(&test, found, needs) {
        return;
    }
    assert!(getent(NAME).is_empty() && getent(&UID.to_string()).is_empty());
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    assert!(!passwd.contains(NAME));

    std::fs::create_dir_all("/var/lib/extrausers").unwrap();
    let extra = Restore::file(EXTRA_PASSWD);
    let mut users = String::from_utf8(extra.before.clone().unwrap_or_default()).unwrap();
    users.push_str(&format!(
        "{NAME}:x:{UID}:{UID}:portscope NSS test:/nonexistent:/usr/sbin/nologin\n"
    ));
    extra.write(users.as_bytes());
    let nsswitch = Restore::file(NSSWITCH);
    let before = String::from_utf8(nsswitch.before.clone().unwrap_or_default()).unwrap();
    nsswitch.write(with_extrausers(&before).as_bytes());
    assert!(
        getent(NAME).starts_with(&format!("{NAME}:x:{UID}:")),
        "NSS does not know {NAME}: {:?}",
        std::fs::read_to_string(NSSWITCH)
    );

    // A listener running as that uid (its socket created after setuid, so the socket's uid
    // is the user's too).
    let l = harness::python(&format!(
        "import socket,os,time\n\
         os.setgroups([]); os.setgid({UID}); os.setuid({UID})\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(4)\n\
         print(s.getsockname()[1], os.getpid(), flush=True)\n\
         time.sleep(120)\n"
    ));
    let port = l.num(0);

    let r = harness::json(&["ls", "--tcp", "--user", NAME]);
    let rows = harness::on_port(&r, port);
    assert_eq!(rows.len(), 1, "{r}");
    assert_eq!(rows[0]["user"], NAME, "{r}");
    assert_eq!(harness::pids(&rows[0]), vec![l.pid], "{r}");
    let all = r["sockets"].as_array().unwrap();
    assert!(all.iter().all(|s| s["user"] == NAME), "only {NAME}'s: {r}");

    let t = harness::run(&["ls", "--tcp", "--user", NAME]);
    assert_eq!(t.code, 0, "{t:?}");
    let row = t
        .stdout
        .lines()
        .find(|line| line.starts_with(&format!("{port} ")))
        .unwrap_or_else(|| panic!("no row for {port}: {}", t.stdout));
    assert!(row.split_whitespace().any(|w| w == NAME), "{row}");
    // The uid, too, is named.
    let by_uid = harness::json(&["ls", "--tcp", "--user", &UID.to_string()]);
    assert_eq!(harness::on_port(&by_uid, port)[0]["user"], NAME);

    drop(l);
    drop(nsswitch);
    drop(extra);
    assert!(
        getent(NAME).is_empty(),
        "the NSS configuration is back as it was"
    );
    let gone = harness::run(&["ls", "--user", NAME]);
    assert_eq!(gone.code, 2, "{gone:?}");
    assert!(gone.stderr.contains("no user named"), "{gone:?}");
}
