//! One table for people, the same as JSON for tools.

use serde_json::{Value, json};

use crate::args::{Args, Mode};
use crate::cpu::Usage;
use crate::flood::Outcomes;
use crate::load::Measured;

/// The admin API's p99 under the flood may be at most this many times its p99 without.
pub const ISOLATION_TARGET: f64 = 2.0;

/// One flooded route: its answers in all, their rate, and the count of each outcome.
struct FloodRoute {
    route: &'static str,
    total: u64,
    rate: f64,
    outcomes: Vec<(String, u64)>,
}

/// What `isolation` found besides its two rows.
pub struct Isolation {
    pub quiet_p99_ms: f64,
    pub flood_p99_ms: f64,
    pub flood_clients: usize,
    pub flood: Outcomes,
    /// Where the CPU went in each measured window.
    pub quiet_cpu: Option<Usage>,
    pub flood_cpu: Option<Usage>,
}

impl Isolation {
    pub fn ratio(&self) -> f64 {
        self.flood_p99_ms / self.quiet_p99_ms.max(f64::EPSILON)
    }

    pub fn met(&self) -> bool {
        self.ratio() <= ISOLATION_TARGET
    }

    /// Per route: its total, its rate, and each outcome's count.
    fn routes(&self) -> Vec<FloodRoute> {
        let seconds = self.flood.window.as_secs_f64().max(f64::EPSILON);
        [crate::flood::FLOW_ROUTE, crate::flood::LOGIN_ROUTE]
            .into_iter()
            .map(|route| {
                let total = self.flood.total(route);
                #[allow(clippy::cast_precision_loss)]
                let rate = total as f64 / seconds;
                let outcomes = self
                    .flood
                    .counts
                    .iter()
                    .filter(|((r, _), _)| *r == route)
                    .map(|((_, outcome), n)| (outcome.clone(), *n))
                    .collect();
                FloodRoute {
                    route,
                    total,
                    rate,
                    outcomes,
                }
            })
            .collect()
    }

    fn text(&self) -> String {
        let mut out = format!(
            "admin p99 under the flood / without: {:.2} ms / {:.2} ms = {:.2}x (target: at most \
             {ISOLATION_TARGET}x; {})\n\nflood: {} client addresses, answers to requests sent in \
             the {}s measured:\n",
            self.flood_p99_ms,
            self.quiet_p99_ms,
            self.ratio(),
            if self.met() { "met" } else { "missed" },
            self.flood_clients,
            self.flood.window.as_secs(),
        );
        for FloodRoute {
            route,
            total,
            rate,
            outcomes,
        } in self.routes()
        {
            let outcomes: Vec<String> = outcomes
                .iter()
                .map(|(outcome, n)| format!("{outcome}: {n}"))
                .collect();
            out.push_str(&format!(
                "  {route:<28} {total:>8} ({rate:.0}/s)  {}\n",
                outcomes.join(", ")
            ));
        }
        out.push_str("\nCPU in the measured windows, % of one core:\n");
        for (label, usage) in [("no flood", &self.quiet_cpu), ("flood", &self.flood_cpu)] {
            if let Some(usage) = usage {
                out.push_str(&format!("  {label:<9} {}\n", usage.text()));
            }
        }
        out
    }

    fn json(&self) -> Value {
        let flood: Vec<Value> = self
            .routes()
            .into_iter()
            .map(|r| {
                let outcomes: serde_json::Map<String, Value> = r
                    .outcomes
                    .into_iter()
                    .map(|(outcome, n)| (outcome, json!(n)))
                    .collect();
                json!({
                    "route": r.route,
                    "requests": r.total,
                    "per_second": r.rate,
                    "outcomes": outcomes,
                })
            })
            .collect();
        json!({
            "p99_no_flood_ms": self.quiet_p99_ms,
            "p99_flood_ms": self.flood_p99_ms,
            "ratio": self.ratio(),
            "target": ISOLATION_TARGET,
            "met": self.met(),
            "flood_clients": self.flood_clients,
            "flood": flood,
            "cpu_percent_of_one_core": {
                "no_flood": self.quiet_cpu.as_ref().map(Usage::json),
                "flood": self.flood_cpu.as_ref().map(Usage::json),
            },
        })
    }
}

pub struct Row {
    pub label: String,
    pub identities: usize,
    pub service: bool,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub requests: u64,
    pub errors: u64,
    pub peak_rss_mib: Option<f64>,
}

fn ms(micros: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let micros = micros as f64;
    micros / 1000.0
}

