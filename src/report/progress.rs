//! The progress bar, a reporter of the run's events: it keeps its position and length as data
//! (what tests read) and draws them with indicatif only when it was given a terminal.

use super::events::{Event, Reporter};

/// Checks done of the checks planned, and the failures so far.
pub struct Progress {
    position: u64,
    length: u64,
    failed: u64,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// A progress reporter; it draws a bar on stderr only when `draw` (stderr is a terminal).
    pub fn new(draw: bool) -> Progress {
        let bar = draw.then(|| {
            let bar = indicatif::ProgressBar::new(0);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} checks · {msg} · {elapsed}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress { position: 0, length: 0, failed: 0, bar }
    }

    /// Checks reported so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Checks planned (the bar's total).
    pub fn length(&self) -> u64 {
        self.length
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Reporter for Progress {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Planned { total } => {
                self.length = total;
                if let Some(bar) = &self.bar {
                    bar.set_length(total);
                }
            }
            Event::Check(c) => {
                self.position += 1;
                self.failed += u64::from(!c.passed);
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                    bar.set_message(format!("{} · {} failed", c.route, self.failed));
                }
            }
            Event::Finished(_) => self.finish(),
        }
    }
}
