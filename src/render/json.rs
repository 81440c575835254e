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
    let envelope = envelope(command, report);
    if pretty {
        serde_json::to_string_pretty(&envelope)
    } else {
        serde_json::to_string(&envelope)
    }
}

/// [`to_string`], written to `out` as it is serialised.
pub fn to_writer<T: Serialize>(
    out: &mut dyn std::io::Write,
    command: &str,
    report: &T,
    pretty: bool,
) -> serde_json::Result<()> {
    let envelope = envelope(command, report);
    if pretty {
        serde_json::to_writer_pretty(out, &envelope)
    } else {
        serde_json::to_writer(out, &envelope)
    }
}

/// `report` inside the envelope.
fn envelope<'a, T: Serialize>(command: &'a str, report: &'a T) -> Envelope<'a, T> {
    Envelope {
        schema_version: SCHEMA_VERSION,
        command,
        portscope_version: env!("CARGO_PKG_VERSION"),
        report,
    }
}
