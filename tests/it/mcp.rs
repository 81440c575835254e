//! `portscope mcp` driven by the clients agents and their developers use, none written here:
//! the official MCP Inspector in CLI mode (npm `@modelcontextprotocol/inspector`) and the
//! Python MCP SDK (PyPI `mcp`, running `tests/fixtures/mcp/session.py`). `.ci/run` installs
//! both in directories of the checkout's own; elsewhere each test skips with one line.
//!
//! The holders are python3 children on port 0; `kill` only ever signals the one a test made.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use portscope::sys::procfs::pid_alive;
use serde_json::{Value, json};

use crate::harness::{self, TempDir, tcp_listener};
use crate::kill::holding;

const BIN: &str = env!("CARGO_BIN_EXE_portscope");

/// The tools, as listed.
const TOOLS: [&str; 13] = [
    "ls",
    "who",
    "explain",
    "doctor",
    "probe",
    "pick",
    "reserve",
    "release",
    "wait",
    "history",
    "audit",
    "check_config",
    "kill",
];

/// The Inspector's CLI, or one skip line.
fn inspector() -> Option<PathBuf> {
    harness::needs_npm(
        &harness::current_test(),
        "mcp-inspector",
        "@modelcontextprotocol/inspector",
    )
}

/// `mcp-inspector --cli portscope mcp [SERVER_ARGS] --method … --format json`: its exit code
/// and its one JSON line (the result, or on failure the error envelope it prints on stderr).
fn inspect(inspector: &PathBuf, server_args: &[&str], args: &[&str]) -> (i32, Value) {
    let mut cmd = Command::new(inspector);
    cmd.args(["--cli", BIN, "mcp"]).args(server_args);
    if !server_args.is_empty() {
        cmd.arg("--");
    }
    let out = cmd
        .args(args)
        .args(["--format", "json"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run mcp-inspector");
    let code = out.status.code().unwrap_or(-1);
    let text = if code == 0 { &out.stdout } else { &out.stderr };
    let text = String::from_utf8_lossy(text);
    let line = text
        .lines()
        .rfind(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "no JSON from mcp-inspector {args:?} (exit {code}):\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    (
        code,
        serde_json::from_str(line).expect("the Inspector's JSON"),
    )
}

/// `tools/call TOOL ARGS` through the Inspector: the result.
fn call(inspector: &PathBuf, tool: &str, args: Value) -> Value {
    let args = args.to_string();
    let (code, out) = inspect(
        inspector,
        &[],
        &[
            "--method",
            "tools/call",
            "--tool-name",
            tool,
            "--tool-args-json",
            &args,
        ],
    );
    assert_eq!(code, 0, "{tool} {args}: {out:#}");
    out["result"].clone()
}

#[test]
fn inspector_lists_every_tool_with_its_schema_and_safety_hints() {
    let Some(inspector) = inspector() else { return };
    // --strict: the Inspector's schema-portability lint fails the run on any error.
    let (code, out) = inspect(&inspector, &[], &["--method", "tools/list", "--strict"]);
    assert_eq!(code, 0, "{out:#}");
    let tools = out["result"]["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, TOOLS);
    let tool = |name: &str| tools.iter().find(|t| t["name"] == name).expect(name);
    for t in tools {
        assert_eq!(t["inputSchema"]["type"], "object", "{t:#}");
        assert!(!t["description"].as_str().unwrap_or("").is_empty(), "{t:#}");
    }
    assert!(tool("who")["inputSchema"]["properties"]["target"].is_object());
    assert_eq!(tool("who")["annotations"]["readOnlyHint"], true);
    for name in ["kill", "reserve", "release"] {
        let hints = &tool(name)["annotations"];
        assert_eq!(hints["readOnlyHint"], false, "{name}");
        assert_eq!(hints["destructiveHint"], true, "{name}");
    }
    let kill = &tool("kill")["inputSchema"]["properties"];
    assert_eq!(kill["confirm"]["type"], "boolean");
    assert!(kill.get("yes").is_none() && kill.get("dry_run").is_none());

    // --read-only: kill, reserve and release are neither listed nor callable.
    let (code, out) = inspect(&inspector, &["--read-only"], &["--method", "tools/list"]);
    assert_eq!(code, 0, "{out:#}");
    let listed: Vec<&str> = out["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        !listed.contains(&"kill") && listed.contains(&"pick"),
        "{listed:?}"
    );
    let (code, out) = inspect(
        &inspector,
        &["--read-only"],
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "kill",
            "--tool-arg",
            "targets=1",
        ],
    );
    assert_ne!(code, 0, "{out:#}");
}

#[test]
fn inspector_who_names_the_listener_the_test_started() {
    let Some(inspector) = inspector() else { return };
    let l = tcp_listener("127.0.0.1");
    let port = l.num(0);
    // A port as a number, as models often send it.
    let result = call(&inspector, "who", json!({"target": port}));
    assert_ne!(result["isError"], true, "{result:#}");
    assert_eq!(result["_meta"]["exit_code"], 0);
    let report = &result["structuredContent"];
    assert_eq!(report["command"], "who");
    let sockets = harness::on_port(report, port);
    assert!(
        sockets.iter().any(|s| harness::pids(s).contains(&l.pid)),
        "pid {} not found on {port}: {report:#}",
        l.pid
    );
    // The text for the model is the command line's, and names it too.
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains(&l.pid.to_string()), "{text}");
}

#[test]
fn inspector_kill_shows_the_plan_until_confirmed_then_frees_the_port() {
    let Some(inspector) = inspector() else { return };
    let l = tcp_listener("127.0.0.1");
    let port = l.num(0);
    let plan = call(&inspector, "kill", json!({"targets": port.to_string()}));
    assert_eq!(plan["structuredContent"]["dry_run"], true, "{plan:#}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        pid_alive(l.pid),
        "a kill without confirm stopped the holder"
    );
    assert!(
        !holding(port).is_empty(),
        "the port was freed without confirm"
    );
    let text = plan["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("nothing was sent"), "{text}");

    let done = call(
        &inspector,
        "kill",
        json!({"targets": port.to_string(), "confirm": true}),
    );
    assert_eq!(done["structuredContent"]["dry_run"], false, "{done:#}");
    assert_eq!(done["structuredContent"]["all_free"], true, "{done:#}");
    assert_eq!(done["_meta"]["exit_code"], 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while pid_alive(l.pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!pid_alive(l.pid), "the holder outlived a confirmed kill");
    assert!(holding(port).is_empty(), "port {port} still held");
}

/// The session of `tests/fixtures/mcp/session.py`: initialize, list, `pick` twice (distinct
/// ports), `wait` on a port opened 1 s later (progress heard), a long `probe` cancelled (back
/// within a second, no new connection after), a confirmed `kill` of a port the client itself
/// holds (refused: portscope's parent), and bad calls (errors, and the server answers on).
#[test]
fn python_sdk_session_picks_waits_cancels_and_survives_bad_calls() {
    let needs = "mcp (PyPI package; .ci/run installs it in target/ci-pypi)";
    let Some(python) = harness::pypi_python("import mcp.client.stdio", needs) else {
        return;
    };
    let state = TempDir::new("mcp-state");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mcp/session.py");
    let out = Command::new(python)
        .args([script, BIN])
        .env("XDG_STATE_HOME", state.arg())
        .env("NO_COLOR", "1")
        .output()
        .expect("run the Python MCP client");
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && transcript.trim_end().ends_with("session ok"),
        "the session failed ({}):\n{transcript}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn nothing_but_the_protocol_is_written_to_standard_output() {
    // A client that closes its end before initializing: a clean exit, and not a byte written.
    let out = harness::output_with_stdin(Command::new(BIN).arg("mcp"), b"");
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    // --json changes nothing: standard output is still the protocol's.
    let out = harness::output_with_stdin(Command::new(BIN).args(["mcp", "--json"]), b"");
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
}
