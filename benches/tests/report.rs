//! The report's arithmetic: percentiles, histogram windows between two scrapes, rates, `/proc` parsing,
//! the latency series and the plots' well-formedness.

use arena_benches::procstat::{
    CpuSample, Pid, cpu_pct, parse_stat_ticks, parse_status_rss_mb, threads_cpu, threads_named,
};
use arena_benches::prom::Scrape;
use arena_benches::report::{LatencyPoint, Report, Series, latency_series};
use arena_benches::stats::{Quantiles, bucket_quantile, per_client_per_s, percentile, rate, window};
use arena_benches::{plot, sweep, target};
use arena_server::metrics::Metrics;
use std::time::{Duration, Instant};

#[test]
fn nearest_rank_percentiles() {
    let sorted: Vec<u64> = (1..=100).collect();
    assert_eq!(percentile(&sorted, 0.50), 50);
    assert_eq!(percentile(&sorted, 0.99), 99);
    assert_eq!(percentile(&sorted, 1.0), 100);
    assert_eq!(percentile(&sorted, 0.0), 1);
    assert_eq!(percentile(&[7], 0.99), 7);
    assert_eq!(percentile(&[], 0.5), 0);
    let mut ten = vec![10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    let q = Quantiles::of(&mut ten);
    assert_eq!((q.p50, q.p99, q.max, q.samples), (5, 10, 10, 10));
}

#[test]
fn bucket_quantiles_take_the_upper_bound_of_the_ranked_bucket() {
    let buckets = [(10, 50), (20, 49), (1_000, 1)];
    assert_eq!(bucket_quantile(&buckets, 0.5), 10);
    assert_eq!(bucket_quantile(&buckets, 0.99), 20);
    assert_eq!(bucket_quantile(&buckets, 1.0), 1_000);
    assert_eq!(bucket_quantile(&[], 0.5), 0);
    let q = Quantiles::of_buckets(&buckets);
    assert_eq!((q.p50, q.p99, q.max, q.samples), (10, 20, 1_000, 100));
}

#[test]
fn a_window_between_two_scrapes_is_exactly_what_was_recorded_in_it() {
    let metrics = Metrics::default();
    let period = Duration::from_millis(16);
    for us in [5_000, 7, 7, 900, 40_000] {
        metrics.record_tick(Duration::from_micros(us), period);
    }
    let before = Scrape::parse(&metrics.render_prometheus());
    let mut recorded: Vec<u64> = (1..=200).map(|i| (i * 37) % 1_000 + 1).collect();
    for us in &recorded {
        metrics.record_tick(Duration::from_micros(*us), period);
    }
    let after = Scrape::parse(&metrics.render_prometheus());
    assert_eq!(after.delta(&before, "arena_ticks_total"), 200);
    assert_eq!(after.delta(&before, "arena_tick_overruns_total"), 0);
    let buckets = after.tick_window(&before);
    assert_eq!(buckets.iter().map(|b| b.1).sum::<u64>(), 200);
    // Below 1,024 µs the server's buckets are one microsecond wide: the window's quantiles are exact.
    let exact = Quantiles::of(&mut recorded);
    assert_eq!(Quantiles::of_buckets(&buckets), exact);
}

#[test]
fn window_handles_buckets_that_appear_between_scrapes() {
    let start = [(10, 2), (50, 3)];
    let end = [(5, 1), (10, 4), (30, 6), (50, 7), (90, 8)];
    assert_eq!(window(&start, &end), vec![(5, 1), (10, 1), (30, 2), (90, 1)]);
    assert_eq!(window(&[], &end)[0], (5, 1));
}

#[test]
fn rates_and_bandwidth_per_client() {
    assert_eq!(rate(600, 10.0), 60.0);
    assert_eq!(rate(5, 0.0), 0.0);
    assert_eq!(per_client_per_s(1_000_000, 10, 5.0), 20_000.0);
    assert_eq!(per_client_per_s(1_000, 0, 5.0), 0.0);
}

#[test]
fn proc_files_parse() {
    let stat = "1234 (arena server) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 3 0 100 0 0";
    assert_eq!(parse_stat_ticks(stat).ok(), Some(300));
    assert!(parse_stat_ticks("garbage").is_err());
    let status = "Name:\tarena-server\nVmRSS:\t   20480 kB\nThreads:\t3\n";
    assert_eq!(parse_status_rss_mb(status).ok(), Some(20.0));
    let t0 = Instant::now();
    let start = CpuSample { ticks: 100, at: t0 };
    let end = CpuSample {
        ticks: 250,
        at: t0 + Duration::from_secs(2),
    };
    assert!((cpu_pct(start, end, 100) - 75.0).abs() < 1e-9);
}

#[test]
fn threads_are_found_by_their_names_prefix_and_their_cpu_read_together() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (ready_tx, ready) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("probe-thread".into())
        .spawn(move || {
            // The name is set before this closure runs.
            let _ = ready_tx.send(());
            rx.recv()
        })
        .expect("spawn");
    ready.recv().expect("the thread started");
    let tids = threads_named(Pid::This, "probe-thr");
    assert_eq!(tids.len(), 1, "the thread is listed by its name's start");
    assert!(threads_cpu(Pid::This, &tids).is_ok());
    assert_eq!(threads_named(Pid::This, "no-such-thread"), Vec::<u32>::new());
    assert!(threads_cpu(Pid::This, &[]).is_err(), "no threads, no reading");
    drop(tx);
    let _ = thread.join();
}

#[test]
fn the_server_banner_parses() {
    let (addr, hash, metrics) = target::parse_banner(
        "listening on 127.0.0.1:4433 cert-sha256 abcd",
        "metrics on 127.0.0.1:9000",
    )
    .expect("banner");
    assert_eq!(addr.port(), 4433);
    assert_eq!(hash, "abcd");
    assert_eq!(metrics.port(), 9000);
    assert!(target::parse_banner("hello", "metrics on 127.0.0.1:1").is_err());
}

#[test]
fn latency_is_sliced_over_time() {
    let samples = [(10, 100), (20, 300), (150, 1_000), (160, 2_000), (170, 3_000)];
    let series = latency_series(&samples, 100);
    assert_eq!(series.len(), 2);
    assert_eq!(
        series[1],
        LatencyPoint {
            t_s: 0.15,
            p50_us: 2_000,
            p99_us: 3_000
        }
    );
}

#[test]
fn sweep_steps_parse_and_plots_are_svg() {
    assert_eq!(sweep::parse_steps("50, 100,200").ok(), Some(vec![50, 100, 200]));
    assert!(sweep::parse_steps("50,x").is_err());
    assert!(sweep::parse_steps("0").is_err());
    let report = Report {
        bots: 50,
        tick_rate: 60,
        duration_s: 1.0,
        tick_us: Some(Quantiles::of_buckets(&[(100, 10), (200, 5)])),
        ..Report::default()
    };
    let series = Series {
        tick_buckets: vec![(100, 10), (200, 5)],
        latency: latency_series(&[(10, 9_000), (600, 12_000)], 500),
    };
    let svg = plot::run_svg(&report, &series);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("<polyline") && svg.contains("<rect"));
    let rows = [report.clone(), Report { bots: 100, ..report }];
    let svg = plot::sweep_svg(&rows);
    assert!(svg.contains("Tick work p99") && svg.contains("Bandwidth per client"));
    assert!(sweep::table(&rows).lines().count() == 4);
    assert_eq!(plot::nice_step(1_000.0, 5.0), 200.0);
}
