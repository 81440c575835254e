//! What a hand edit can break that JSON cannot say: two reservations of one name (which one
//! does `release` forget?) or of one port (both services would be handed it). Checked on
//! every read in one pass, a map per key; only when one is found does a second pass walk the
//! JSON to each of the two entries, so that serde_json — which counts lines — says where
//! they are, and the message can name both lines.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Data;
use crate::error::{Error, Result};
use crate::text::terminal;

/// No name and no port is reserved twice; else bad input naming both lines and the fix.
pub(super) fn no_duplicates(data: &Data, bytes: &[u8], path: &Path) -> Result<()> {
    let n = data.reservations.len();
    let mut names: HashMap<&str, usize> = HashMap::with_capacity(n);
    let mut ports: HashMap<u16, usize> = HashMap::with_capacity(n);
    let line = |index: usize, field: &str| {
        line_of(bytes, index, field)
            .map_or_else(|| format!("entry {}", index + 1), |l| format!("line {l}"))
    };
    for (i, r) in data.reservations.iter().enumerate() {
        if let Some(&first) = names.get(r.name.as_str()) {
            return Err(Error::bad_input(
                format!(
                    "the registry {} reserves the name '{}' twice ({} and {})",
                    path.display(),
                    terminal(&r.name),
                    line(first, "name"),
                    line(i, "name")
                ),
                "a name has one reservation: edit the file and delete one of the two entries \
                 (it was left untouched)",
            ));
        }
        names.insert(&r.name, i);
        if let Some(&first) = ports.get(&r.port) {
            let other = &data.reservations[first].name;
            return Err(Error::bad_input(
                format!(
                    "the registry {} reserves port {} twice: for '{}' ({}) and '{}' ({})",
                    path.display(),
                    r.port,
                    terminal(other),
                    line(first, "port"),
                    terminal(&r.name),
                    line(i, "port")
                ),
                "a port is reserved for one name: edit the file and delete one of the two \
                 entries, or give it a port `portscope pick` prints (it was left untouched)",
            ));
        }
        ports.insert(r.port, i);
    }
    Ok(())
}

/// The line of `reservations[index].field` in `bytes` (which parsed once already).
fn line_of(bytes: &[u8], index: usize, field: &str) -> Option<usize> {
    let path = [
        Step::Key("reservations"),
        Step::Index(index),
        Step::Key(field),
    ];
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match Seek(&path).deserialize(&mut de) {
        // The text parsed once: the only error about a value's type is the one at the end.
        Err(e) if e.is_data() && e.line() > 0 => Some(e.line()),
        _ => None,
    }
}

/// One step of the way to a value: a key of an object, an index of an array.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Walks the JSON along the steps, skipping everything else, and fails at the value they
/// lead to: serde_json gives the error the line where that value ends.
struct Seek<'a>(&'a [Step<'a>]);

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        match self.0.first() {
            None => d.deserialize_any(Here),
            Some(Step::Key(_)) => d.deserialize_map(self),
            Some(Step::Index(_)) => d.deserialize_seq(self),
        }
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the registry's layout")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let Some((Step::Key(wanted), rest)) = self.0.split_first() else {
            return Ok(());
        };
        while let Some(key) = map.next_key::<String>()? {
            if key == *wanted {
                map.next_value_seed(Seek(rest))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let Some((&Step::Index(wanted), rest)) = self.0.split_first() else {
            return Ok(());
        };
        let mut index = 0;
        loop {
            let more = if index == wanted {
                seq.next_element_seed(Seek(rest))?.is_some()
            } else {
                seq.next_element::<IgnoredAny>()?.is_some()
            };
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }
}

/// Accepts no value: every `visit_*` is serde's "invalid type" error.
struct Here;

impl Visitor<'_> for Here {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("nothing (this is where the value is)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const TEXT: &str = r#"{
  "schema_version": 1,
  "note": {"reservations": [1, 2]},
  "reservations": [
    {
      "name": "a",
      "port": 4100,
      "created": 1
    },
    {"created": 1, "port": 4200,
     "name": "b"},
    {
      "port": 4100,
      "name": "a",
      "created": 1
    }
  ]
}
"#;

    #[test]
    fn lines_of_fields_even_the_last_one_of_an_entry() {
        let b = TEXT.as_bytes();
        assert_eq!(line_of(b, 0, "name"), Some(6));
        assert_eq!(line_of(b, 0, "port"), Some(7));
        assert_eq!(line_of(b, 1, "port"), Some(10));
        assert_eq!(line_of(b, 1, "name"), Some(11));
        assert_eq!(line_of(b, 2, "name"), Some(14));
        assert_eq!(line_of(b, 2, "port"), Some(13));
        assert_eq!(line_of(b, 3, "name"), None);
        assert_eq!(line_of(b, 0, "dir"), None);
    }

    #[test]
    fn a_name_or_a_port_twice_names_both_lines() {
        let path = Path::new("/s/registry.json");
        let err = super::super::parse(TEXT.as_bytes(), path)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "the registry /s/registry.json reserves the name 'a' twice (line 6 and line 14); \
             a name has one reservation: edit the file and delete one of the two entries \
             (it was left untouched)"
        );
        let ports = TEXT.replace(
            "\"name\": \"a\",\n      \"created\"",
            "\"name\": \"c\",\n      \"created\"",
        );
        let err = super::super::parse(ports.as_bytes(), path)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "the registry /s/registry.json reserves port 4100 twice: for 'a' (line 7) and 'c' (line 13); "
            ),
            "{err}"
        );
    }
}
