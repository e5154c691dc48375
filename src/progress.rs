//! Progress bars and stage timings.
//!
//! The pipeline receives a [`Progress`] handle; each long stage opens a [`Stage`], advances it
//! and finishes it with the number of items processed. Bars (indicatif) are drawn on stderr only
//! when stderr is a terminal and `--quiet` is off; timings are always recorded, logged at debug
//! level as each stage ends (`--logging-level debug`), and rendered as a table at the end of a
//! run, so at the default level each stage is reported once.

use std::sync::Mutex;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Duration and throughput of one finished stage.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageRecord {
    pub stage: String,
    pub items: u64,
    pub unit: String,
    pub seconds: f64,
    /// Peak resident set of the process so far (`VmHWM`) when the stage ended, in bytes.
    pub peak_rss: u64,
}

/// The process's peak resident set so far (`VmHWM` of `/proc/self/status`), in bytes.
pub fn peak_rss() -> u64 {
    status_bytes("VmHWM:")
}

/// A `kB` entry of `/proc/self/status`, in bytes.
fn status_bytes(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with(key))?;
            l[key.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// Shared progress/timing sink of a run.
pub struct Progress {
    multi: Option<MultiProgress>,
    records: Mutex<Vec<StageRecord>>,
}

impl Progress {
    /// `draw`: whether to draw bars (the CLI passes `stderr is a TTY && !quiet`).
    pub fn new(draw: bool) -> Progress {
        let multi = draw.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress {
            multi,
            records: Mutex::new(Vec::new()),
        }
    }

    /// No bars; timings are still recorded (unit tests).
    #[cfg(test)]
    pub fn silent() -> Progress {
        Progress::new(false)
    }

    /// Starts a stage; `total` is the expected item count if known.
    pub fn stage(&self, name: &str, total: Option<u64>, unit: &str) -> Stage<'_> {
        let bar = match &self.multi {
            None => ProgressBar::hidden(),
            Some(m) => {
                let bar = m.add(match total {
                    Some(t) => ProgressBar::new(t),
                    None => ProgressBar::new_spinner(),
                });
                let tmpl = if total.is_some() {
                    "{prefix:>18} [{bar:30}] {human_pos}/{human_len} {msg} ({elapsed})"
                } else {
                    "{prefix:>18} {spinner} {human_pos} {msg} ({elapsed})"
                };
                bar.set_style(
                    ProgressStyle::with_template(tmpl)
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_prefix(name.to_string());
                bar.set_message(unit.to_string());
                bar.enable_steady_tick(std::time::Duration::from_millis(200));
                bar
            }
        };
        Stage {
            progress: self,
            bar,
            name: name.to_string(),
            unit: unit.to_string(),
            start: Instant::now(),
        }
    }

    /// Records a stage measured elsewhere.
    pub fn record(&self, stage: &str, items: u64, unit: &str, seconds: f64) {
        let rate = if seconds > 0.0 {
            items as f64 / seconds
        } else {
            0.0
        };
        let peak = peak_rss();
        // Debug only: the stage table at the end reports each stage once.
        log::debug!(
            "{stage}: {items} {unit} in {seconds:.2} s ({} {unit}/s), peak RSS so far {}",
            human(rate),
            crate::workspace::budget::human(peak)
        );
        if let Ok(mut r) = self.records.lock() {
            r.push(StageRecord {
                stage: stage.into(),
                items,
                unit: unit.into(),
                seconds,
                peak_rss: peak,
            });
        }
    }

    /// All finished stages, in finishing order.
    pub fn records(&self) -> Vec<StageRecord> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Markdown-style table of the finished stages.
    pub fn table(&self) -> String {
        let recs = self.records();
        let mut s = format!(
            "{:<28} {:>14} {:>10} {:>16} {:>12}\n",
            "stage", "items", "seconds", "items/s", "peak RSS"
        );
        let mut total = 0.0;
        for r in &recs {
            total += r.seconds;
            let rate = if r.seconds > 0.0 {
                r.items as f64 / r.seconds
            } else {
                0.0
            };
            s += &format!(
                "{:<28} {:>14} {:>10.2} {:>16} {:>12}\n",
                r.stage,
                format!("{} {}", r.items, r.unit),
                r.seconds,
                human(rate),
                crate::workspace::budget::human(r.peak_rss)
            );
        }
        s += &format!("{:<28} {:>14} {:>10.2}\n", "total", "", total);
        s
    }
}

/// Compact number formatting: 1234567 → "1.23M".
pub fn human(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.2}G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}K", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// One running stage. Finish it with [`Stage::finish`]; dropping it unfinished records nothing.
pub struct Stage<'a> {
    progress: &'a Progress,
    bar: ProgressBar,
    name: String,
    unit: String,
    start: Instant,
}

impl Stage<'_> {
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }
    /// Ends the stage, recording `items` processed (in the stage's unit).
    pub fn finish(self, items: u64) -> f64 {
        let unit = self.unit.clone();
        self.finish_as(items, &unit)
    }

    /// Ends the stage, recording `items` of another unit than the bar counted
    /// (e.g. a bar over files that reports rows).
    pub fn finish_as(self, items: u64, unit: &str) -> f64 {
        let secs = self.start.elapsed().as_secs_f64();
        self.bar.finish_and_clear();
        self.progress.record(&self.name, items, unit, secs);
        secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_table() {
        let p = Progress::silent();
        let s = p.stage("read nodes", Some(10), "rows");
        s.inc(10);
        s.finish(10);
        p.record("metis", 5, "nodes", 0.5);
        let t = p.table();
        assert!(
            t.contains("read nodes") && t.contains("metis") && t.contains("total"),
            "{t}"
        );
        assert_eq!(human(1_500_000.0), "1.50M");
    }
}
