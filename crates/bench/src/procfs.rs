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

/// The processes `pid` started, and the ones they started, from
/// `/proc/<pid>/task/*/children`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    let mut queue = vec![pid];
    while let Some(parent) = queue.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{parent}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let Ok(children) = std::fs::read_to_string(task.path().join("children")) else {
                continue;
            };
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                if child != pid && !out.contains(&child) {
                    out.push(child);
                    queue.push(child);
                }
            }
        }
    }
    out
}

/// A process's command name (`/proc/<pid>/comm`).
pub fn command_name(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|name| name.trim_end().to_owned())
}

/// Whether `pid` is running (exists and is not a zombie).
pub fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
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

#[cfg(test)]
mod process_tree_tests {
    use super::*;

    #[test]
    fn a_shell_s_child_is_its_descendant_and_is_found_by_name() {
        let mut shell = Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .expect("sh runs");
        let pid = shell.id();
        let mut found = None;
        for _ in 0..200 {
            found = descendants(pid)
                .into_iter()
                .find(|&d| command_name(d).as_deref() == Some("sleep"));
            if found.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let sleep = found.expect("the shell's sleep is found");
        assert!(running(pid) && running(sleep));
        assert!(!descendants(pid).contains(&pid));
        let _ = Command::new("kill").arg(sleep.to_string()).status();
        let _ = shell.wait();
        assert!(!running(pid));
    }
}
