//! Aligned plain-text columns, the shape `ss` and `lsof` users read every day. Columns are
//! padded by display width ([`super::fit`]); on a terminal a table can be fitted to its width
//! by shortening the widest free-text columns with "…" ([`Table::fit`]).

use std::io::{self, Write};

use super::fit;

/// No fitted column is shortened below its title, and on a very narrow terminal not below
/// this many display columns (or its natural width).
const MIN_FITTED: usize = 6;

/// From this many rows on, a table's lines are laid out on two threads or more (each a run
/// of rows): a 30k-row `ls --all` spent ~20 ms here on one core.
const PARALLEL_FROM: usize = 4096;

/// Lines laid out at a time before they are written (~0.7 MB of `ls --all`).
const CHUNK: usize = 8192;

/// A cell's length in bytes and display width, when both are under 255.
type Cell = [u8; 2];

/// The [`Cell`] of a longer or wider cell, kept aside in [`Table`]'s `long`.
const LONG: Cell = [u8::MAX, u8::MAX];

/// A table: a header row and data rows, all already sanitised text. Cells are kept back to
/// back in one string, each measured once as it is added: a 30k-row listing is a few
/// allocations, not one per cell.
#[derive(Debug, Default, Clone)]
pub struct Table {
    /// How many columns (the header's cells).
    cols: usize,
    /// Every cell's text, the header's first, row after row.
    text: String,
    /// Where each row's text starts in `text` (the header's first).
    rows: Vec<usize>,
    /// Per cell, in the same order: its length in bytes and its display width, or [`LONG`]
    /// (2 bytes a cell: at 100k rows a table's cells take 1.6 MB, not 6.4).
    cells: Vec<Cell>,
    /// The cells [`LONG`] stands for: (index in `cells`, length, width), by index.
    long: Vec<(usize, usize, usize)>,
    /// Where the cell being added starts in `text`.
    open: usize,
    /// The terminal width to fit, and the columns that may be shortened, in tiers.
    fit: Option<(usize, Vec<Vec<usize>>)>,
}

/// The cells of one row being added ([`Table::row`]): each call adds the next cell; cells
/// not given when it is dropped are empty, cells past the header's are dropped.
#[derive(Debug)]
pub struct Row<'a> {
    table: &'a mut Table,
    given: usize,
}

impl Row<'_> {
    /// Add the next cell: `text`, already sanitised.
    pub fn cell(&mut self, text: &str) -> &mut Self {
        if self.given < self.table.cols {
            self.table.text.push_str(text);
            self.table.close_cell();
        }
        self.given += 1;
        self
    }

    /// Add the next cell: `text` made safe for a terminal ([`crate::text::terminal`]), without
    /// the formatting machinery [`Row::display`] goes through (a name on each of 30k rows).
    pub fn text(&mut self, text: &str) -> &mut Self {
        match crate::text::terminal(text) {
            std::borrow::Cow::Borrowed(safe) => self.cell(safe),
            std::borrow::Cow::Owned(safe) => self.cell(&safe),
        }
    }

    /// Add the next cell: `n` in decimal.
    pub fn number(&mut self, n: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        let at = crate::text::decimal(n, &mut digits);
        self.cell(std::str::from_utf8(&digits[at..]).unwrap_or_default())
    }

    /// Add the next cell: `value` as it displays, made safe for a terminal
    /// ([`crate::text::terminal`]).
    pub fn display(&mut self, value: &dyn std::fmt::Display) -> &mut Self {
        use std::fmt::Write;
        if self.given < self.table.cols {
            let start = self.table.text.len();
            let _ = write!(self.table.text, "{value}");
            if let std::borrow::Cow::Owned(safe) = crate::text::terminal(&self.table.text[start..])
            {
                self.table.text.truncate(start);
                self.table.text.push_str(&safe);
            }
            self.table.close_cell();
        }
        self.given += 1;
        self
    }
}

