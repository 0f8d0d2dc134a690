//! The client's congestion control: quinn's Cubic with a floor under its window.
//!
//! A client sends about 60 small input datagrams a second, whatever the network does: its rate is set by the
//! game, bounded by the server's rate limit, and tiny next to any link. Plain Cubic treats every loss as
//! congestion; on a lossy, long link (10% loss at 250 ms) its window sits at the minimum of two packets, the
//! inputs queue behind it and leave in bursts, and the link's jitter reorders a burst past the redundancy
//! window, so inputs are lost that redundancy would have covered. A window that never falls below
//! [`WINDOW_FLOOR`] lets the inputs leave as they are made; Cubic still governs anything above it.

use quinn::congestion::{Controller, ControllerFactory, ControllerMetrics, CubicConfig};
use quinn_proto::RttEstimator;
use std::any::Any;
use std::sync::Arc;
use std::time::Instant;

/// The smallest congestion window, in bytes: 16 full packets, a quarter second of inputs with their
/// redundancy, and far below what a game's own limits let through anyway.
pub const WINDOW_FLOOR: u64 = 16 * 1_200;

/// Builds a [`Floored`] Cubic for each connection.
#[derive(Debug, Default)]
pub struct FlooredCubic {
    cubic: Arc<CubicConfig>,
}

impl ControllerFactory for FlooredCubic {
    fn build(self: Arc<Self>, now: Instant, current_mtu: u16) -> Box<dyn Controller> {
        Box::new(Floored {
            inner: self.cubic.clone().build(now, current_mtu),
        })
    }
}

/// A controller whose window is its inner one's, or [`WINDOW_FLOOR`] when that is less.
pub struct Floored {
    inner: Box<dyn Controller>,
}

impl Controller for Floored {
    fn on_sent(&mut self, now: Instant, bytes: u64, last_packet_number: u64) {
        self.inner.on_sent(now, bytes, last_packet_number);
    }

    fn on_ack(&mut self, now: Instant, sent: Instant, bytes: u64, app_limited: bool, rtt: &RttEstimator) {
        self.inner.on_ack(now, sent, bytes, app_limited, rtt);
    }

    fn on_end_acks(&mut self, now: Instant, in_flight: u64, app_limited: bool, largest_acked: Option<u64>) {
        self.inner.on_end_acks(now, in_flight, app_limited, largest_acked);
    }

    fn on_congestion_event(&mut self, now: Instant, sent: Instant, persistent: bool, lost_bytes: u64) {
        self.inner.on_congestion_event(now, sent, persistent, lost_bytes);
    }

    fn on_mtu_update(&mut self, new_mtu: u16) {
        self.inner.on_mtu_update(new_mtu);
    }

    fn window(&self) -> u64 {
        self.inner.window().max(WINDOW_FLOOR)
    }

    fn metrics(&self) -> ControllerMetrics {
        let mut metrics = self.inner.metrics();
        metrics.congestion_window = self.window();
        metrics
    }

    fn clone_box(&self) -> Box<dyn Controller> {
        Box::new(Floored {
            inner: self.inner.clone_box(),
        })
    }

    fn initial_window(&self) -> u64 {
        self.inner.initial_window().max(WINDOW_FLOOR)
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_never_take_the_window_below_the_floor_and_cubic_rules_above_it() {
        let now = Instant::now();
        let mut c = Arc::new(FlooredCubic::default()).build(now, 1_200);
        let start = c.window();
        assert!(start >= WINDOW_FLOOR, "{start}");
        for i in 0..20u64 {
            let t = now + std::time::Duration::from_millis(100 * (i + 1));
            c.on_congestion_event(t, t, false, 1_200);
        }
        assert_eq!(c.window(), WINDOW_FLOOR, "twenty losses in a row");
        let plain = Arc::new(CubicConfig::default()).build(now, 1_200);
        assert!(
            plain.window() > WINDOW_FLOOR / 2,
            "Cubic's own start is near the floor, not far above"
        );
    }
}
