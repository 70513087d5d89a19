//! Reading another process's CPU time and memory from `/proc`, and what the
//! machine is.

use std::process::Command;

/// A process whose CPU time (user + system, all threads) can be read.
#[derive(Debug, Clone, Copy)]
pub struct Cpu {
    pub pid: u32,
    pub ticks_per_second: f64,
}

impl Cpu {
    pub fn new(pid: u32) -> Cpu {
        Cpu {
            pid,
            ticks_per_second: clock_ticks(),
        }
    }

    /// CPU seconds and context switches so far.
    pub fn sample(&self) -> Option<(f64, u64)> {
        Some((self.seconds()?, context_switches(self.pid)?))
    }

    /// utime + stime in seconds.
    pub fn seconds(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
        let ticks = cpu_ticks(&stat)?;
        Some(ticks as f64 / self.ticks_per_second)
    }
}

/// Context switches (voluntary + involuntary) of all the process's threads.
pub fn context_switches(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        total += status_field_kb(&status, "voluntary_ctxt_switches").unwrap_or(0);
        total += status_field_kb(&status, "nonvoluntary_ctxt_switches").unwrap_or(0);
    }
    Some(total)
}

/// utime + stime from a `/proc/<pid>/stat` line. The command name may contain
/// spaces and parentheses, so fields are counted after the last `)`.
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ")" come field 3 (state) onwards; utime is field 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// A `/proc/<pid>/status` memory field (`VmRSS`, `VmHWM`) in MB.
pub fn memory_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field_kb(&status, field).map(|kb| kb as f64 / 1024.0)
}

/// A numeric `/proc/<pid>/status` field (kB for memory fields).
pub fn status_field_kb(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// The soft limit on open files of this process.
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    limits.lines().find_map(|line| {
        let rest = line.strip_prefix("Max open files")?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// CPU model and the number of CPUs this process may run on.
pub fn machine() -> (String, usize) {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    (model, cores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_and_status_fields_are_parsed() {
        let stat = "1234 (tokio (rt) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0";
        assert_eq!(cpu_ticks(stat), Some(325));
        let status = "Name:\tuplink\nVmHWM:\t   40960 kB\nVmRSS:\t   12288 kB\n";
        assert_eq!(status_field_kb(status, "VmRSS"), Some(12_288));
        assert_eq!(status_field_kb(status, "VmHWM"), Some(40_960));
        assert_eq!(status_field_kb(status, "VmSwap"), None);
        assert!(context_switches(std::process::id()).is_some_and(|n| n > 0));
        let me = Cpu::new(std::process::id());
        assert!(me.seconds().is_some());
    }
}
