//! Colour, only when the output is a terminal and `NO_COLOR` is not set (https://no-color.org).

use std::io::IsTerminal;

#[derive(Clone, Copy, Debug)]
pub struct Style {
    colour: bool,
}

impl Style {
    /// The style for stdout.
    pub fn stdout() -> Style {
        Style { colour: std::io::stdout().is_terminal() && !no_colour() }
    }

    /// The style for stderr.
    pub fn stderr() -> Style {
        Style { colour: std::io::stderr().is_terminal() && !no_colour() }
    }

    pub fn green(self, text: &str) -> String {
        self.paint("32", text)
    }

    pub fn red(self, text: &str) -> String {
        self.paint("31", text)
    }

    pub fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Colours a Ready status: True green, False red, anything else yellow.
    pub fn ready(self, status: &str) -> String {
        match status {
            "True" => self.green(status),
            "False" => self.red(status),
            _ => self.yellow(status),
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
}

fn no_colour() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
