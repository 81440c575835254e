//! Aligned plain-text columns, the shape `ss` and `lsof` users read every day.

/// A table: a header row and data rows, all already sanitised text.
#[derive(Debug, Default, Clone)]
pub struct Table {
    /// Column titles.
    pub header: Vec<String>,
    /// Rows; each has as many cells as the header.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Append a row.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Render with two spaces between columns; the last column is not padded. `style_header`
    /// wraps the header line (for colour).
    pub fn render(&self, style_header: impl Fn(&str) -> String) -> String {
        let cols = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line_len: usize = widths.iter().map(|w| w + 2).sum();
        let push_line = |out: &mut String, cells: &[String]| {
            let start = out.len();
            for (i, cell) in cells.iter().enumerate().take(cols) {
                out.push_str(cell);
                if i + 1 < cols {
                    let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
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
}