impl Row {
    fn new(
        label: String,
        identities: usize,
        service: bool,
        m: &Measured,
        peak_rss_kib: Option<u64>,
    ) -> Self {
        #[allow(clippy::cast_precision_loss)]
        let per_second = m.requests as f64 / m.elapsed.as_secs_f64().max(f64::EPSILON);
        #[allow(clippy::cast_precision_loss)]
        let peak_rss_mib = peak_rss_kib.map(|kib| kib as f64 / 1024.0);
        Self {
            label,
            identities,
            service,
            per_second,
            p50_ms: ms(m.latency.value_at_quantile(0.50)),
            p90_ms: ms(m.latency.value_at_quantile(0.90)),
            p99_ms: ms(m.latency.value_at_quantile(0.99)),
            max_ms: ms(m.latency.max()),
            requests: m.requests,
            errors: m.errors,
            peak_rss_mib,
        }
    }

    pub fn service(
        label: String,
        identities: usize,
        m: Measured,
        peak_rss_kib: Option<u64>,
    ) -> Self {
        Self::new(label, identities, true, &m, peak_rss_kib)
    }

    pub fn baseline(label: String, identities: usize, m: Measured) -> Self {
        Self::new(label, identities, false, &m, None)
    }
}

/// service / baseline throughput, for each baseline measured at the service's size.
fn ratios(rows: &[Row]) -> Vec<(String, f64)> {
    let mut ratios = Vec::new();
    for service in rows.iter().filter(|r| r.service) {
        for baseline in rows
            .iter()
            .filter(|r| !r.service && r.identities == service.identities)
        {
            ratios.push((
                format!("{} / {}", service.label, baseline.label),
                service.per_second / baseline.per_second.max(f64::EPSILON),
            ));
        }
    }
    let services: Vec<&Row> = rows.iter().filter(|r| r.service).collect();
    if let [small, large] = services.as_slice()
        && small.identities != large.identities
    {
        ratios.push((
            format!("{} / {}", large.label, small.label),
            large.per_second / small.per_second.max(f64::EPSILON),
        ));
    }
    ratios
}

pub fn table(args: &Args, rows: &[Row], isolation: Option<&Isolation>) -> String {
    let mut out = format!(
        "{:?} on {:?}, concurrency {}, {}s measured after {}s warm-up\n\n",
        args.mode,
        args.store,
        args.concurrency,
        args.duration.as_secs(),
        args.warmup.as_secs()
    );
    out.push_str(&format!(
        "{:<44} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8} {:>10}\n",
        "run", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "peak RSS"
    ));
    for row in rows {
        let rss = row
            .peak_rss_mib
            .map_or_else(|| "-".to_owned(), |mib| format!("{mib:.1} MiB"));
        out.push_str(&format!(
            "{:<44} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8} {:>10}\n",
            row.label,
            row.per_second,
            row.p50_ms,
            row.p90_ms,
            row.p99_ms,
            row.max_ms,
            row.errors,
            rss
        ));
    }
    let ratios = ratios(rows);
    if !ratios.is_empty() {
        out.push('\n');
        for (label, ratio) in ratios {
            out.push_str(&format!("{label}: {ratio:.2}x\n"));
        }
    }
    if let Some(isolation) = isolation {
        out.push('\n');
        out.push_str(&isolation.text());
    }
    out
}

pub fn json(args: &Args, rows: &[Row], isolation: Option<&Isolation>) -> String {
    let runs: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "run": r.label,
                "identities": r.identities,
                "requests_per_second": r.per_second,
                "p50_ms": r.p50_ms,
                "p90_ms": r.p90_ms,
                "p99_ms": r.p99_ms,
                "max_ms": r.max_ms,
                "requests": r.requests,
                "errors": r.errors,
                "peak_rss_mib": r.peak_rss_mib,
            })
        })
        .collect();
    let ratios: Vec<Value> = ratios(rows)
        .into_iter()
        .map(|(label, ratio)| json!({"ratio": label, "value": ratio}))
        .collect();
    let mode = match args.mode {
        Mode::Issue => "issue",
        Mode::Redeem => "redeem",
        Mode::Scale => "scale",
        Mode::Isolation => "isolation",
    };
    serde_json::to_string_pretty(&json!({
        "mode": mode,
        "store": format!("{:?}", args.store).to_lowercase(),
        "concurrency": args.concurrency,
        "duration_s": args.duration.as_secs(),
        "warmup_s": args.warmup.as_secs(),
        "runs": runs,
        "ratios": ratios,
        "isolation": isolation.map(Isolation::json),
    }))
    .unwrap_or_default()
}
