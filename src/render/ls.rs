//! Human layout of `ls`: one aligned row per socket and a summary line.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr};

use super::hidden_line;
use super::style::Palette;
use super::table::{Row, Table};
use crate::commands::ls::{LsReport, LsRow};
use crate::containers::NatPublished;
use crate::knowledge::addr_class::{Exposure, exposure};
use crate::model::Endpoint;
use crate::text;

/// A listener's exposure; nothing for a connection.
fn exposure_label(row: &LsRow) -> &'static str {
    row.exposure
        .filter(|_| row.socket.is_listening())
        .map_or("", Exposure::label)
}

/// The PID cell (see [`super::pid_cell`]), written in place.
fn pid_into(cells: &mut Row<'_>, s: &crate::model::Socket) {
    match s.pids[..] {
        _ if s.owner_hidden => cells.cell("?"),
        [] => cells.cell("-"),
        [pid] => cells.number(u64::from(pid)),
        _ => cells.display(&super::pid_cell(s)),
    };
}

/// The PROCESS cell: the first owner's name, or why there is none.
fn process_into(cells: &mut Row<'_>, row: &LsRow) {
    if row.socket.owner_hidden {
        cells.cell("(hidden)");
    } else if row.socket.ownerless {
        cells.cell(super::NO_PROCESS);
    } else {
        cells.text(row.process.as_deref().unwrap_or(""));
    }
}

/// The columns a terminal too narrow for the table shortens: names first (the widest first),
/// then addresses, then the exposure; the port, protocol, state and pids stay whole.
const SHORTEN: [&[&str]; 3] = [
    &["PROCESS", "CONTAINER", "SERVICE", "USER"],
    &["ADDRESS", "LOCAL", "REMOTE"],
    &["EXPOSURE"],
];

/// Render `ls`; on a terminal (`width`) the table and the notes fit its width.
pub fn render(r: &LsReport, pal: &Palette, width: Option<usize>) -> String {
    super::to_text(|out| write(r, pal, width, out))
}

/// [`render`] to `out`, the table a run of lines at a time: a 100k-socket listing is never
/// held whole (~9 MB).
pub fn write(
    r: &LsReport,
    pal: &Palette,
    width: Option<usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    // A CONTAINER column only when a row has a container (or is a published port).
    let containers = r.sockets.iter().any(|row| row.container.is_some()) || !r.published.is_empty();
    let mut header = if r.all_states {
        vec!["PROTO", "STATE", "LOCAL", "REMOTE", "PID", "PROCESS"]
    } else {
        vec!["PORT", "PROTO", "ADDRESS", "EXPOSURE", "PID", "PROCESS"]
    };
    if containers {
        header.push("CONTAINER");
    }
    header.extend(["USER", "SERVICE"]);
    let socket_row = |t: &mut Table, row: &LsRow| socket_cells(t, row, r.all_states, containers);
    let mut t = if r.published.is_empty() {
        Table::with_rows(&header, &r.sockets, socket_row)
    } else {
        // Ports published through NAT come in among the sockets, by port.
        let mut t = Table::new(&header);
        let mut nat = r.published.iter().peekable();
        for row in &r.sockets {
            while let Some(p) = nat.next_if(|p| Some(p.port) < row.socket.port()) {
                t.push(nat_cells(p, r.all_states));
            }
            socket_row(&mut t, row);
        }
        for p in nat {
            t.push(nat_cells(p, r.all_states));
        }
        t
    };
    if !(r.sockets.is_empty() && r.published.is_empty()) {
        t.fit(width, &SHORTEN);
        t.write_to(out, |h| pal.header(h))?;
    }
    let mut tail = String::new();
    let what = if r.all_states {
        "socket"
    } else {
        "listening socket"
    };
    let mut summary = format!(
        "{} {what}{}",
        r.sockets.len(),
        if r.sockets.len() == 1 { "" } else { "s" }
    );
    if r.owners_looked_up {
        summary.push_str(&format!(", {} process(es)", r.processes.len()));
    } else {
        summary.push_str(", owners not looked up (--no-owners)");
    }
    if !r.published.is_empty() {
        summary.push_str(&format!(
            ", {} port(s) published through NAT with no socket here",
            r.published.len()
        ));
    }
    tail.push_str(&super::wrapped(&summary, width, &|l| pal.dim(l)));
    tail.push('\n');
    if let Some(line) = hidden_line(&r.hidden, pal, width) {
        tail.push_str(&line);
        tail.push('\n');
    }
    if let Some(note) = &r.container_note {
        tail.push_str(&super::note_line(note, pal, width));
        tail.push('\n');
    }
    out.write_all(tail.as_bytes())
}

