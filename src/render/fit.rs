//! Text measured the way a terminal draws it: display columns, not bytes or `char`s. A CJK
//! character takes two columns, a combining mark none; padding by `chars().count()` shifts
//! every column after such a name. Also the two ways a line is made to fit a terminal:
//! shortening a cell with "…" and wrapping a note at spaces. Piped output never reaches the
//! last two (`Config::width` is `None` there).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// What a shortened cell ends with.
pub const ELLIPSIS: char = '…';

/// Columns `text` takes on a terminal.
pub fn width(text: &str) -> usize {
    // Printable ASCII is one column a byte: the cells of a 30k-row table are nearly all
    // addresses, ports and names, and asking unicode-width char by char took a tenth of
    // rendering them.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return text.len();
    }
    text.width()
}

/// `text` cut to at most `max` display columns, ending with "…" when anything was cut.
pub fn shorten(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if width(text) <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let room = max.saturating_sub(1); // the ellipsis takes one column
    let mut out = String::with_capacity(text.len().min(max * 4) + 3);
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
    }
    if max > 0 {
        out.push(ELLIPSIS);
    }
    std::borrow::Cow::Owned(out)
}

/// `text` wrapped at spaces into lines of at most `max` display columns (a word longer than
/// that is broken); continuation lines start with `indent` spaces. No trailing newline.
pub fn wrap(text: &str, max: usize, indent: usize) -> String {
    let max = max.max(indent + 8);
    let mut out = String::with_capacity(text.len() + text.len() / max.max(1) * (indent + 1));
    let mut col = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let w = width(word);
        if col > 0 && col + 1 + w > max {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', indent));
            col = indent;
        } else if col > 0 {
            out.push(' ');
            col += 1;
        }
        // A word wider than a whole line: break it where the line ends.
        let mut rest = word;
        while col + width(rest) > max {
            let mut taken = 0;
            let mut cut = 0;
            for (i, c) in rest.char_indices() {
                let cw = c.width().unwrap_or(0);
                if col + taken + cw > max {
                    break;
                }
                taken += cw;
                cut = i + c.len_utf8();
            }
            if cut == 0 {
                break; // not even one character fits: leave it long rather than loop
            }
            out.push_str(rest.get(..cut).unwrap_or(rest));
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', indent));
            col = indent;
            rest = rest.get(cut..).unwrap_or("");
        }
        out.push_str(rest);
        col += width(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_shortcut_agrees_with_unicode_width() {
        let printable: String = (0x20u8..0x7f).map(char::from).collect();
        assert_eq!(width(&printable), printable.width());
        for b in 0u8..0x80 {
            let s = String::from(char::from(b));
            assert_eq!(width(&s), s.width(), "byte {b:#x}");
        }
        assert_eq!(
            width("127.0.0.1:8080 → 東京"),
            "127.0.0.1:8080 → 東京".width()
        );
    }

    #[test]
    fn cjk_takes_two_columns() {
        assert_eq!(width("服务器"), 6);
        assert_eq!(width("sshd"), 4);
        assert_eq!(width("e\u{301}"), 1); // e + combining acute accent
    }

    #[test]
    fn shortens_by_columns() {
        assert_eq!(shorten("sshd", 4), "sshd");
        assert_eq!(shorten("postgres", 5), "post…");
        // 服 is two columns: four columns hold one of them and the ellipsis, and a column
        // stays over (the table pads it).
        assert_eq!(shorten("服务器", 4), "服…");
        assert_eq!(width(&shorten("服务器", 4)), 3);
        assert_eq!(shorten("abc", 0), "");
    }

    #[test]
    fn wraps_at_spaces() {
        let text = "2 socket(s) with a hidden owner: the file descriptors could not be read";
        let wrapped = wrap(text, 30, 2);
        assert!(wrapped.lines().all(|l| width(l) <= 30), "{wrapped}");
        assert!(wrapped.lines().skip(1).all(|l| l.starts_with("  ")));
        let joined: Vec<&str> = wrapped.split_whitespace().collect();
        assert_eq!(joined, text.split_whitespace().collect::<Vec<_>>());
        // A word longer than a line is broken.
        let long = wrap(&"x".repeat(25), 10, 0);
        assert_eq!(long, "xxxxxxxxxx\nxxxxxxxxxx\nxxxxx");
    }
}
