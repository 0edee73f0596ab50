//! Where the CPU went during a measured window, from `/proc` (Linux): the machine as a whole,
//! the server's threads by name, and the bench itself. Whatever else is busy (PostgreSQL, other
//! work on the machine) is the machine's time less those two.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Clock ticks per second in `/proc` (`USER_HZ`), 100 on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, Clone, Default)]
struct Snapshot {
    /// `/proc/stat`: busy and total ticks over all cores.
    machine_busy: u64,
    machine_total: u64,
    cores: usize,
    /// The server's threads, grouped by name with their index dropped.
    server: BTreeMap<String, u64>,
    bench: u64,
}

/// User and system ticks of a process or thread, from its `stat`.
fn ticks(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    // After the name: state is field 3; utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// A thread's name without its number: `argon2-1` and `argon2-0` are one group.
fn group(name: &str) -> String {
    match name.rsplit_once(['-', ':']) {
        Some((stem, index)) if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) => {
            stem.to_owned()
        }
        _ => name.to_owned(),
    }
}

fn snapshot(server_pid: u32) -> Snapshot {
    let mut snap = Snapshot::default();
    if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
        for line in stat.lines() {
            if let Some(rest) = line.strip_prefix("cpu ") {
                let values: Vec<u64> = rest
                    .split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect();
                // user nice system idle iowait irq softirq steal …
                let idle =
                    values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
                snap.machine_total = values.iter().take(8).sum();
                snap.machine_busy = snap.machine_total.saturating_sub(idle);
            } else if line.starts_with("cpu") {
                snap.cores += 1;
            }
        }
    }
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{server_pid}/task")) {
        for task in tasks.flatten() {
            if let Some((name, n)) = std::fs::read_to_string(task.path().join("stat"))
                .ok()
                .and_then(|s| ticks(&s))
            {
                *snap.server.entry(group(&name)).or_default() += n;
            }
        }
    }
    snap.bench = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| ticks(&s))
        .map_or(0, |(_, n)| n);
    snap
}

/// CPU used over a window, in percent of one core.
#[derive(Debug, Clone)]
pub struct Usage {
    pub cores: usize,
    pub machine: f64,
    pub server: f64,
    pub server_threads: Vec<(String, f64)>,
    pub bench: f64,
}

impl Usage {
    fn between(a: &Snapshot, b: &Snapshot, elapsed: Duration) -> Self {
        #[allow(clippy::cast_precision_loss)]
        let percent = |ticks: u64| ticks as f64 / TICKS_PER_SECOND / elapsed.as_secs_f64() * 100.0;
        #[allow(clippy::cast_precision_loss)]
        let machine = {
            let total = b.machine_total.saturating_sub(a.machine_total).max(1) as f64;
            let busy = b.machine_busy.saturating_sub(a.machine_busy) as f64;
            busy / total * 100.0 * b.cores.max(1) as f64
        };
        let mut server_threads: Vec<(String, f64)> = b
            .server
            .iter()
            .map(|(name, n)| {
                let before = a.server.get(name).copied().unwrap_or(0);
                (name.clone(), percent(n.saturating_sub(before)))
            })
            .filter(|(_, p)| *p >= 0.5)
            .collect();
        server_threads.sort_by(|x, y| y.1.total_cmp(&x.1));
        Self {
            cores: b.cores,
            machine,
            server: server_threads.iter().map(|(_, p)| p).sum(),
            server_threads,
            bench: percent(b.bench.saturating_sub(a.bench)),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        let threads: serde_json::Map<String, serde_json::Value> = self
            .server_threads
            .iter()
            .map(|(name, p)| (name.clone(), serde_json::json!(p)))
            .collect();
        serde_json::json!({
            "cores": self.cores,
            "machine": self.machine,
            "server": self.server,
            "server_threads": threads,
            "bench": self.bench,
        })
    }

    pub fn text(&self) -> String {
        let threads: Vec<String> = self
            .server_threads
            .iter()
            .map(|(name, p)| format!("{name} {p:.0}%"))
            .collect();
        format!(
            "machine {:.0}% of {}%, server {:.0}% ({}), bench {:.0}%, the rest (PostgreSQL, \
             other work) {:.0}%",
            self.machine,
            self.cores * 100,
            self.server,
            threads.join(", "),
            self.bench,
            (self.machine - self.server - self.bench).max(0.0)
        )
    }
}

/// Measures from `from` until `to` (both ahead), in the background.
pub fn during(server_pid: u32, from: Instant, to: Instant) -> tokio::task::JoinHandle<Usage> {
    tokio::spawn(async move {
        tokio::time::sleep_until(from.into()).await;
        let a = snapshot(server_pid);
        let start = Instant::now();
        tokio::time::sleep_until(to.into()).await;
        let b = snapshot(server_pid);
        Usage::between(&a, &b, start.elapsed())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_the_name_and_the_ticks() {
        let line = "4242 (actix-rt|system) S 1 2 3 4 5 6 7 8 9 10 250 40 0 0 20 0 1 0 100";
        assert_eq!(ticks(line), Some(("actix-rt|system".to_owned(), 290)));
        assert_eq!(group("argon2-1"), "argon2");
        assert_eq!(group("tokio-runtime-w"), "tokio-runtime-w");
    }
}
