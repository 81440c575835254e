//! `tap`: capture TCP and UDP to and from a port on loopback — a line per connection and,
//! with `-w`, a pcap file. See [`crate::traffic::tap`] for the pieces.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::commands::{Report, Ui};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::sys::packet::{PacketSocket, interface_index};
use crate::sys::stop::StopSignals;
use crate::traffic::Line;
use crate::traffic::tap::flows::{Flows, parse};
use crate::traffic::tap::pcap::Pcap;
use crate::traffic::tap::{Started, TapLine, filter};

/// The interface `tap` captures on.
const INTERFACE: &str = "lo";

/// How often the pcap file is flushed and idle UDP flows are looked for.
const TICK: Duration = Duration::from_secs(1);

/// What `tap` did (printed when it stops).
#[derive(Debug, Clone, Serialize)]
pub struct TapReport {
    /// The port watched.
    pub port: u16,
    /// The interface captured on (`lo`).
    pub interface: String,
    /// Packets captured (TCP and UDP with the port at one end).
    pub packets: u64,
    /// Their bytes, whole frames (Ethernet header included).
    pub bytes: u64,
    /// Connections (TCP) and flows (UDP) reported, those still open at the stop included.
    pub connections: u64,
    /// Of those, the ones still open when the capture stopped.
    pub open_at_stop: u64,
    /// Connections forgotten unreported because more than 65,536 were open at once.
    pub flows_evicted: u64,
    /// TCP payload bytes that passed but were not captured (gaps in sequence numbers: the
    /// kernel dropped packets because the capture fell behind). The pcap file lacks them too.
    pub missed_bytes: u64,
    /// The pcap file written, if any.
    pub pcap: Option<String>,
    /// Packets written to it.
    pub pcap_packets: u64,
    /// How long the capture ran (seconds).
    pub duration_s: f64,
    /// What stopped it: `signal`, `duration` or `count`.
    pub stopped_by: &'static str,
}

/// What `tap` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The port to watch on loopback (1-65535; TCP and UDP, either end).
    pub port: u16,
    /// Also write every captured packet to this pcap file (created mode 0600).
    pub write: Option<PathBuf>,
    /// Stop after this long (`None`: until a signal).
    pub duration: Option<Duration>,
    /// Stop after capturing this many packets (at least 1).
    pub count: Option<u64>,
}

/// Run `tap`.
pub fn run(opts: &Options, ui: &dyn Ui) -> Result<(Report, Exit)> {
    capture(opts, ui).map(|(r, code)| (Report::Tap(Box::new(r)), code))
}

fn capture(opts: &Options, ui: &dyn Ui) -> Result<(TapReport, Exit)> {
    let port = opts.port;
    let duration = opts.duration;
    let ifindex = interface_index(INTERFACE)?;
    let sock = PacketSocket::open(&filter::program(ifindex, port))?;
    let mut pcap = opts.write.as_deref().map(Pcap::create).transpose()?;
    let stop = StopSignals::install()?;
    let pcap_path = pcap.as_ref().map(|p| p.path().display().to_string());
    ui.traffic(&Line::Tap(TapLine::Started(Started {
        port,
        interface: INTERFACE.into(),
        pcap: pcap_path.clone(),
    })));

    let began = Instant::now();
    let mut flows = Flows::new(port);
    let (mut packets, mut bytes) = (0u64, 0u64);
    let mut buf = vec![0u8; filter::SNAPLEN as usize];
    let mut last_tick = Instant::now();
    let emit = |lines: Vec<TapLine>| {
        for l in lines {
            ui.traffic(&Line::Tap(l));
        }
    };
    let stopped_by = loop {
        if stop.arrived() {
            break "signal";
        }
        if duration.is_some_and(|d| began.elapsed() >= d) {
            break "duration";
        }
        if opts.count.is_some_and(|c| packets >= c) {
            break "count";
        }
        let got = sock
            .recv(&mut buf)
            .map_err(|e| Error::io("reading from the packet socket", e))?;
        let wall = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        if let Some(n) = got {
            let frame = &buf[..n];
            if let Some(p) = parse(frame, port) {
                packets += 1;
                bytes += n as u64;
                if let Some(file) = pcap.as_mut() {
                    file.write(wall, frame)?;
                }
                emit(flows.packet(&p, wall.as_secs_f64()));
            }
        }
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            if let Some(file) = pcap.as_mut() {
                file.flush()?;
            }
            emit(flows.idle(wall.as_secs_f64()));
        }
    };
    let open_at_stop = flows.len() as u64;
    emit(flows.finish());
    if let Some(file) = pcap.as_mut() {
        file.flush()?;
    }
    let report = TapReport {
        port,
        interface: INTERFACE.into(),
        packets,
        bytes,
        connections: flows.ended,
        open_at_stop,
        flows_evicted: flows.evicted,
        missed_bytes: flows.missed,
        pcap: pcap_path,
        pcap_packets: pcap.as_ref().map_or(0, |p| p.packets),
        duration_s: (began.elapsed().as_secs_f64() * 1e3).round() / 1e3,
        stopped_by,
    };
    Ok((report, Exit::Success))
}
