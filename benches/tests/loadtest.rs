//! A short load test against a server in this process: a few bots for a few seconds over loopback QUIC,
//! then the JSON report must be complete and sane.

use arena_benches::loadtest::{Options, run};
use arena_benches::target::Target;
use serde_json::Value;
use std::time::Duration;

const TICK_RATE: u16 = 30;

fn number(report: &Value, path: &str) -> f64 {
    let mut v = report;
    for key in path.split('.') {
        v = v.get(key).unwrap_or_else(|| panic!("{path} missing in {report:#}"));
    }
    v.as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number in {report:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_reports_every_figure() {
    let options = Options {
        target: Target::InProcess,
        bots: 4,
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(2),
        tick_rate: TICK_RATE,
        floor_samples: 300,
        progress: false,
        ..Options::default()
    };
    let run = tokio::time::timeout(Duration::from_secs(30), run(&options))
        .await
        .expect("the run took over 30 s")
        .expect("the run failed");
    let report = serde_json::to_value(&run.report).expect("the report serializes");
    for field in [
        "bots",
        "duration_s",
        "tick_rate",
        "ticks",
        "tick_overruns",
        "tick_us.p50",
        "tick_us.p99",
        "tick_us.max",
        "input_to_snapshot_us.p50",
        "input_to_snapshot_us.p99",
        "floor_rtt_us.p50",
        "floor_rtt_us.p99",
        "snapshot_rate_hz",
        "down_bytes_per_client_per_s",
        "up_bytes_per_client_per_s",
        "entities_per_snapshot",
        "server_cpu_pct",
        "server_rss_mb",
        "tick_thread_cpu_pct",
        "loadgen_cpu_pct",
        "disconnects",
        "errors",
    ] {
        number(&report, field);
    }
    let summary = run.report.summary();
    eprintln!("{summary}");
    assert_eq!(number(&report, "errors"), 0.0, "{summary}");
    assert_eq!(number(&report, "disconnects"), 0.0, "{summary}");
    assert_eq!(number(&report, "bots"), 4.0);
    assert_eq!(number(&report, "tick_rate"), f64::from(TICK_RATE));
    let rate = number(&report, "snapshot_rate_hz") / f64::from(TICK_RATE);
    assert!(
        (0.8..=1.05).contains(&rate),
        "snapshot rate {rate} of the tick rate\n{summary}"
    );
    let ticks = number(&report, "ticks") / (number(&report, "duration_s") * f64::from(TICK_RATE));
    assert!(
        (0.8..=1.05).contains(&ticks),
        "{ticks} of the expected ticks\n{summary}"
    );
    assert!(number(&report, "floor_rtt_us.p50") > 0.0, "{summary}");
    assert!(number(&report, "floor_rtt_us.p99") >= number(&report, "floor_rtt_us.p50"));
    let latency = number(&report, "input_to_snapshot_us.p50");
    assert!(latency > number(&report, "floor_rtt_us.p50"), "{summary}");
    assert!(latency < 1e6, "{summary}");
    assert!(number(&report, "tick_us.max") >= number(&report, "tick_us.p99"));
    assert!(number(&report, "tick_us.p99") >= number(&report, "tick_us.p50"));
    // Four players, and each snapshot lists all of them (plus projectiles).
    assert!(number(&report, "entities_per_snapshot") >= 4.0, "{summary}");
    assert!(number(&report, "down_bytes_per_client_per_s") > 0.0 && number(&report, "up_bytes_per_client_per_s") > 0.0);
    assert!(number(&report, "server_rss_mb") > 0.0);
    assert!(!run.series.latency.is_empty() && !run.series.tick_buckets.is_empty());
    // After it, not beside it: in-process servers share this process, and their threads' CPU with it.
    bots_spread_over_rooms_report_each_rooms_ticks().await;
}

/// Four bots in two rooms, placed by the load tool (one creates, one joins by code) and then by the server.
async fn bots_spread_over_rooms_report_each_rooms_ticks() {
    for quick_join in [false, true] {
        let options = Options {
            target: Target::InProcess,
            bots: 4,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(1),
            tick_rate: TICK_RATE,
            floor_samples: 50,
            progress: false,
            rooms: 2,
            quick_join,
            ..Options::default()
        };
        let run = tokio::time::timeout(Duration::from_secs(30), run(&options))
            .await
            .expect("the run took over 30 s")
            .expect("the run failed");
        let summary = run.report.summary();
        assert_eq!(run.report.rooms, 2, "quick join {quick_join}: {summary}");
        assert_eq!(run.report.room_ticks.len(), 2, "{summary}");
        assert!(
            run.report
                .room_ticks
                .values()
                .all(|r| r.p50_us > 0 && r.p99_us >= r.p50_us),
            "{summary}"
        );
        let report = serde_json::to_value(&run.report).expect("the report serializes");
        // Both rooms tick: the server's tick count is theirs together.
        let ticks = number(&report, "ticks") / (number(&report, "duration_s") * f64::from(TICK_RATE));
        assert!((1.6..=2.1).contains(&ticks), "{ticks} rooms' worth of ticks\n{summary}");
        assert!(summary.contains("rooms 2: tick p50/p99"), "{summary}");
        assert!(
            !run.report.each_tick_thread_cpu_pct.is_empty(),
            "each tick thread's CPU: {summary}"
        );
    }
}
