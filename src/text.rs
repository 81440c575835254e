//! Make text from other processes safe to print, and quote it for a shell: process names and
//! command lines are chosen by whoever started the process and may carry terminal escape
//! sequences. Below every layer: engines use it in their findings, renderers in their tables.
//! User input that an error message repeats is escaped the same way, and cut short. Also
//! [`Lines`], the line number of a byte offset, for the parsers that name the line of a
//! mistake in a file, and [`decimal`], digits without the formatting machinery (a table
//! cell on each of 30k rows, a name in each of 30k fd tables).

/// Replace control characters (C0, DEL, C1) with a visible `\xNN` escape.
pub fn terminal(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_control(c) {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// How many characters of a user's input an error message repeats: enough to recognise it,
/// never a whole 100 KB argument.
pub const ECHOED: usize = 80;

/// User input (a flag's value, a target, a name, a path) for a one-line message: control
/// characters escaped as by [`terminal`], and past [`ECHOED`] characters cut, ending with "…".
pub fn echo(text: &str) -> std::borrow::Cow<'_, str> {
    let safe = terminal(text);
    match safe.char_indices().nth(ECHOED) {
        None => safe,
        Some(_) => {
            let head: String = safe.chars().take(ECHOED - 1).collect();
            std::borrow::Cow::Owned(format!("{head}…"))
        }
    }
}

fn is_control(c: char) -> bool {
    c.is_control()
}

/// Quote one command-line argument for display: plain when it is safe to read as-is, in
/// single quotes when it contains spaces or shell-special characters; control characters
/// escaped either way.
pub fn shell_word(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%^".contains(c));
    let arg = terminal(arg);
    if safe {
        arg.into_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// A command line for display.
pub fn command_line(args: &[String]) -> String {
    args.iter()
        .map(|a| shell_word(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a text's lines start, to turn byte offsets into 1-based line numbers in O(log n)
/// each. Counting newlines from the start for every offset made naming the line of each of
/// N entries cost O(N × file size).
#[derive(Debug, Clone)]
pub struct Lines(Vec<usize>);

impl Lines {
    /// The index of `text` (one pass over it).
    pub fn of(text: &[u8]) -> Lines {
        Lines(
            text.iter()
                .enumerate()
                .filter_map(|(i, &b)| (b == b'\n').then_some(i))
                .collect(),
        )
    }

    /// The 1-based line holding byte `offset` (an offset past the end is on the last line).
    pub fn line_of(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

/// Write `n`'s decimal digits at the end of `buf` (20 bytes hold any `u64`); where they start.
/// A shorter `buf` keeps the last digits only.
pub fn decimal(mut n: u64, buf: &mut [u8]) -> usize {
    let mut at = buf.len();
    while at > 0 {
        at -= 1;
        // n % 10 < 10: the cast loses nothing.
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_offsets() {
        let lines = Lines::of(b"ab\ncd\n\ne");
        let got: Vec<usize> = (0..12).map(|o| lines.line_of(o)).collect();
        assert_eq!(got, [1, 1, 1, 2, 2, 2, 3, 4, 4, 4, 4, 4]);
        assert_eq!(Lines::of(b"").line_of(5), 1);
    }

    #[test]
    fn escapes_controls() {
        assert_eq!(terminal("node"), "node");
        assert_eq!(terminal("evil\x1b[31mred"), "evil\\x1b[31mred");
        assert_eq!(terminal("a\nb\u{9b}"), "a\\x0ab\\x9b");
        assert_eq!(
            command_line(&["python3".into(), "-m".into(), "http server".into()]),
            "python3 -m 'http server'"
        );
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn echoes_are_short() {
        assert_eq!(echo("3000"), "3000");
        let exact = "x".repeat(ECHOED);
        assert_eq!(echo(&exact), exact.as_str());
        let long = echo(&"é".repeat(100_000)).into_owned();
        assert_eq!(long.chars().count(), ECHOED);
        assert!(long.ends_with("é…"), "{long}");
        let controls = echo(&"\x1b".repeat(100)).into_owned();
        assert_eq!(controls.chars().count(), ECHOED);
        assert!(!controls.contains('\x1b'));
    }
}
