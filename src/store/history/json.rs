//! How stays and stored events look in JSON (`history --json`, `who`'s `last_holder`): the
//! listener and its owner flattened to the top level, with the field names of `daemon
//! --events` lines, and moments as RFC 3339 UTC plus Unix seconds.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::{Stay, Stored};
use crate::time::rfc3339;
use crate::watch::Listener;

/// A moment: `{"time": RFC 3339 UTC with milliseconds, "unix": seconds}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct When {
    /// RFC 3339, UTC, milliseconds.
    pub time: Stamp,
    /// Unix seconds, rounded to milliseconds.
    pub unix: f64,
}

impl When {
    /// The moment `unix`.
    pub fn at(unix: f64) -> When {
        When {
            time: Stamp(unix),
            unix: (unix * 1000.0).round() / 1000.0,
        }
    }
}

/// Unix seconds, serialised as RFC 3339 UTC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stamp(pub f64);

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(self.0))
    }
}

/// The listener and owner fields, in a `daemon --events` line's order.
fn listener_fields<S: SerializeStruct>(st: &mut S, l: &Listener) -> Result<(), S::Error> {
    let o = l.owner.as_ref();
    st.serialize_field("proto", &l.proto)?;
    st.serialize_field("address", &l.address)?;
    st.serialize_field("port", &l.port)?;
    st.serialize_field("inode", &l.inode)?;
    st.serialize_field("pid", &o.map(|o| o.pid))?;
    st.serialize_field("process", &o.map(|o| &o.process))?;
    st.serialize_field("cmdline", &o.map(|o| &o.cmdline))?;
    st.serialize_field("user", &o.and_then(|o| o.user.as_ref()))?;
    st.serialize_field("uid", &o.map_or(l.uid, |o| o.uid))?;
    st.serialize_field("cwd", &o.and_then(|o| o.cwd.as_ref()))?;
    st.serialize_field("container", &o.and_then(|o| o.container.as_ref()))?;
    st.serialize_field("unit", &o.and_then(|o| o.unit.as_ref()))?;
    st.serialize_field("start_time", &o.and_then(|o| o.start_time))?;
    match o.filter(|o| !o.others.is_empty()) {
        Some(o) => st.serialize_field("others", &o.others)?,
        None => st.skip_field("others")?,
    }
    if l.owner_hidden {
        st.serialize_field("owner_hidden", &true)?;
    } else {
        st.skip_field("owner_hidden")?;
    }
    Ok(())
}

impl Serialize for Stay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Stay", 21)?;
        listener_fields(&mut st, &self.listener)?;
        st.serialize_field("opened_at", &When::at(self.opened_at))?;
        st.serialize_field("found_open", &self.found_open)?;
        st.serialize_field("opened_after", &self.opened_after.map(When::at))?;
        st.serialize_field("closed_at", &self.closed_at.map(When::at))?;
        st.serialize_field("closed_after", &self.closed_after.map(When::at))?;
        st.serialize_field("ended", &self.ending)?;
        st.end()
    }
}

impl Serialize for Stored {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = &self.event;
        let mut st = s.serialize_struct("Stored", 24)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("event", &e.kind)?;
        st.serialize_field("time", &Stamp(e.time))?;
        st.serialize_field("unix", &When::at(e.time).unix)?;
        listener_fields(&mut st, &e.listener)?;
        let optional = [
            ("opened_at", e.opened_at),
            ("opened_after", self.opened_after),
            ("closed_after", self.closed_after),
        ];
        if self.found_open {
            st.serialize_field("found_open", &true)?;
        } else {
            st.skip_field("found_open")?;
        }
        for (name, value) in optional {
            match value {
                Some(t) => st.serialize_field(name, &Stamp(t))?,
                None => st.skip_field(name)?,
            }
        }
        match e.ending {
            Some(ending) => st.serialize_field("ended", &ending)?,
            None => st.skip_field("ended")?,
        }
        match self.open_id {
            Some(id) => st.serialize_field("open_id", &id)?,
            None => st.skip_field("open_id")?,
        }
        st.end()
    }
}
