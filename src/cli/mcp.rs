//! The MCP tools' side of the one command-line definition: each tool's input schema is read
//! from its verb's clap arguments (names, help, flags, choices), and a tool call's JSON
//! arguments become an argv that clap parses as the command line would — so a tool takes what
//! the verb takes, checked by the same rules, with the same one-line errors.
//!
//! Nothing here speaks MCP; the server asks for [`tools`] and [`command_for`].

use clap::{ArgAction, CommandFactory, Parser};
use serde_json::{Map, Value, json};

use super::{Cli, Command};

/// The tools: (tool name, verb). Verbs that start servers (`serve`, `forward`, `tap`, `ui`,
/// `run`, `exporter`, `daemon`) are not tools.
pub const TOOLS: &[(&str, &str)] = &[
    ("ls", "ls"),
    ("who", "who"),
    ("explain", "explain"),
    ("doctor", "doctor"),
    ("probe", "probe"),
    ("pick", "pick"),
    ("reserve", "reserve"),
    ("release", "release"),
    ("wait", "wait"),
    ("history", "history"),
    ("audit", "audit"),
    ("check_config", "check-config"),
    ("kill", "kill"),
];

/// One tool as the server lists it.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    /// The tool's name (`check_config`).
    pub name: &'static str,
    /// What it does: the verb's one-line help.
    pub description: String,
    /// A JSON Schema object of its arguments.
    pub input_schema: Value,
}

/// Every tool with its schema, in [`TOOLS`] order.
pub fn tools() -> Vec<ToolSpec> {
    let cli = Cli::command();
    TOOLS
        .iter()
        .filter_map(|&(name, verb)| {
            let sub = cli.find_subcommand(verb)?;
            Some(ToolSpec {
                name,
                description: sub.get_about().map(|a| a.to_string()).unwrap_or_default(),
                input_schema: schema(sub),
            })
        })
        .collect()
}

/// The JSON Schema of a verb's arguments: a property per argument (its long name with `-`
/// as `_`, or the positional's id), booleans for flags, arrays for repeatable ones, `enum` for
/// a closed set of values; strings otherwise — numbers are accepted too and passed on as text,
/// as a shell would.
fn schema(verb: &clap::Command) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for arg in verb.get_arguments() {
        let id = arg.get_id().as_str();
        if arg.is_hide_set() || matches!(id, "help" | "version" | "json" | "color") {
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
        let scalar = if matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse) {
            json!({"type": "boolean"})
        } else if !values.is_empty() {
            json!({"type": "string", "enum": values})
        } else {
            json!({"type": ["string", "number"]})
        };
        let many = matches!(arg.get_action(), ArgAction::Append)
            || arg.get_num_args().is_some_and(|n| n.max_values() > 1);
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
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// The property name of an argument: its long name with `-` as `_`, else its id.
fn property(arg: &clap::Arg) -> String {
    arg.get_long()
        .unwrap_or(arg.get_id().as_str())
        .replace('-', "_")
}

/// The command a tool call asks for: its arguments as a command line, parsed by clap. An
/// unknown tool or argument, a value of the wrong type, or what clap refuses is the one-line
/// message the command line would print.
pub fn command_for(tool: &str, args: &Value) -> Result<Command, String> {
    let Some(&(_, verb)) = TOOLS.iter().find(|(name, _)| *name == tool) else {
        let names: Vec<&str> = TOOLS.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "unknown tool '{tool}' (tools: {})",
            names.join(", ")
        ));
    };
    let cli = Cli::command();
    let Some(sub) = cli.find_subcommand(verb) else {
        return Err(format!("unknown tool '{tool}'"));
    };
    let empty = Map::new();
    let given = match args {
        Value::Object(m) => m,
        Value::Null => &empty,
        _ => return Err("a tool's arguments are a JSON object".into()),
    };
    let mut flags = vec!["portscope".to_string(), verb.to_string()];
    let mut positionals = Vec::new();
    for (key, value) in given {
        let Some(arg) = sub
            .get_arguments()
            .find(|a| property(a) == *key && !a.is_hide_set())
        else {
            return Err(format!("{tool}: unknown argument '{key}'"));
        };
        let words = words(tool, key, value)?;
        let flag = matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
        match (arg.get_long(), flag) {
            (Some(long), true) => {
                if value.as_bool() == Some(true) {
                    flags.push(format!("--{long}"));
                }
            }
            (Some(long), false) => {
                for w in words {
                    flags.push(format!("--{long}={w}"));
                }
            }
            (None, _) => positionals.extend(words),
        }
    }
    // Positionals after `--`: a value that starts with `-` stays a value.
    flags.push("--".into());
    flags.extend(positionals);
    Cli::try_parse_from(&flags)
        .map_err(|e| first_line(&e.to_string()))?
        .command
        .ok_or_else(|| format!("{tool}: no command"))
}

/// A JSON value as command-line words: a string or number as itself, an array element by
/// element, a boolean for flags only.
fn words(tool: &str, key: &str, value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Number(n) => Ok(vec![n.to_string()]),
        Value::Bool(_) => Ok(Vec::new()),
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

    #[test]
    fn every_tool_has_a_schema_read_from_its_verb() {
        let tools = tools();
        assert_eq!(tools.len(), TOOLS.len());
        let who = tools.iter().find(|t| t.name == "who").unwrap();
        assert!(!who.description.is_empty());
        let props = &who.input_schema["properties"];
        assert!(props.get("target").is_some(), "{:#}", who.input_schema);
        assert!(props.get("json").is_none());
        let kill = tools.iter().find(|t| t.name == "kill").unwrap();
        assert_eq!(
            kill.input_schema["properties"]["dry_run"]["type"],
            "boolean"
        );
    }

    #[test]
    fn a_call_becomes_the_command_the_command_line_would_give() {
        let call = command_for("who", &json!({"target": "8080"})).unwrap();
        assert!(matches!(call, Command::Who(_)), "{call:?}");
        let call = command_for("probe", &json!({"targets": ["53/udp", 8080]})).unwrap();
        assert!(matches!(call, Command::Probe(_)), "{call:?}");
        let call = command_for("kill", &json!({"targets": "8080", "dry_run": true})).unwrap();
        assert!(matches!(call, Command::Kill(_)), "{call:?}");
    }

    #[test]
    fn bad_calls_are_one_line_errors() {
        let e = command_for("nope", &json!({})).unwrap_err();
        assert!(
            e.contains("unknown tool 'nope'") && e.contains("check_config"),
            "{e}"
        );
        let e = command_for("who", &json!({"bogus": 1})).unwrap_err();
        assert_eq!(e, "who: unknown argument 'bogus'");
        let e = command_for("who", &json!([1, 2])).unwrap_err();
        assert!(e.contains("JSON object"), "{e}");
        let e = command_for("probe", &json!({"deadline": "soon"})).unwrap_err();
        assert!(!e.contains('\n') && e.contains("soon"), "{e}");
    }
}