impl Drop for Row<'_> {
    fn drop(&mut self) {
        while self.given < self.table.cols {
            self.table.close_cell();
            self.given += 1;
        }
    }
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        let mut t = Table {
            cols: header.len(),
            ..Table::default()
        };
        let mut row = t.row();
        for h in header {
            row.cell(h);
        }
        drop(row);
        t
    }

    /// A table with these column titles and a row for each item, added by `row`; with many
    /// items, runs of them are added on every core and the runs joined in order.
    pub fn with_rows<T: Sync>(
        header: &[&str],
        items: &[T],
        row: impl Fn(&mut Table, &T) + Sync,
    ) -> Table {
        let mut table = Table::new(header);
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        if items.len() < PARALLEL_FROM || threads < 2 {
            for item in items {
                row(&mut table, item);
            }
            return table;
        }
        let per = items.len().div_ceil(threads);
        let run = |t: usize| {
            items
                .get(t * per..items.len().min((t + 1) * per))
                .unwrap_or(&[])
        };
        // Room for every row's cells from the start, and below for the others' text: a
        // table grown by doubling holds up to twice its size (at 100k rows, ~6 MB more).
        table.cells.reserve_exact(items.len() * table.cols);
        table.rows.reserve_exact(items.len());
        let first = &mut table;
        let parts = beside(
            threads,
            || {
                for item in run(0) {
                    row(first, item);
                }
            },
            |t| {
                let mut part = Table::new(header);
                part.cells.reserve(run(t).len() * part.cols);
                for item in run(t) {
                    row(&mut part, item);
                }
                part
            },
        );
        let more_text = parts
            .iter()
            .map(|p| p.text.len() - p.rows.get(1).map_or(p.text.len(), |&first| first))
            .sum();
        table.text.reserve_exact(more_text);
        for part in parts {
            table.append_rows(&part);
        }
        table
    }

    /// Append `other`'s rows (not its header): a table of the same columns.
    fn append_rows(&mut self, other: &Table) {
        let Some(&first) = other.rows.get(1) else {
            return;
        };
        let base = self.text.len();
        self.text.push_str(&other.text[first..]);
        self.rows
            .extend(other.rows[1..].iter().map(|&start| start - first + base));
        let cell_base = self.cells.len();
        self.long.extend(
            (other.long.iter())
                .filter(|e| e.0 >= self.cols)
                .map(|&(i, len, width)| (i - self.cols + cell_base, len, width)),
        );
        self.cells
            .extend_from_slice(other.cells.get(self.cols..).unwrap_or(&[]));
        self.open = self.text.len();
    }

    /// Append a row (as many cells as the header: missing ones are empty, extra ones dropped).
    pub fn push(&mut self, cells: Vec<String>) {
        let mut row = self.row();
        for c in &cells {
            row.cell(c);
        }
    }

    /// Start a row, to add its cells one by one without a `String` each.
    pub fn row(&mut self) -> Row<'_> {
        self.rows.push(self.text.len());
        Row {
            table: self,
            given: 0,
        }
    }

    /// End the cell whose text was just appended: note its length and measure it.
    fn close_cell(&mut self) {
        let len = self.text.len() - self.open;
        let width = fit::width(&self.text[self.open..]);
        match (u8::try_from(len), u8::try_from(width)) {
            (Ok(l), Ok(w)) if [l, w] != LONG => self.cells.push([l, w]),
            _ => {
                self.long.push((self.cells.len(), len, width));
                self.cells.push(LONG);
            }
        }
        self.open = self.text.len();
    }

    /// Cell `i`'s length in bytes and display width.
    fn cell(&self, i: usize) -> (usize, usize) {
        match self.cells.get(i) {
            Some(&[len, width]) if [len, width] != LONG => (usize::from(len), usize::from(width)),
            Some(_) => self
                .long
                .binary_search_by_key(&i, |e| e.0)
                .map_or((0, 0), |k| (self.long[k].1, self.long[k].2)),
            None => (0, 0),
        }
    }

    /// Row `r` (0 = the header): where its first cell starts in `text`, and its cells' lengths
    /// and widths.
    fn line(&self, r: usize) -> (usize, impl Iterator<Item = (usize, usize)> + '_) {
        let cols = self.cols.max(1);
        let end = ((r + 1) * cols).min(self.cells.len());
        let start = self.rows.get(r).copied().unwrap_or(self.text.len());
        (start, ((r * cols).min(end)..end).map(|i| self.cell(i)))
    }

    /// How many lines, the header's included.
    fn line_count(&self) -> usize {
        self.rows.len()
    }

    /// Append lines `from..to` (0 = the header) to `out`, laid out in `widths`.
    fn push_lines(&self, out: &mut String, from: usize, to: usize, widths: &[usize]) {
        for r in from..to {
            let (start, cells) = self.line(r);
            push_line(out, &self.text, start, cells, widths);
        }
    }

    /// Fit the rendered lines into `width` display columns (a terminal's; `None` when piped,
    /// which leaves the table as it is) by shortening the columns titled in `tiers`: the first
    /// tier's columns, the widest first (ties to the one named first), down to a few columns
    /// each; then the next tier's.
    pub fn fit(&mut self, width: Option<usize>, tiers: &[&[&str]]) {
        let (mut start, titles) = self.line(0);
        let header: Vec<&str> = titles
            .map(|(len, _)| {
                let title = &self.text[start..start + len];
                start += len;
                title
            })
            .collect();
        let fit = width.map(|w| {
            let tiers = tiers
                .iter()
                .map(|tier| {
                    tier.iter()
                        .filter_map(|name| header.iter().position(|h| h == name))
                        .collect()
                })
                .collect();
            (w, tiers)
        });
        self.fit = fit;
    }

    /// Column widths: the widest cell of each, then shortened to fit when asked.
    fn widths(&self) -> Vec<usize> {
        let cols = self.cols.max(1);
        let mut widths = vec![0; self.cols];
        for i in 0..self.cells.len() {
            if let Some(max) = widths.get_mut(i % cols) {
                *max = (*max).max(self.cell(i).1);
            }
        }
        let Some((max, tiers)) = &self.fit else {
            return widths;
        };
        let mut total = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        // First no column narrower than its title, then (a very narrow terminal) titles too.
        let titles: Vec<usize> = (0..self.cols).map(|i| self.cell(i).1).collect();
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
        super::to_text(|out| self.write_to(out, style_header))
    }

    /// Write the table as [`Table::render`] lays it out, 8,192 lines at a time (a chunk
    /// on each core for a big table), so that a big listing is never held whole.
    pub fn write_to(
        &self,
        out: &mut dyn Write,
        style_header: impl Fn(&str) -> String,
    ) -> io::Result<()> {
        let widths = self.widths();
        let lines = self.line_count();
        let mut header = String::new();
        self.push_lines(&mut header, 0, 1.min(lines), &widths);
        out.write_all(style_header(header.trim_end_matches('\n')).as_bytes())?;
        out.write_all(b"\n")?;
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let runs = if lines.saturating_sub(1) < PARALLEL_FROM {
            1
        } else {
            threads
        };
        let line_len: usize = widths.iter().map(|w| w + 2).sum();
        let mut here = String::new();
        let mut next = 1;
        while next < lines {
            let chunk = |t: usize| {
                (
                    (next + t * CHUNK).min(lines),
                    (next + (t + 1) * CHUNK).min(lines),
                )
            };
            here.clear();
            let parts = beside(
                runs,
                || {
                    let (from, to) = chunk(0);
                    self.push_lines(&mut here, from, to, &widths);
                },
                |t| {
                    let (from, to) = chunk(t);
                    let mut part = String::with_capacity(line_len * (to - from));
                    self.push_lines(&mut part, from, to, &widths);
                    part
                },
            );
            out.write_all(here.as_bytes())?;
            for part in parts {
                out.write_all(part.as_bytes())?;
            }
            next = chunk(runs).0;
        }
        Ok(())
    }
}

