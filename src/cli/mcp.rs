//! The MCP tools' side of the one command-line definition: each tool's input schema is read
//! from its verb's clap arguments (names, help, flags, choices), and a tool call's JSON
//! arguments become an argv that clap parses as the command line would — so a tool takes what
//! the verb takes, checked by the same rules, with the same one-line errors.
//!
//! Nothing here speaks MCP: the server (`web::mcp`) asks the application for the tools, and
//! the application asks here — [`tools`] and [`command_for`]. `kill` is the one tool with an
//! argument of its own: `confirm`. Without `confirm: true` a call is `kill --dry-run` (the
//! plan, nothing sent); with it, `kill --yes` — every refusal of the command line stands.

use clap::{ArgAction, Args, CommandFactory, Parser};
use serde_json::{Map, Value, json};

use super::{Cli, Command};
use crate::commands::mcp::Options;
use crate::web::mcp::{Effect, Refused, ToolSpec};

/// Arguments of `mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// Leave out the tools that stop processes or change reservations: kill, reserve, release.
    #[arg(long)]
    pub read_only: bool,
}

impl McpArgs {
    /// The typed options of `mcp`.
    pub fn options(&self) -> crate::error::Result<Options> {
        Ok(Options {
            read_only: self.read_only,
        })
    }
}

/// The tools: (tool name, verb, what it may change). Verbs that start servers or run
/// programs (`serve`, `forward`, `tap`, `ui`, `run`, `exporter`, `daemon`, `watch`) are not
/// tools.
pub const TOOLS: &[(&str, &str, Effect)] = &[
    ("ls", "ls", Effect::ReadOnly),
    ("who", "who", Effect::ReadOnly),
    ("explain", "explain", Effect::ReadOnly),
    ("doctor", "doctor", Effect::ReadOnly),
    ("probe", "probe", Effect::ReadOnly),
    ("pick", "pick", Effect::Lease),
    ("reserve", "reserve", Effect::Store),
    ("release", "release", Effect::Store),
    ("wait", "wait", Effect::ReadOnly),
    ("history", "history", Effect::ReadOnly),
    ("audit", "audit", Effect::ReadOnly),
    ("check_config", "check-config", Effect::ReadOnly),
    ("kill", "kill", Effect::Processes),
];

/// `kill`'s flags a tool call does not set itself: `confirm` decides them.
const KILL_DECIDED: &[&str] = &["yes", "dry_run"];

/// Every tool with its schema, in [`TOOLS`] order.
pub fn tools() -> Vec<ToolSpec> {
    let cli = Cli::command();
    TOOLS
        .iter()
        .filter_map(|&(name, verb, effect)| {
            let sub = cli.find_subcommand(verb)?;
            let mut input_schema = schema(name, sub);
            let mut description = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            if name == "kill" {
                add_confirm(&mut input_schema);
                description.push_str(
                    " Without confirm=true nothing is stopped: the answer is the plan (who, which signals).",
                );
            }
            Some(ToolSpec {
                name,
                description,
                input_schema,
                effect,
            })
        })
        .collect()
}

/// `kill`'s schema: `yes` and `dry_run` out, `confirm` in.
fn add_confirm(schema: &mut Map<String, Value>) {
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        for decided in KILL_DECIDED {
            props.remove(*decided);
        }
        props.insert(
            "confirm".into(),
            json!({
                "type": "boolean",
                "default": false,
                "description": "Stop the holders. Without it (the default) nothing is sent: the answer is what would be stopped and how."
            }),
        );
    }
}

