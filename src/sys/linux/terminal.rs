//! The terminal's size, for tables that fit it. Asked of the descriptor itself (`TIOCGWINSZ`),
//! so it is the size of the terminal the output goes to, not of whichever one started us.

use std::os::fd::AsFd;

/// Columns of the terminal `fd` is connected to; `None` when it is not a terminal or the
/// terminal does not say (a size of 0, as a serial line may report).
pub fn columns(fd: impl AsFd) -> Option<usize> {
    let size = rustix::termios::tcgetwinsize(fd).ok()?;
    Some(usize::from(size.ws_col)).filter(|&c| c > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_has_no_columns() {
        let (read, _write) = rustix::pipe::pipe().unwrap_or_else(|e| panic!("pipe: {e}"));
        assert_eq!(columns(&read), None);
    }
}
