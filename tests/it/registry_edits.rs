//! The registry edited by hand (the README invites versioning it): a name or a port
//! reserved twice is refused on read, naming both lines and how to fix it, with the file
//! left as it is; fields portscope does not know survive its rewrites.

use serde_json::Value;

use super::harness::{self, Run, TempDir};

/// A state directory holding `registry.json` with `text`.
fn state_with(tag: &str, text: &str) -> (TempDir, String) {
    let dir = TempDir::new(tag);
    let registry = dir.join("registry.json");
    std::fs::write(&registry, text).unwrap();
    (dir, registry)
}

fn run(state: &TempDir, args: &[&str]) -> Run {
    harness::output(
        harness::portscope()
            .args(args)
            .args(["--state-dir", state.arg()])
            .current_dir(state.path()),
    )
}

/// Two entries named `a` (lines 5 and 10), and `b` on port 47102.
const TWO_NAMED_A: &str = r#"{
  "schema_version": 1,
  "reservations": [
    {
      "name": "a",
      "port": 47100,
      "created": 1700000000
    },
    {
      "name": "a",
      "port": 47101,
      "created": 1700000001
    },
    {
      "name": "b",
      "port": 47102,
      "created": 1700000002
    }
  ]
}
"#;

#[test]
fn a_name_reserved_twice_is_refused_naming_both_lines() {
    let (state, registry) = state_with("dup-name", TWO_NAMED_A);
    let commands = [
        vec!["release", "a"],
        vec!["reserve", "a"],
        vec!["reserve", "c"],
        vec!["reserve", "--list"],
        vec!["pick"],
    ];
    let says = format!("the registry {registry} reserves the name 'a' twice (line 5 and line 10)");
    refused(&state, &commands, &[&says, "delete one of the two entries"]);
    assert_eq!(std::fs::read_to_string(&registry).unwrap(), TWO_NAMED_A);
}

/// Each of `commands` exits 2 with one line on stderr that says each of `what`, and leaves
/// the registry as it was.
fn refused(state: &TempDir, commands: &[Vec<&str>], what: &[&str]) {
    let before = std::fs::read(state.path().join("registry.json")).unwrap();
    for args in commands {
        let r = run(state, args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        for w in what {
            assert!(r.stderr.contains(w), "{args:?}: no {w:?} in {}", r.stderr);
        }
        assert_eq!(
            std::fs::read(state.path().join("registry.json")).unwrap(),
            before
        );
    }
}

#[test]
fn a_port_reserved_twice_is_refused_naming_both_lines() {
    // The second `a` renamed `c`, and `b` moved to a's port by hand.
    let text = TWO_NAMED_A
        .replacen(
            "\"name\": \"a\",\n      \"port\": 47101",
            "\"name\": \"c\",\n      \"port\": 47101",
            1,
        )
        .replace("\"port\": 47102", "\"port\": 47100");
    let (state, registry) = state_with("dup-port", &text);
    let commands = [vec!["release", "b"], vec!["reserve", "d"], vec!["pick"]];
    let says = format!(
        "the registry {registry} reserves port 47100 twice: for 'a' (line 6) and 'b' (line 16)"
    );
    refused(&state, &commands, &[&says, "`portscope pick`"]);
    assert_eq!(std::fs::read_to_string(&registry).unwrap(), text);
}

#[test]
fn fields_portscope_does_not_know_survive_a_rewrite() {
    let text = r#"{
  "schema_version": 1,
  "comment": "hand-edited: see README",
  "reservations": [
    {
      "name": "a",
      "port": 47110,
      "created": 1700000000,
      "owner": "alice",
      "tags": ["db", "shared"]
    }
  ],
  "leases": []
}
"#;
    let (state, registry) = state_with("extra", text);
    let r = run(&state, &["reserve", "b", "--port", "47111"]);
    assert_eq!(r.code, 0, "{r:?}");
    let after = std::fs::read_to_string(&registry).unwrap();
    assert!(
        after.contains("\"comment\": \"hand-edited: see README\""),
        "{after}"
    );
    assert!(after.contains("\"owner\": \"alice\""), "{after}");
    let v: Value = serde_json::from_str(&after).unwrap();
    let list = v["reservations"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{after}");
    assert_eq!(list[0]["name"], "a");
    assert_eq!(list[0]["owner"], "alice");
    assert_eq!(list[0]["tags"], serde_json::json!(["db", "shared"]));
    assert_eq!(list[1]["name"], "b");
    assert!(list[1].get("owner").is_none(), "{after}");
    // Kept in the file, out of the report's schema.
    let r = run(&state, &["reserve", "--list", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("owner"), "{}", r.stdout);
    // And through a release (which rewrites the file again).
    let r = run(&state, &["release", "b"]);
    assert_eq!(r.code, 0, "{r:?}");
    let after = std::fs::read_to_string(&registry).unwrap();
    assert!(
        after.contains("\"comment\": \"hand-edited: see README\"")
            && after.contains("\"owner\": \"alice\""),
        "{after}"
    );
}
