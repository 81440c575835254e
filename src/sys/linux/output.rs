//! Whether anyone still reads standard output. A stream that is idle writes nothing, so a
//! reader that went away (`watch --events | head -1`) would go unnoticed until the next event;
//! polling the descriptor tells at once: the write end of a pipe whose reader closed reports
//! POLLERR, a socket or terminal that hung up POLLHUP, a closed descriptor POLLNVAL.

use rustix::event::{PollFd, PollFlags, Timespec};

/// True when standard output can no longer reach a reader. Never blocks; a regular file or
/// `/dev/null` is never "closed".
pub fn stdout_closed() -> bool {
    let stdout = std::io::stdout();
    // No events asked for: only the conditions poll always reports come back.
    let mut fds = [PollFd::new(&stdout, PollFlags::empty())];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match rustix::event::poll(&mut fds, Some(&now)) {
        Ok(n) if n > 0 => fds[0]
            .revents()
            .intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL),
        _ => false,
    }
}
