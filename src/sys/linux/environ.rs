//! Environment variables a client would see: portscope's own (it runs in the user's shell,
//! beside the client that fails), or a running process's, from `/proc/<pid>/environ`.

use crate::error::{Error, Result};

/// The most of `/proc/<pid>/environ` read (the kernel caps an environment far lower in
/// practice; this bounds a hostile one).
const MAX_ENVIRON: u64 = 1 << 20;

/// portscope's own environment (names and values that are not UTF-8 are read lossily).
pub fn own() -> Vec<(String, String)> {
    std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect()
}

/// The environment process `pid` started with (its initial environment: later `setenv`
/// calls inside the process do not show here).
pub fn of_pid(pid: u32) -> Result<Vec<(String, String)>> {
    use std::io::Read;
    let path = format!("/proc/{pid}/environ");
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_ENVIRON).read_to_end(&mut bytes))
        .map_err(|e| Error::io(format!("reading {path}"), e))?;
    Ok(parse(&bytes))
}

/// `NAME=value\0…` into pairs.
fn parse(bytes: &[u8]) -> Vec<(String, String)> {
    bytes
        .split(|b| *b == 0)
        .filter_map(|entry| {
            let text = String::from_utf8_lossy(entry);
            let (k, v) = text.split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reads_its_own() {
        let got = parse(b"A=1\0B=x=y\0junk\0\0");
        assert_eq!(got, [("A".into(), "1".into()), ("B".into(), "x=y".into())]);
        let me = of_pid(std::process::id()).unwrap();
        assert!(me.iter().any(|(k, _)| k == "PATH" || k == "HOME"), "{me:?}");
    }
}