/// The JSON Schema of a verb's arguments: a property per argument (its long name with `-`
/// as `_`, or the positional's id), booleans for flags, arrays for repeatable ones, `enum` for
/// a closed set of values; strings otherwise — integers are accepted too and passed on as
/// text, as a shell would (a port is `8080` or `"8080"`). One `type` per schema (`anyOf` for
/// either), as the single-type dialects of some model providers need.
fn schema(tool: &str, verb: &clap::Command) -> Map<String, Value> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for arg in verb.get_arguments() {
        if !offered(tool, arg) {
            continue;
        }
        let name = property(arg);
        let mut p = Map::new();
        if let Some(help) = arg.get_help() {
            p.insert("description".into(), json!(help.to_string()));
        }
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
        let optional_value = arg.get_num_args().is_some_and(|n| n.min_values() == 0);
        let scalar = if matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse) {
            json!({"type": "boolean"})
        } else if optional_value {
            // `wait --http [PATH]`: true for the flag alone, or the value.
            json!({"anyOf": [{"type": "boolean"}, {"type": "string"}]})
        } else if !values.is_empty() {
            json!({"type": "string", "enum": values})
        } else {
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        };
        let many = !optional_value
            && (matches!(arg.get_action(), ArgAction::Append)
                || arg.get_num_args().is_some_and(|n| n.max_values() > 1));
        if many {
            p.insert("type".into(), json!("array"));
            p.insert("items".into(), scalar);
        } else if let Value::Object(s) = scalar {
            p.extend(s);
        }
        if arg.is_required_set() {
            required.push(json!(name));
        }
        properties.insert(name, Value::Object(p));
    }
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    schema.insert("required".into(), Value::Array(required));
    schema.insert("additionalProperties".into(), json!(false));
    schema
}

/// Whether a tool takes this argument of its verb: not the ones about how the command line
/// prints (`--json`, `--color`, `audit --sarif`: a tool's answer is the JSON report and the
/// text), nor `--help`, `--version` or hidden ones.
fn offered(tool: &str, arg: &clap::Arg) -> bool {
    let id = arg.get_id().as_str();
    let printing = matches!(id, "help" | "version" | "json" | "color");
    let sarif = tool == "audit" && id == "sarif";
    !(arg.is_hide_set() || printing || sarif)
}

/// The property name of an argument: its long name with `-` as `_`, else its id.
fn property(arg: &clap::Arg) -> String {
    arg.get_long()
        .unwrap_or(arg.get_id().as_str())
        .replace('-', "_")
}

/// The command a tool call asks for: its arguments as a command line, parsed by clap. An
/// unknown tool is [`Refused::UnknownTool`]; an unknown argument, a value of the wrong type
/// or what clap refuses is [`Refused::BadArguments`] with the one-line message the command
/// line would print.
pub fn command_for(tool: &str, args: &Value) -> Result<Command, Refused> {
    let Some(&(_, verb, _)) = TOOLS.iter().find(|(name, ..)| *name == tool) else {
        let names: Vec<&str> = TOOLS.iter().map(|(n, ..)| *n).collect();
        return Err(Refused::UnknownTool(format!(
            "unknown tool '{tool}' (tools: {})",
            names.join(", ")
        )));
    };
    argv(tool, verb, args)
        .and_then(|argv| {
            Cli::try_parse_from(&argv)
                .map_err(|e| first_line(&e.to_string()))?
                .command
                .ok_or_else(|| format!("{tool}: no command"))
        })
        .map_err(Refused::BadArguments)
}

/// A call's arguments as the command line that asks the same.
fn argv(tool: &str, verb: &str, args: &Value) -> Result<Vec<String>, String> {
    let cli = Cli::command();
    let Some(sub) = cli.find_subcommand(verb) else {
        return Err(format!("unknown tool '{tool}'"));
    };
    let empty = Map::new();
    let given = match args {
        Value::Object(m) => m,
        Value::Null => &empty,
        _ => return Err(format!("{tool}: the arguments are a JSON object")),
    };
    let mut flags = vec!["portscope".to_string(), verb.to_string()];
    let mut positionals = Vec::new();
    for (key, value) in given {
        if tool == "kill" && key == "confirm" {
            match value {
                Value::Bool(true) => flags.push("--yes".into()),
                Value::Bool(false) | Value::Null => {}
                _ => return Err("kill: 'confirm' is true or false".into()),
            }
            continue;
        }
        let decided = tool == "kill" && KILL_DECIDED.contains(&key.as_str());
        let Some(arg) = sub
            .get_arguments()
            .find(|a| property(a) == *key && offered(tool, a))
            .filter(|_| !decided)
        else {
            return Err(format!("{tool}: unknown argument '{key}'"));
        };
        let flag = matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
        let optional_value = arg.get_num_args().is_some_and(|n| n.min_values() == 0);
        match (arg.get_long(), value) {
            (Some(long), Value::Bool(set)) if flag || optional_value => {
                if *set {
                    flags.push(format!("--{long}"));
                }
            }
            (_, Value::Bool(_)) if flag => {}
            (Some(_), _) if flag => return Err(format!("{tool}: '{key}' is true or false")),
            (Some(long), _) => {
                for w in words(tool, key, value)? {
                    flags.push(format!("--{long}={w}"));
                }
            }
            (None, _) => positionals.extend(words(tool, key, value)?),
        }
    }
    if tool == "kill" && !flags.iter().any(|f| f == "--yes") {
        flags.push("--dry-run".into());
    }
    // Positionals after `--`: a value that starts with `-` stays a value.
    flags.push("--".into());
    flags.extend(positionals);
    Ok(flags)
}