/// A socket's row: the columns of `ls` (`all_states`: of `ls --all`), CONTAINER when asked.
fn socket_cells(t: &mut Table, row: &LsRow, all_states: bool, containers: bool) {
    let s = &row.socket;
    let mut cells = t.row();
    if all_states {
        cells.cell(s.proto.as_str()).cell(s.state.ss_name(s.proto));
        endpoint_into(&mut cells, &s.local);
        match &s.remote {
            Some(remote) => endpoint_into(&mut cells, remote),
            None => {
                cells.cell("-");
            }
        }
    } else {
        match s.port() {
            Some(port) => cells.number(u64::from(port)),
            None => cells.cell("-"),
        };
        cells.cell(s.proto.as_str());
        match s.local.ip() {
            Some(IpAddr::V4(ip)) => cells.cell(ipv4_text(ip, None, &mut [0; 24])),
            Some(ip) => cells.display(&ip),
            None => cells.display(&s.local),
        };
        cells.cell(exposure_label(row));
    }
    pid_into(&mut cells, s);
    process_into(&mut cells, row);
    if containers {
        match &row.container {
            Some(c) => cells.display(&c.name),
            None => cells.cell(""),
        };
    }
    cells
        .text(row.user.as_deref().unwrap_or(""))
        .text(row.service.as_deref().unwrap_or(""));
}

/// An address cell: an IPv4 address and port written digit by digit (most rows of a busy
/// machine; `Display` goes through the formatting machinery twice), any other as it displays.
fn endpoint_into(cells: &mut Row<'_>, e: &Endpoint) {
    match e {
        Endpoint::Inet {
            addr: IpAddr::V4(ip),
            port,
            ..
        } => cells.cell(ipv4_text(*ip, Some(*port), &mut [0; 24])),
        _ => cells.display(e),
    };
}

/// `ip` (with `:port`) in `buf`, as `Display` writes it.
fn ipv4_text(ip: Ipv4Addr, port: Option<u16>, buf: &mut [u8; 24]) -> &str {
    let mut len = 0;
    let mut digits = [0u8; 20];
    let octets = ip.octets().map(u64::from);
    let port = port.map(|p| (b':', u64::from(p)));
    let parts = octets
        .iter()
        .enumerate()
        .map(|(i, &n)| (if i == 0 { 0 } else { b'.' }, n))
        .chain(port);
    // At most "255.255.255.255:65535", 21 bytes.
    for (sep, n) in parts {
        if sep != 0 {
            buf[len] = sep;
            len += 1;
        }
        let at = text::decimal(n, &mut digits);
        let d = &digits[at..];
        buf[len..len + d.len()].copy_from_slice(d);
        len += d.len();
    }
    std::str::from_utf8(&buf[..len]).unwrap_or_default()
}

/// The row of a port published through NAT: no pid; the engine (or `NAT rule`) as the
/// process; the container, or where the rule sends it.
fn nat_cells(p: &NatPublished, all_states: bool) -> Vec<String> {
    let addr = p.host_ip.to_string();
    let mut cells = if all_states {
        vec![
            p.proto.as_str().to_string(),
            "published (NAT)".into(),
            std::net::SocketAddr::new(p.host_ip, p.port).to_string(),
            "-".into(),
        ]
    } else {
        vec![
            p.port.to_string(),
            p.proto.as_str().to_string(),
            addr,
            exposure(p.host_ip).label().to_string(),
        ]
    };
    let container = match (&p.container, p.to) {
        (Some(c), _) => text::terminal(&c.name).into_owned(),
        (None, Some(to)) => format!("? (→ {to})"),
        (None, None) => "?".into(),
    };
    cells.extend([
        "-".into(),
        p.holder(),
        container,
        String::new(),
        String::new(),
    ]);
    cells
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_cells_read_as_display_writes_them() {
        for ip in ["0.0.0.0", "127.0.0.1", "10.200.3.45", "255.255.255.255"] {
            let ip: Ipv4Addr = ip.parse().unwrap();
            for port in [0u16, 9, 80, 62893, 65535] {
                let want = format!("{ip}:{port}");
                assert_eq!(ipv4_text(ip, Some(port), &mut [0; 24]), want);
            }
            assert_eq!(ipv4_text(ip, None, &mut [0; 24]), ip.to_string());
        }
    }
}
