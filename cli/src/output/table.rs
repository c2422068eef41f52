//! Aligned tables as kubectl prints them: upper-case headers, columns padded with spaces.

use std::io::Write;

/// A cell: the text that counts for alignment and what is printed (the text, maybe coloured).
#[derive(Clone, Debug)]
pub struct Cell {
    pub text: String,
    pub shown: String,
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell { shown: text.clone(), text }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::from(text.to_string())
    }
}

impl Cell {
    pub fn styled(text: impl Into<String>, style: impl FnOnce(&str) -> String) -> Cell {
        let text = text.into();
        Cell { shown: style(&text), text }
    }
}

#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

const GAP: usize = 3;

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table { headers: headers.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// The width of each column: its widest cell or header.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.text.chars().count());
                }
            }
        }
        widths
    }

    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let widths = self.widths();
        let header: Vec<Cell> = self.headers.iter().map(|h| Cell::from(h.as_str())).collect();
        write_row(out, &header, &widths)?;
        for row in &self.rows {
            write_row(out, row, &widths)?;
        }
        Ok(())
    }
}

/// Writes one row padded to `widths`; the last column is not padded, so no line ends in spaces.
pub fn write_row(out: &mut impl Write, row: &[Cell], widths: &[usize]) -> std::io::Result<()> {
    let mut line = String::new();
    for (i, cell) in row.iter().enumerate() {
        line.push_str(&cell.shown);
        if i + 1 < row.len() {
            let width = widths.get(i).copied().unwrap_or(0);
            let pad = width.saturating_sub(cell.text.chars().count()) + GAP;
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    writeln!(out, "{line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns_on_the_widest_cell_and_ignores_colour_codes() {
        let mut t = Table::new(&["NAME", "READY"]);
        t.push(vec!["a-long-name".into(), Cell::styled("True", |s| format!("\x1b[32m{s}\x1b[0m"))]);
        t.push(vec!["b".into(), "False".into()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME          READY");
        assert_eq!(lines[1], "a-long-name   \x1b[32mTrue\x1b[0m");
        assert_eq!(lines[2], "b             False");
    }
}