/// A JSON value as command-line words: a string or number as itself, an array element by
/// element, a boolean for flags only.
fn words(tool: &str, key: &str, value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Number(n) => Ok(vec![n.to_string()]),
        Value::Bool(_) => Err(format!("{tool}: '{key}' is not true or false")),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(format!("{tool}: '{key}' takes strings or numbers")),
            })
            .collect(),
        _ => Err(format!(
            "{tool}: '{key}' takes a string, a number or a list of them"
        )),
    }
}

/// clap's message without its usage block: its first line, `error: ` dropped.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn refusal(tool: &str, args: Value) -> String {
        match command_for(tool, &args) {
            Err(Refused::BadArguments(e) | Refused::UnknownTool(e)) => e,
            Ok(c) => panic!("{tool} {args} was taken: {c:?}"),
        }
    }

    #[test]
    fn every_tool_has_a_schema_read_from_its_verb() {
        let tools = tools();
        assert_eq!(tools.len(), TOOLS.len());
        let who = tools.iter().find(|t| t.name == "who").unwrap();
        assert!(!who.description.is_empty());
        let props = &who.input_schema["properties"];
        assert!(props.get("target").is_some(), "{:?}", who.input_schema);
        assert!(props.get("json").is_none());
        let kill = tools.iter().find(|t| t.name == "kill").unwrap();
        assert_eq!(kill.input_schema["properties"]["force"]["type"], "boolean");
    }

    #[test]
    fn a_call_becomes_the_command_the_command_line_would_give() {
        let call = command_for("who", &json!({"target": "8080"})).unwrap();
        assert!(matches!(call, Command::Who(_)), "{call:?}");
        let call = command_for("probe", &json!({"targets": ["53/udp", 8080]})).unwrap();
        assert!(matches!(call, Command::Probe(_)), "{call:?}");
        let call = command_for("wait", &json!({"target": 8080, "http": true})).unwrap();
        assert!(
            matches!(&call, Command::Wait(w) if w.http.as_deref() == Some("/")),
            "{call:?}"
        );
    }

    #[test]
    fn kill_is_a_dry_run_unless_confirmed() {
        let argv = |args| argv("kill", "kill", &args).unwrap();
        assert!(argv(json!({"targets": 8080})).contains(&"--dry-run".to_string()));
        let confirmed = argv(json!({"targets": 8080, "confirm": true}));
        assert!(confirmed.contains(&"--yes".to_string()));
        assert!(!confirmed.contains(&"--dry-run".to_string()));
        let kill = tools().into_iter().find(|t| t.name == "kill").unwrap();
        let props = &kill.input_schema["properties"];
        assert!(props.get("confirm").is_some() && props.get("yes").is_none());
        assert!(props.get("dry_run").is_none());
        assert_eq!(kill.effect, Effect::Processes);
    }

    #[test]
    fn bad_calls_are_one_line_errors() {
        assert!(matches!(
            command_for("nope", &json!({})),
            Err(Refused::UnknownTool(e)) if e.contains("unknown tool 'nope'") && e.contains("check_config")
        ));
        assert_eq!(
            refusal("who", json!({"bogus": 1})),
            "who: unknown argument 'bogus'"
        );
        assert!(refusal("who", json!([1, 2])).contains("JSON object"));
        let e = refusal("probe", json!({"deadline": "soon"}));
        assert!(!e.contains('\n') && e.contains("soon"), "{e}");
        assert_eq!(
            refusal("who", json!({"probe": "yes"})),
            "who: 'probe' is true or false"
        );
        // What confirm decides cannot be set around it.
        assert_eq!(
            refusal("kill", json!({"targets": 8080, "yes": true})),
            "kill: unknown argument 'yes'"
        );
        assert!(
            refusal("kill", json!({"targets": 8080, "confirm": "yes"})).contains("true or false")
        );
    }
}
