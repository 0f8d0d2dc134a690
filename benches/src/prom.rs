//! The server's own figures: its Prometheus text (`GET /metrics`, or rendered in process), parsed into
//! counters and the tick-duration histogram, and the difference between two scrapes.

use crate::report::RoomTicks;
use crate::stats;
use anyhow::{Context, bail};
use arena_server::metrics::Metrics;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The histogram the server keeps of each tick's work, in microseconds.
pub const TICK_HISTOGRAM: &str = "arena_tick_duration_seconds_bucket";
/// Longest a scrape may take.
pub const SCRAPE_TIMEOUT: Duration = Duration::from_secs(3);
/// Largest metrics page read.
const MAX_PAGE: u64 = 1 << 20;

/// Where the server's metrics come from.
#[derive(Clone)]
pub enum Source {
    /// A server in another process, over HTTP.
    Http(SocketAddr),
    /// A server in this process.
    InProcess(Arc<Metrics>),
}

/// One reading of the server's metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    /// Every unlabelled sample, by name.
    pub values: HashMap<String, f64>,
    /// The tick histogram: cumulative count at each listed upper bound (µs), increasing; `+Inf` left out.
    pub tick_cumulative: Vec<(u64, u64)>,
    /// Each room's tick summary and overruns, by room code.
    pub rooms: std::collections::BTreeMap<String, RoomTicks>,
}

impl Scrape {
    /// Parses Prometheus text; lines it does not understand are skipped.
    pub fn parse(text: &str) -> Self {
        let mut out = Self::default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else { continue };
            match key.split_once('{') {
                None => {
                    out.values.insert(key.to_owned(), value);
                }
                Some((TICK_HISTOGRAM, labels)) => {
                    let le = labels
                        .trim_end_matches('}')
                        .split(',')
                        .find_map(|l| l.strip_prefix("le=\""))
                        .map(|l| l.trim_end_matches('"'));
                    // Bounds in seconds, as the server writes them: back to whole microseconds.
                    if let Some(Ok(le)) = le.map(str::parse::<f64>) {
                        out.tick_cumulative.push(((le * 1e6).round() as u64, value as u64));
                    }
                }
                Some((name @ ("arena_room_tick_seconds" | "arena_room_tick_overruns_total"), labels)) => {
                    let label = |key: &str| {
                        labels
                            .trim_end_matches('}')
                            .split(',')
                            .find_map(|l| l.strip_prefix(key))
                            .map(|l| l.trim_matches('"').to_owned())
                    };
                    let Some(room) = label("room=") else { continue };
                    let figures = out.rooms.entry(room).or_default();
                    match (name, label("quantile=").as_deref()) {
                        ("arena_room_tick_overruns_total", _) => figures.overruns = value as u64,
                        (_, Some("0.5")) => figures.p50_us = (value * 1e6).round() as u64,
                        (_, Some("0.99")) => figures.p99_us = (value * 1e6).round() as u64,
                        _ => {}
                    }
                }
                Some(_) => {}
            }
        }
        out.tick_cumulative.sort_unstable();
        out
    }

    /// A counter (0 when the server does not report it).
    pub fn counter(&self, name: &str) -> u64 {
        self.values.get(name).map_or(0, |v| *v as u64)
    }

    /// How much a counter grew since `earlier`.
    pub fn delta(&self, earlier: &Scrape, name: &str) -> u64 {
        self.counter(name).saturating_sub(earlier.counter(name))
    }

    /// The tick durations recorded since `earlier`, as (upper bound µs, count) per non-empty bucket.
    pub fn tick_window(&self, earlier: &Scrape) -> Vec<(u64, u64)> {
        stats::window(&earlier.tick_cumulative, &self.tick_cumulative)
    }
}

impl Source {
    /// Reads the metrics now.
    pub async fn scrape(&self) -> anyhow::Result<Scrape> {
        match self {
            Self::InProcess(metrics) => Ok(Scrape::parse(&metrics.render_prometheus())),
            Self::Http(addr) => {
                let text = tokio::time::timeout(SCRAPE_TIMEOUT, http_get(*addr, "/metrics"))
                    .await
                    .with_context(|| format!("no answer from http://{addr}/metrics within {SCRAPE_TIMEOUT:?}"))??;
                Ok(Scrape::parse(&text))
            }
        }
    }
}

/// A minimal HTTP/1.1 GET (the server's metrics endpoint answers one request per connection).
async fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot reach the metrics endpoint {addr}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut page = Vec::new();
    stream.take(MAX_PAGE).read_to_end(&mut page).await?;
    let page = String::from_utf8_lossy(&page);
    let Some((head, body)) = page.split_once("\r\n\r\n") else {
        bail!("malformed HTTP answer from {addr}");
    };
    if !head.starts_with("HTTP/1.1 200") {
        bail!(
            "http://{addr}{path} answered {}",
            head.lines().next().unwrap_or_default()
        );
    }
    Ok(body.to_owned())
}
