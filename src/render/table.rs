//! Aligned plain-text columns, the shape `ss` and `lsof` users read every day. Columns are
//! padded by display width ([`super::fit`]); on a terminal a table can be fitted to its width
//! by shortening the widest free-text columns with "…" ([`Table::fit`]).

use super::fit;

/// No fitted column is shortened below its title, and on a very narrow terminal not below
/// this many display columns (or its natural width).
const MIN_FITTED: usize = 6;

/// A table: a header row and data rows, all already sanitised text.
#[derive(Debug, Default, Clone)]
pub struct Table {
    /// Column titles.
    pub header: Vec<String>,
    /// Rows; each has as many cells as the header.
    pub rows: Vec<Vec<String>>,
    /// The terminal width to fit, and the columns that may be shortened, in tiers.
    fit: Option<(usize, Vec<Vec<usize>>)>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_string()).collect(),
            rows: Vec::new(),
            fit: None,
        }
    }

    /// Append a row.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Fit the rendered lines into `width` display columns (a terminal's; `None` when piped,
    /// which leaves the table as it is) by shortening the columns titled in `tiers`: the first
    /// tier's columns, the widest first (ties to the one named first), down to a few columns
    /// each; then the next tier's.
    pub fn fit(&mut self, width: Option<usize>, tiers: &[&[&str]]) {
        self.fit = width.map(|w| {
            let tiers = tiers
                .iter()
                .map(|tier| {
                    tier.iter()
                        .filter_map(|name| self.header.iter().position(|h| h == name))
                        .collect()
                })
                .collect();
            (w, tiers)
        });
    }

    /// Column widths: the widest cell of each, then shortened to fit when asked.
    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| fit::width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(fit::width(cell));
            }
        }
        let Some((max, tiers)) = &self.fit else {
            return widths;
        };
        let mut total = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        // First no column narrower than its title, then (a very narrow terminal) titles too.
        let titles: Vec<usize> = self.header.iter().map(|h| fit::width(h)).collect();
        let floors = [|t: usize| t.max(MIN_FITTED), |_| MIN_FITTED];
        for (floor, tier) in floors
            .iter()
            .flat_map(|f| tiers.iter().map(move |t| (f, t)))
        {
            while total > *max {
                // The widest column that may still give a column; the first named on a tie.
                let widest = tier
                    .iter()
                    .copied()
                    .filter(|&c| widths.get(c).is_some_and(|&w| w > floor(titles[c])))
                    .fold(None, |best: Option<usize>, c| match best {
                        Some(b) if widths[b] >= widths[c] => Some(b),
                        _ => Some(c),
                    });
                let Some(c) = widest else { break };
                widths[c] -= 1;
                total -= 1;
            }
        }
        widths
    }

    /// Render with two spaces between columns; the last column is not padded. `style_header`
    /// wraps the header line (for colour).
    pub fn render(&self, style_header: impl Fn(&str) -> String) -> String {
        let cols = self.header.len();
        let widths = self.widths();
        let line_len: usize = widths.iter().map(|w| w + 2).sum();
        let push_line = |out: &mut String, cells: &[String]| {
            let start = out.len();
            for (i, cell) in cells.iter().enumerate().take(cols) {
                let natural = fit::width(cell);
                let used = if natural <= widths[i] {
                    out.push_str(cell);
                    natural
                } else {
                    let short = fit::shorten(cell, widths[i]);
                    out.push_str(&short);
                    fit::width(&short)
                };
                if i + 1 < cols {
                    let pad = widths[i].saturating_sub(used) + 2;
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            let trimmed = out[start..].trim_end().len();
            out.truncate(start + trimmed);
            out.push('\n');
        };
        let mut header = String::new();
        push_line(&mut header, &self.header);
        let mut out = String::with_capacity(line_len * (self.rows.len() + 1));
        out.push_str(&style_header(header.trim_end_matches('\n')));
        out.push('\n');
        for row in &self.rows {
            push_line(&mut out, row);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns() {
        let mut t = Table::new(&["PORT", "PROCESS"]);
        t.push(vec!["22".into(), "sshd".into()]);
        t.push(vec!["62893".into(), "java".into()]);
        assert_eq!(
            t.render(|h| h.to_string()),
            "PORT   PROCESS\n22     sshd\n62893  java\n"
        );
    }

    #[test]
    fn aligns_by_display_width() {
        let mut t = Table::new(&["PROCESS", "USER"]);
        t.push(vec!["服务器".into(), "dev".into()]);
        t.push(vec!["sshd".into(), "root".into()]);
        // 服务器 takes six columns, like "sshd" plus two: USER starts at the same column.
        assert_eq!(
            t.render(|h| h.to_string()),
            "PROCESS  USER\n服务器   dev\nsshd     root\n"
        );
    }

    #[test]
    fn fits_by_shortening_the_widest_named_column() {
        let mut t = Table::new(&["PORT", "PROCESS", "USER", "COMMAND"]);
        t.push(vec![
            "5173".into(),
            "node".into(),
            "developer".into(),
            "node /home/developer/app/node_modules/.bin/vite --host".into(),
        ]);
        let natural = t.render(|h| h.to_string());
        t.fit(None, &[&["COMMAND", "USER"]]);
        assert_eq!(t.render(|h| h.to_string()), natural, "no width: unchanged");
        t.fit(Some(40), &[&["COMMAND", "USER"]]);
        let fitted = t.render(|h| h.to_string());
        assert!(fitted.lines().all(|l| fit::width(l) <= 40), "{fitted}");
        let row = fitted.lines().nth(1).unwrap_or_default();
        assert!(row.ends_with('…'), "{row}");
        assert!(
            row.contains("developer"),
            "USER is narrow enough to keep: {row}"
        );
        // Too narrow for anything: columns stop at a few characters, never at nothing.
        t.fit(Some(10), &[&["COMMAND", "USER"]]);
        let squeezed = t.render(|h| h.to_string());
        assert!(squeezed.contains("devel…"), "{squeezed}");
        // A later tier gives columns only once the first is down to its floor.
        t.fit(Some(36), &[&["USER"], &["COMMAND"]]);
        let tiered = t.render(|h| h.to_string());
        assert!(tiered.contains("devel…"), "{tiered}");
        assert!(tiered.lines().all(|l| fit::width(l) <= 36), "{tiered}");
    }
}
