//! Progress while waiting: a spinner with the elapsed time on a terminal, plain lines otherwise
//! (CI logs, pipes), so every wait shows that something is happening and for how long.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::style::Style;

const FRAMES: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/// How often a plain (non-terminal) wait reports that it is still waiting.
const PLAIN_INTERVAL: Duration = Duration::from_secs(10);

pub struct Progress {
    started: Instant,
    ticker: Option<JoinHandle<()>>,
    terminal: bool,
}

impl Progress {
    /// Starts showing `message` on stderr.
    pub fn start(message: impl Into<String>) -> Progress {
        let message = message.into();
        let terminal = std::io::stderr().is_terminal();
        let started = Instant::now();
        if !terminal {
            eprintln!("◎ {message}");
        }
        let text = message;
        let ticker = tokio::spawn(async move {
            let mut frame = 0usize;
            loop {
                if terminal {
                    let spinner = FRAMES[frame % FRAMES.len()];
                    eprint!("\r\x1b[2K{spinner} {text} ({})", elapsed(started));
                    let _ = std::io::stderr().flush();
                    frame += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                } else {
                    tokio::time::sleep(PLAIN_INTERVAL).await;
                    eprintln!("◎ still waiting: {text} ({})", elapsed(started));
                }
            }
        });
        Progress { started, ticker: Some(ticker), terminal }
    }

    /// Stops the spinner and prints `✔ message (elapsed)`.
    pub fn succeed(mut self, message: &str) {
        self.stop();
        eprintln!("{} {message} ({})", Style::stderr().green("✔"), elapsed(self.started));
    }

    /// Stops the spinner and prints `✗ message (elapsed)`.
    pub fn fail(mut self, message: &str) {
        self.stop();
        eprintln!("{} {message} ({})", Style::stderr().red("✗"), elapsed(self.started));
    }

    fn stop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
            if self.terminal {
                eprint!("\r\x1b[2K");
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

fn elapsed(started: Instant) -> String {
    let d = started.elapsed();
    if d < Duration::from_secs(60) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// A step that finished: `✔ message`.
pub fn done(message: &str) {
    eprintln!("{} {message}", Style::stderr().green("✔"));
}

/// A step that begins: `► message`.
pub fn step(message: &str) {
    eprintln!("► {message}");
}
