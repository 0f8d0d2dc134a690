//! A process's CPU time and resident memory, read from Linux's `/proc/<pid>/stat` and `/proc/<pid>/status`.

use anyhow::{Context, bail};
use std::time::Instant;

/// Which process to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pid {
    /// This process (an in-process server shares it with the bots).
    This,
    Other(u32),
}

impl Pid {
    fn dir(self) -> String {
        match self {
            Self::This => "/proc/self".into(),
            Self::Other(pid) => format!("/proc/{pid}"),
        }
    }
}

/// A reading of a process's CPU time.
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    /// User plus system time, in clock ticks.
    pub ticks: u64,
    pub at: Instant,
}

/// The user and system CPU ticks in the text of `/proc/<pid>/stat` (fields 14 and 15, counted after the
/// command name, which may itself hold spaces and parentheses).
pub fn parse_stat_ticks(stat: &str) -> anyhow::Result<u64> {
    let after_comm = stat.rsplit_once(')').map(|(_, rest)| rest).context("no ')' in stat")?;
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    let (Some(utime), Some(stime)) = (fields.get(11), fields.get(12)) else {
        bail!("stat has too few fields");
    };
    Ok(utime.parse::<u64>()? + stime.parse::<u64>()?)
}

/// The `VmRSS` line of `/proc/<pid>/status`, in MiB.
pub fn parse_status_rss_mb(status: &str) -> anyhow::Result<f64> {
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS line")?;
    let kb: f64 = line.split_whitespace().nth(1).context("empty VmRSS line")?.parse()?;
    Ok(kb / 1024.0)
}

/// Reads the CPU time a process has used so far.
pub fn cpu(pid: Pid) -> anyhow::Result<CpuSample> {
    read_cpu(&format!("{}/stat", pid.dir()))
}

/// The ids of a process's threads whose names (as `/proc/<pid>/task/<tid>/comm` gives them) start with
/// `prefix`.
pub fn threads_named(pid: Pid, prefix: &str) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("{}/task", pid.dir())) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| {
            let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
            let tid = task.file_name().to_str()?.parse().ok()?;
            comm.trim().starts_with(prefix).then_some(tid)
        })
        .collect()
}

/// Reads the CPU time some threads of a process have used so far, together (none: an error).
pub fn threads_cpu(pid: Pid, tids: &[u32]) -> anyhow::Result<CpuSample> {
    if tids.is_empty() {
        bail!("no threads to read");
    }
    let mut ticks = 0;
    for tid in tids {
        ticks += read_cpu(&format!("{}/task/{tid}/stat", pid.dir()))?.ticks;
    }
    Ok(CpuSample {
        ticks,
        at: Instant::now(),
    })
}

fn read_cpu(path: &str) -> anyhow::Result<CpuSample> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    Ok(CpuSample {
        ticks: parse_stat_ticks(&text)?,
        at: Instant::now(),
    })
}

/// The process's resident memory now, in MiB.
pub fn rss_mb(pid: Pid) -> anyhow::Result<f64> {
    let path = format!("{}/status", pid.dir());
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    parse_status_rss_mb(&text)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100, Linux's value everywhere, when that cannot be asked).
pub fn clock_ticks_per_s() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|t| *t > 0)
        .unwrap_or(100)
}

/// CPU use between two readings, in percent of one core (200 means two cores busy).
pub fn cpu_pct(start: CpuSample, end: CpuSample, ticks_per_s: u64) -> f64 {
    let wall = end.at.saturating_duration_since(start.at).as_secs_f64();
    if wall <= 0.0 || ticks_per_s == 0 {
        return 0.0;
    }
    let busy = end.ticks.saturating_sub(start.ticks) as f64 / ticks_per_s as f64;
    100.0 * busy / wall
}
