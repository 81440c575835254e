//! Waiting that a stop signal ends: long-running commands (`watch --events`, `daemon`) sleep
//! between looks with [`StopSignals::wait`], which returns early on SIGINT, SIGTERM or SIGHUP.
//!
//! The handlers write to a socket pair (signal-hook's self-pipe), so the wait is one `poll`
//! with a timeout: no busy loop, no missed signal between a check and a sleep.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec};

use crate::error::{Error, Result};

/// The stop signals, caught for as long as this value lives (their handlers stay
/// registered; a second Ctrl+C is seen the same way).
#[derive(Debug)]
pub struct StopSignals {
    read: UnixStream,
    ids: Vec<(i32, signal_hook::SigId)>,
}

/// The signals that ask a long-running command to stop.
const STOP: [i32; 3] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
];

impl StopSignals {
    /// Catch SIGINT, SIGTERM and SIGHUP from now on.
    pub fn install() -> Result<StopSignals> {
        let failed = |e| Error::io("installing the SIGINT/SIGTERM/SIGHUP handlers", e);
        let (read, write) = UnixStream::pair().map_err(failed)?;
        read.set_nonblocking(true).map_err(failed)?;
        let mut ids = Vec::new();
        for sig in STOP {
            let w = write.try_clone().map_err(failed)?;
            let id = signal_hook::low_level::pipe::register(sig, w).map_err(failed)?;
            ids.push((sig, id));
        }
        Ok(StopSignals { read, ids })
    }

    /// Sleep for `timeout`, or until a stop signal arrives: `true` when one did.
    pub fn wait(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if self.drain() {
                return true;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            let ts = Timespec::try_from(left).unwrap_or(Timespec {
                tv_sec: 1,
                tv_nsec: 0,
            });
            let mut fds = [PollFd::new(&self.read, PollFlags::IN)];
            // EINTR (the signal itself) loops back to the drain.
            let _ = rustix::event::poll(&mut fds, Some(&ts));
        }
    }

    /// Wait up to `timeout` for input on standard input (a terminal), a hang-up of it, or a
    /// stop signal — whichever comes first. (crossterm's own wait never returns once the
    /// terminal hangs up: it retries end-of-file forever, crossterm-rs/crossterm#793; the
    /// live view waits here first.) A signal is left for [`StopSignals::arrived`] to see.
    pub fn wait_stdin(&self, timeout: Duration) -> Wake {
        let stdin = std::io::stdin();
        let ts = Timespec::try_from(timeout).unwrap_or(Timespec {
            tv_sec: 0,
            tv_nsec: 200_000_000,
        });
        let mut fds = [
            PollFd::new(&stdin, PollFlags::IN),
            PollFd::new(&self.read, PollFlags::IN),
        ];
        // EINTR (a signal) is a wake-up like any other.
        let _ = rustix::event::poll(&mut fds, Some(&ts));
        let gone = PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL;
        if fds[0].revents().intersects(gone) {
            Wake::HungUp
        } else if fds[1].revents().contains(PollFlags::IN) {
            Wake::Signal
        } else {
            Wake::Ready
        }
    }

    /// Whether a stop signal arrived since the last look (never blocks).
    pub fn arrived(&self) -> bool {
        self.drain()
    }

    fn drain(&self) -> bool {
        let mut buf = [0u8; 64];
        let mut got = false;
        while let Ok(n) = (&self.read).read(&mut buf) {
            if n == 0 {
                break;
            }
            got = true;
        }
        got
    }
}

/// What ended [`StopSignals::wait_stdin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Input is there, or the time is up.
    Ready,
    /// Standard input hung up (the terminal's window closed, its tmux server killed).
    HungUp,
    /// A stop signal arrived.
    Signal,
}

impl Drop for StopSignals {
    fn drop(&mut self) {
        for (_, id) in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_ends_the_wait_and_a_timeout_does_not_claim_one() {
        let Ok(stop) = StopSignals::install() else {
            panic!("installing handlers");
        };
        assert!(!stop.wait(Duration::from_millis(20)));
        let _ = signal_hook::low_level::raise(signal_hook::consts::SIGHUP);
        let t = std::time::Instant::now();
        assert!(stop.wait(Duration::from_secs(5)));
        assert!(t.elapsed() < Duration::from_secs(1));
        assert!(!stop.arrived(), "one signal is seen once");
    }
}
