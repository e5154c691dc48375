//! The memory budget (`--memory`): parsing, the default, and the admission checks that make a
//! run that cannot fit fail early with a message about the budget instead of being killed by
//! the kernel's OOM killer.
//!
//! What the budget governs (see README "Memory"):
//! - Node/edge data arrays (features, labels, masks) are kept in memory while they fit in half
//!   of the budget; beyond that every new array is written in place into a memory-mapped file
//!   of the spill workspace ([`crate::workspace::spill`]), whose pages are handed back to the
//!   page cache as soon as they are filled and again while writers stream them out.
//! - What cannot spill (edge lists at 8 B per edge, the writers' 4 B per edge ordering, ID
//!   maps, the decoded columns of the files being read) is estimated before the work starts
//!   ([`Budget::admit`]); a run whose floor exceeds the budget stops with the numbers and what
//!   to do.

use crate::error::{Error, Result};

/// Smallest accepted budget (the CLI rejects less).
pub const MIN_BUDGET: u64 = 1 << 20;

/// The run's memory budget in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub bytes: u64,
}

impl Budget {
    /// The default budget: 3/4 of the memory available now (`MemAvailable`), or 4 GiB where
    /// that cannot be read.
    pub fn default_for_machine() -> Budget {
        let avail = available_memory().unwrap_or(4 << 30);
        Budget {
            bytes: (avail / 4 * 3).max(MIN_BUDGET),
        }
    }

    /// Bytes of data arrays that may stay in memory before new arrays spill.
    pub fn array_limit(&self) -> u64 {
        self.bytes / 2
    }

    /// Fails with a budget error when `need` bytes of unspillable state (`what`) exceed the
    /// budget.
    pub fn admit(&self, need: u64, what: &str) -> Result<()> {
        if need > self.bytes {
            return Err(Error::Budget(format!(
                "{what} needs at least {} in memory, more than --memory {} allows; raise --memory \
                 (this machine has {} available) or split the input into several graphs",
                human(need),
                human(self.bytes),
                available_memory().map_or_else(|| "an unknown amount".into(), human),
            )));
        }
        Ok(())
    }
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
pub fn available_memory() -> Option<u64> {
    meminfo_field("MemAvailable:")
}

/// `MemTotal` from `/proc/meminfo`, in bytes.
pub fn total_memory() -> Option<u64> {
    meminfo_field("MemTotal:")
}

fn meminfo_field(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Parses a `--memory` value: bytes with an optional unit (`8GiB`, `512MiB`, `16G`, `1.5GB`,
/// `1000000`; K/M/G/T are binary, KB/MB/GB/TB decimal) or a percentage of total RAM (`50%`).
pub fn parse_budget(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let bytes = if let Some(p) = t.strip_suffix('%') {
        let pct: f64 = p
            .trim()
            .parse()
            .map_err(|_| format!("invalid --memory '{s}': '{p}' is not a number"))?;
        if !(pct > 0.0 && pct <= 100.0) {
            return Err(format!(
                "invalid --memory '{s}': a percentage must be in (0, 100]"
            ));
        }
        let total = total_memory()
            .ok_or_else(|| format!("--memory '{s}': cannot read MemTotal from /proc/meminfo; give bytes instead (e.g. 8GiB)"))?;
        (total as f64 * pct / 100.0) as u64
    } else {
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let v: f64 = num.parse().map_err(|_| {
            format!("invalid --memory '{s}': expected bytes like 8GiB, 512MiB, 16G or a percentage like 50%")
        })?;
        let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1.0,
            "k" | "kib" => 1024.0,
            "m" | "mib" => 1024.0 * 1024.0,
            "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
            "t" | "tib" => 1024.0f64.powi(4),
            "kb" => 1e3,
            "mb" => 1e6,
            "gb" => 1e9,
            "tb" => 1e12,
            u => {
                return Err(format!(
                    "invalid --memory '{s}': unknown unit '{u}' (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB or %)"
                ))
            }
        };
        (v * mult) as u64
    };
    if bytes < MIN_BUDGET {
        return Err(format!(
            "--memory '{s}' is {bytes} bytes; at least 1MiB is needed"
        ));
    }
    Ok(bytes)
}

/// `1.50 GiB`-style rendering for messages.
pub fn human(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.2} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_percentages() {
        assert_eq!(parse_budget("8GiB").unwrap(), 8 << 30);
        assert_eq!(parse_budget("8G").unwrap(), 8 << 30);
        assert_eq!(parse_budget("512 MiB").unwrap(), 512 << 20);
        assert_eq!(parse_budget("1.5GB").unwrap(), 1_500_000_000);
        assert_eq!(parse_budget("2000000").unwrap(), 2_000_000);
        assert!(parse_budget("10").unwrap_err().contains("at least 1MiB"));
        assert!(parse_budget("8 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_budget("lots").is_err());
        assert!(parse_budget("0%").is_err());
        if let Some(total) = total_memory() {
            let half = parse_budget("50%").unwrap();
            assert!(half.abs_diff(total / 2) < 2);
        }
    }

    #[test]
    fn admit_names_the_budget() {
        let b = Budget { bytes: 1 << 30 };
        assert!(b.admit(1 << 29, "x").is_ok());
        let e = b
            .admit(3 << 30, "edge lists of 400000000 edges")
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("3.00 GiB") && msg.contains("1.00 GiB") && msg.contains("--memory"),
            "{msg}"
        );
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(3 << 29), "1.50 GiB");
    }
}
