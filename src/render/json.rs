//! JSON output: every report inside one versioned envelope (`docs/json.md`).

use serde::Serialize;

/// Version of the JSON schema. Bump on any rename or removal; additions keep it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    schema_version: u32,
    command: &'a str,
    portscope_version: &'a str,
    #[serde(flatten)]
    report: &'a T,
}

/// Serialise `report` for `command` with the envelope fields, indented when `pretty`.
pub fn to_string<T: Serialize>(
    command: &str,
    report: &T,
    pretty: bool,
) -> serde_json::Result<String> {
    let envelope = Envelope {
        schema_version: SCHEMA_VERSION,
        command,
        portscope_version: env!("CARGO_PKG_VERSION"),
        report,
    };
    if pretty {
        serde_json::to_string_pretty(&envelope)
    } else {
        serde_json::to_string(&envelope)
    }
}
