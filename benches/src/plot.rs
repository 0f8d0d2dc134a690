//! Hand-written SVG plots: a run's tick-time distribution and input-to-snapshot latency over time, and a
//! sweep's tick p99 and bandwidth per client against players.

use crate::report::{Report, Series};
use std::fmt::Write as _;

const PANEL_W: f64 = 560.0;
const PANEL_H: f64 = 260.0;
const MARGIN_L: f64 = 70.0;
const MARGIN_T: f64 = 40.0;
const MARGIN_B: f64 = 45.0;
const BLUE: &str = "#3465a4";
const RED: &str = "#cc0000";
const GREY: &str = "#888888";

/// A "nice" step (1, 2 or 5 times a power of ten) giving about `n` ticks over `span`.
pub fn nice_step(span: f64, n: f64) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / n.max(1.0);
    let pow = 10f64.powf(raw.log10().floor());
    let m = raw / pow;
    pow * if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// One chart area: data ranges mapped onto a box of the picture.
struct Panel {
    x0: f64,
    y0: f64,
    x_max: f64,
    y_max: f64,
}

impl Panel {
    /// Draws the frame, the title, the axis labels and ticks; the ranges start at 0.
    fn new(svg: &mut String, left: f64, top: f64, x_max: f64, y_max: f64, labels: [&str; 3]) -> Self {
        let x_step = nice_step(x_max, 6.0);
        let y_step = nice_step(y_max, 5.0);
        let p = Self {
            x0: left + MARGIN_L,
            y0: top + MARGIN_T,
            x_max: (x_max / x_step).ceil().max(1.0) * x_step,
            y_max: (y_max / y_step).ceil().max(1.0) * y_step,
        };
        let (w, h) = (PANEL_W - MARGIN_L - 20.0, PANEL_H - MARGIN_T - MARGIN_B);
        let _ = writeln!(
            svg,
            r#"<rect x="{}" y="{}" width="{w}" height="{h}" fill="none" stroke="black"/>"#,
            p.x0, p.y0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" font-size="14" font-weight="bold">{}</text>"#,
            p.x0,
            top + 22.0,
            esc(labels[0])
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" font-size="12" text-anchor="middle">{}</text>"#,
            p.x0 + w / 2.0,
            p.y0 + h + 36.0,
            esc(labels[1])
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" font-size="12" text-anchor="middle" transform="rotate(-90 {} {})">{}</text>"#,
            left + 16.0,
            p.y0 + h / 2.0,
            left + 16.0,
            p.y0 + h / 2.0,
            esc(labels[2])
        );
        let mut x = 0.0;
        while x <= p.x_max + x_step / 2.0 {
            let px = p.px(x);
            let _ = writeln!(
                svg,
                r#"<line x1="{px:.1}" y1="{}" x2="{px:.1}" y2="{}" stroke="black"/><text x="{px:.1}" y="{}" font-size="11" text-anchor="middle">{}</text>"#,
                p.y0 + h,
                p.y0 + h + 5.0,
                p.y0 + h + 18.0,
                fmt_num(x)
            );
            x += x_step;
        }
        let mut y = 0.0;
        while y <= p.y_max + y_step / 2.0 {
            let py = p.py(y);
            let _ = writeln!(
                svg,
                r#"<line x1="{}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="{GREY}" stroke-opacity="0.3"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"#,
                p.x0,
                p.x0 + w,
                p.x0 - 6.0,
                py + 4.0,
                fmt_num(y)
            );
            y += y_step;
        }
        p
    }

    fn px(&self, x: f64) -> f64 {
        self.x0 + x / self.x_max * (PANEL_W - MARGIN_L - 20.0)
    }

    fn py(&self, y: f64) -> f64 {
        let h = PANEL_H - MARGIN_T - MARGIN_B;
        self.y0 + h - (y / self.y_max).min(1.05) * h
    }

    fn polyline(&self, svg: &mut String, points: &[(f64, f64)], color: &str, dashed: bool) {
        let pts: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", self.px(x), self.py(y)))
            .collect();
        let dash = if dashed { r#" stroke-dasharray="6 4""# } else { "" };
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="1.5"{dash}/>"#,
            pts.join(" ")
        );
        let dots = if points.len() <= 12 && !dashed { points.len() } else { 0 };
        for (x, y) in points.iter().take(dots) {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#,
                self.px(*x),
                self.py(*y)
            );
        }
    }

    fn vline(&self, svg: &mut String, x: f64, color: &str, label: &str, row: usize) {
        let px = self.px(x);
        let _ = writeln!(
            svg,
            r#"<line x1="{px:.1}" y1="{}" x2="{px:.1}" y2="{}" stroke="{color}" stroke-dasharray="4 3"/><text x="{:.1}" y="{}" font-size="11" fill="{color}">{}</text>"#,
            self.y0,
            self.py(0.0),
            px + 3.0,
            self.y0 + 12.0 + 14.0 * row as f64,
            esc(label)
        );
    }

    fn legend(&self, svg: &mut String, row: usize, color: &str, label: &str) {
        let y = self.y0 + 14.0 + 15.0 * row as f64;
        let x = self.px(self.x_max) - 150.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
            y - 4.0,
            x + 18.0,
            y - 4.0,
            x + 22.0,
            y,
            esc(label)
        );
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn document(width: f64, height: f64, body: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n"
    )
}