/// Run `there(1)` … `there(runs - 1)` each on a thread of its own, started on another CPU
/// (see [`crate::threads::spawn_apart`]), while `here` (run 0) runs on this one, so that its
/// output is written where it goes rather than copied there; the threads' results in order. A
/// panic in one is carried on here: rows are never dropped quietly.
fn beside<T: Send>(runs: usize, here: impl FnOnce(), there: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let there = &there;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..runs)
            .map(|t| crate::threads::spawn_apart(scope, move || there(t)))
            .collect();
        here();
        handles.into_iter().map(crate::threads::joined).collect()
    })
}

/// One line: each cell (`text` from `start` on, cut by each cell's length) padded to its
/// column's width (shortened with "…" when wider), two spaces between columns, no trailing
/// spaces.
fn push_line(
    out: &mut String,
    text: &str,
    mut start: usize,
    cells: impl Iterator<Item = (usize, usize)>,
    widths: &[usize],
) {
    let line_start = out.len();
    let cols = widths.len();
    for (i, (len, natural)) in cells.enumerate().take(cols) {
        let end = start + len;
        let cell = &text[start..end];
        start = end;
        let used = if natural <= widths[i] {
            out.push_str(cell);
            natural
        } else {
            let short = fit::shorten(cell, widths[i]);
            out.push_str(&short);
            fit::width(&short)
        };
        if i + 1 < cols {
            push_spaces(out, widths[i].saturating_sub(used) + 2);
        }
    }
    let trimmed = out[line_start..].trim_end().len();
    out.truncate(line_start + trimmed);
    out.push('\n');
}

