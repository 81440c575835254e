//! `explain`: the facts about 127.0.0.1:62893 must come out true for this machine.

use crate::harness::{json, run, tcp_listener};

fn live_ephemeral() -> (u16, u16) {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap();
    let v: Vec<u16> = text
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    (v[0], v[1])
}

#[test]
fn explains_the_intellij_debugger_address() {
    let (lo, hi) = live_ephemeral();
    let inside = (lo..=hi).contains(&62893);
    let r = json(&["explain", "127.0.0.1:62893"]);
    assert_eq!(r["address"]["class"], "loopback");
    assert_eq!(r["port"]["iana_range"], "dynamic");
    assert_eq!(r["port"]["in_ephemeral_range"], inside);
    assert_eq!(r["port"]["ephemeral_range"], serde_json::json!([lo, hi]));
    assert_eq!(r["port"]["privileged"], false);
    let facts: Vec<String> = r["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap().to_string())
        .collect();
    let all = facts.join("\n");
    assert!(all.contains("loopback"), "{all}");
    assert!(all.contains("IntelliJ"), "{all}");
    let t = run(&["explain", "127.0.0.1:62893"]);
    assert_eq!(t.code, 0);
    let range = format!("ephemeral range {lo}-{hi}");
    assert!(t.stdout.contains(&range), "{}", t.stdout);
    if !inside {
        assert!(
            t.stdout
                .contains("62893 is NOT in this machine's ephemeral range"),
            "{}",
            t.stdout
        );
    }
    assert!(t.stdout.contains("dynamic/private"), "{}", t.stdout);
    assert!(t.stdout.contains("not privileged"), "{}", t.stdout);
    assert!(t.stdout.contains("[here]") && t.stdout.contains("[general]"));
}

#[test]
fn says_what_holds_the_port_now_and_how_localhost_resolves() {
    let l = tcp_listener("127.0.0.1");
    let target = format!("localhost:{}", l.words[0]);
    let r = json(&["explain", &target]);
    assert_eq!(r["now"]["held"], true, "{r}");
    let t = run(&["explain", &target]);
    assert!(
        t.stdout.contains("localhost resolves here to"),
        "{}",
        t.stdout
    );
    assert!(
        t.stdout.contains(&format!("python3[{}]", l.pid)),
        "{}",
        t.stdout
    );
    let r = json(&["explain", "22/tcp"]);
    assert_eq!(r["port"]["iana"][0][1]["name"], "ssh", "{r}");
}

#[test]
fn explains_a_range_against_the_live_ephemeral_range() {
    let (lo, hi) = live_ephemeral();
    let target = format!("{}-{}", hi - 9, hi.saturating_add(10));
    let t = run(&["explain", &target]);
    assert_eq!(t.code, 0, "{t:?}");
    let want = format!("10 of these 20 ports are in this machine's ephemeral range {lo}-{hi}");
    assert!(t.stdout.contains(&want), "{}", t.stdout);
}