/// A run's plot: the tick-time histogram (with p50, p99 and the tick budget marked) above the
/// input-to-snapshot latency (p50 and p99 per slice of the window) over time.
pub fn run_svg(report: &Report, series: &Series) -> String {
    let mut svg = String::new();
    let budget = 1e6 / f64::from(report.tick_rate.max(1));
    let max_us = series.tick_buckets.last().map_or(1.0, |b| b.0 as f64).max(1.0);
    let bins = 60usize;
    let width = (max_us * 1.05 / bins as f64).max(1.0);
    let mut counts = vec![0u64; bins + 1];
    for &(le, n) in &series.tick_buckets {
        counts[((le as f64 / width) as usize).min(bins)] += n;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let title = format!(
        "Tick work, {} bots: {} ticks, {} overruns",
        report.bots, report.ticks, report.tick_overruns
    );
    let p = Panel::new(
        &mut svg,
        0.0,
        0.0,
        width * bins as f64,
        top,
        [&title, "tick work (µs)", "ticks"],
    );
    for (i, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
        let (x, y) = (p.px(i as f64 * width), p.py(n as f64));
        let _ = writeln!(
            svg,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{BLUE}"/>"#,
            (p.px(width) - p.px(0.0)).max(1.0),
            p.py(0.0) - y
        );
    }
    if let Some(t) = &report.tick_us {
        p.vline(&mut svg, t.p50 as f64, "black", &format!("p50 {} µs", t.p50), 0);
        p.vline(&mut svg, t.p99 as f64, RED, &format!("p99 {} µs", t.p99), 1);
    }
    if budget <= p.x_max {
        p.vline(&mut svg, budget, GREY, "tick budget", 2);
    }
    let lat = &series.latency;
    let t_max = lat.last().map_or(1.0, |l| l.t_s).max(report.duration_s).max(0.1);
    let y_max = lat.iter().map(|l| l.p99_us).max().unwrap_or(1).max(1) as f64 / 1e3;
    let title = format!(
        "Input to snapshot (floor RTT p50 {} µs, p99 {} µs)",
        report.floor_rtt_us.p50, report.floor_rtt_us.p99
    );
    let q = Panel::new(
        &mut svg,
        0.0,
        PANEL_H,
        t_max,
        y_max,
        [&title, "time in the window (s)", "ms"],
    );
    let pts = |f: fn(&crate::report::LatencyPoint) -> u64| -> Vec<(f64, f64)> {
        lat.iter().map(|l| (l.t_s, f(l) as f64 / 1e3)).collect()
    };
    q.polyline(&mut svg, &pts(|l| l.p99_us), RED, false);
    q.polyline(&mut svg, &pts(|l| l.p50_us), BLUE, false);
    q.legend(&mut svg, 0, RED, "p99");
    q.legend(&mut svg, 1, BLUE, "p50");
    document(PANEL_W, 2.0 * PANEL_H, &svg)
}

/// A sweep's plot: tick p99 (with the tick budget) and bytes per client per second against players.
pub fn sweep_svg(rows: &[Report]) -> String {
    let mut svg = String::new();
    let x_max = rows.iter().map(|r| r.bots).max().unwrap_or(1) as f64;
    let tick: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| r.tick_us.map(|t| (r.bots as f64, t.p99 as f64 / 1e3)))
        .collect();
    let budget = rows.first().map_or(60.0, |r| f64::from(r.tick_rate.max(1)));
    let budget_ms = 1e3 / budget;
    let y_max = tick.iter().map(|t| t.1).fold(budget_ms, f64::max);
    let p = Panel::new(&mut svg, 0.0, 0.0, x_max, y_max, ["Tick work p99", "players", "ms"]);
    p.polyline(&mut svg, &[(0.0, budget_ms), (p.x_max, budget_ms)], GREY, true);
    p.polyline(&mut svg, &tick, RED, false);
    for r in rows.iter().filter(|r| r.bots_connected < r.bots) {
        let y = r.tick_us.map_or(0.0, |t| t.p99 as f64 / 1e3);
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="{GREY}">{} of {} joined</text>"#,
            p.px(r.bots as f64) - 5.0,
            p.py(y) + 14.0,
            r.bots_connected,
            r.bots
        );
    }
    p.legend(&mut svg, 0, RED, "tick p99");
    p.legend(&mut svg, 1, GREY, "tick budget");
    let down: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (r.bots as f64, r.down_bytes_per_client_per_s / 1e3))
        .collect();
    let up: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (r.bots as f64, r.up_bytes_per_client_per_s / 1e3))
        .collect();
    let y_max = down.iter().chain(&up).map(|d| d.1).fold(1.0, f64::max);
    let q = Panel::new(
        &mut svg,
        PANEL_W,
        0.0,
        x_max,
        y_max,
        ["Bandwidth per client", "players", "KB/s"],
    );
    q.polyline(&mut svg, &down, BLUE, false);
    q.polyline(&mut svg, &up, RED, false);
    q.legend(&mut svg, 0, BLUE, "down (received)");
    q.legend(&mut svg, 1, RED, "up (sent)");
    document(2.0 * PANEL_W, PANEL_H, &svg)
}