/// `n` spaces, pushed a slice at a time rather than a char at a time.
fn push_spaces(out: &mut String, mut n: usize) {
    const SPACES: &str = "                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        n -= k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_wider_than_one_slice_of_spaces() {
        for n in [0, 1, 31, 32, 33, 70] {
            let mut out = String::from("x");
            push_spaces(&mut out, n);
            assert_eq!(out, format!("x{}", " ".repeat(n)));
        }
    }

    #[test]
    fn number_cells_are_decimal() {
        let mut t = Table::new(&["A", "B"]);
        t.row().number(0).number(u64::MAX);
        t.row().number(62893).text("x\u{1b}y");
        assert_eq!(
            t.render(|h| h.to_string()),
            "A      B\n0      18446744073709551615\n62893  x\\x1by\n"
        );
    }

    #[test]
    fn rows_added_on_every_core_come_out_in_order() {
        let items: Vec<u32> = (0..(PARALLEL_FROM as u32 * 2 + 7)).collect();
        let row = |t: &mut Table, n: &u32| {
            let long = "é".repeat(300 + *n as usize % 7);
            t.row().display(n).cell(if n.is_multiple_of(3) {
                "fizz-long-cell"
            } else if n % 1000 == 999 {
                // Past 255 bytes and columns: kept aside, in every run.
                &long
            } else {
                "x"
            });
        };
        let parallel = Table::with_rows(&["N", "WORD"], &items, row);
        let mut one_by_one = Table::new(&["N", "WORD"]);
        for n in &items {
            row(&mut one_by_one, n);
        }
        let text = parallel.render(|h| h.to_string());
        assert_eq!(text, one_by_one.render(|h| h.to_string()));
        assert_eq!(text.lines().count(), items.len() + 1);
        let row_of = |n: usize| text.lines().nth(n + 1).unwrap_or_default().to_string();
        assert_eq!(
            row_of(7999),
            format!("7999  {}", "é".repeat(300 + 7999 % 7))
        );
        assert_eq!(row_of(1000).trim_end(), "1000  x");
        assert!(
            text.lines()
                .last()
                .is_some_and(|l| l.starts_with(&(items.len() - 1).to_string()))
        );
    }

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
