//! A free port's last holder, from the history store: the newest stay recorded on the
//! target's port (and serving its address), and that stay in one sentence. `who`, `explain`
//! and `doctor` show it when nothing listens there now.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Query, Reader, Stay, find};
use crate::knowledge::addr_class::receives_for;
use crate::target::Target;

/// The last recorded listener of a port that is free now.
#[derive(Debug, Clone, Serialize)]
pub struct PastHolder {
    /// The store it was read from.
    pub store: PathBuf,
    /// Its stay: listener, owner, open and close times, how it ended.
    pub stay: Stay,
    /// When the recorder last looked (Unix seconds): a stay still open in the store but
    /// gone now ended after this.
    pub store_last_alive: Option<f64>,
}

/// The past holder in one sentence: "free since 14:02:11; before that: python3 (pid 4121)
/// `python3 -m http.server 8000` in /srv/app, user root, 13:40:02–14:02:11 (process exited)".
pub fn past_sentence(past: &PastHolder, now: f64) -> String {
    use crate::text::terminal;
    let st = &past.stay;
    let t = |secs: f64| crate::time::local(secs, now);
    let who = match &st.listener.owner {
        Some(o) => {
            let mut w = format!("{} (pid {})", terminal(&o.process), o.pid);
            if !o.cmdline.is_empty() {
                let mut cmd = crate::text::command_line(&o.cmdline);
                if cmd.chars().count() > 80 {
                    cmd = cmd.chars().take(77).collect::<String>() + "...";
                }
                w.push_str(&format!(" `{cmd}`"));
            }
            if let Some(cwd) = &o.cwd {
                w.push_str(&format!(" in {}", terminal(cwd)));
            }
            if let Some(user) = &o.user {
                w.push_str(&format!(", user {}", terminal(user)));
            }
            w
        }
        None => format!(
            "a process that could not be inspected (socket uid {})",
            st.listener.uid
        ),
    };
    let addr = std::net::SocketAddr::new(st.listener.address, st.listener.port);
    match (st.closed_at, st.ending) {
        (Some(closed), Some(crate::watch::Ending::WhileNotRecording)) => format!(
            "free now; before that: {who}, listened on {} {addr} from {}; it closed while nothing recorded, between {} and {}",
            st.listener.proto.as_str(),
            t(st.opened_at),
            st.closed_after.map_or_else(|| "?".to_string(), t),
            t(closed)
        ),
        (Some(closed), ending) => format!(
            "free since {}; before that: {who}, listened on {} {addr}, {}–{}{}",
            t(closed),
            st.listener.proto.as_str(),
            t(st.opened_at),
            t(closed),
            ending.map_or(String::new(), |e| format!(
                " ({})",
                e.as_str().replace('-', " ")
            ))
        ),
        (None, _) => format!(
            "free now; the history store last saw {who}, listening on {} {addr} (since {}); it ended after the recorder's last look{}",
            st.listener.proto.as_str(),
            t(st.opened_at),
            past.store_last_alive
                .map_or(String::new(), |l| format!(" at {}", t(l)))
        ),
    }
}

/// The last listener the history store recorded for the target's single port (serving its
/// address); `None` without a store, a single port, or a record.
pub fn last_recorded(target: &Target, state_dir: Option<&Path>) -> Option<PastHolder> {
    let (lo, hi) = target.port_range()?;
    if lo != hi {
        return None;
    }
    let path = find(state_dir)?;
    let reader = Reader::open(&path).ok()??;
    let query = Query {
        ports: Some((lo, hi)),
        proto: target.proto(),
        limit: 100,
        ..Query::default()
    };
    let addrs = crate::snapshot::target_addrs(target);
    let stay = reader
        .stays(&query)
        .ok()?
        .into_iter()
        .filter(|st| {
            addrs
                .as_ref()
                .is_none_or(|a| a.iter().any(|ip| receives_for(st.listener.address, *ip)))
        })
        .max_by(|a, b| {
            let end = |s: &Stay| s.closed_at.unwrap_or(f64::INFINITY);
            end(a)
                .total_cmp(&end(b))
                .then(a.opened_at.total_cmp(&b.opened_at))
        })?;
    Some(PastHolder {
        store: path,
        stay,
        store_last_alive: reader.coverage().ok().flatten().map(|(_, last)| last),
    })
}
