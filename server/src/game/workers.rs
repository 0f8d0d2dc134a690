//! The threads snapshots are built on, started once with the simulation: spawning threads every tick cost
//! more than the work they took. Waking a sleeping pool thread costs nearly as much on a virtual machine, so
//! a phase that will hand work out wakes the threads first ([`Workers::stay_awake`]) and they wait for it
//! spinning, while the tick thread prepares it.

use bevy_ecs::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A pool of `threads - 1` threads; the calling thread is the last one and takes its share of the work.
#[derive(Resource)]
pub struct Workers {
    pool: Option<rayon::ThreadPool>,
    threads: usize,
    /// Counts [`Awake`] guards dropped: the threads spin until it moves on.
    released: Arc<AtomicU64>,
}

/// Keeps the pool's threads awake until dropped (see [`Workers::stay_awake`]).
pub struct Awake {
    released: Option<Arc<AtomicU64>>,
    /// When the threads stop spinning by themselves.
    until: Instant,
}

impl Awake {
    /// Whether the threads are still kept spinning `for_at_least` from now.
    pub fn lasts(&self, for_at_least: Duration) -> bool {
        Instant::now() + for_at_least <= self.until
    }
}

impl Drop for Awake {
    fn drop(&mut self) {
        if let Some(released) = &self.released {
            released.fetch_add(1, Ordering::Release);
        }
    }
}

impl Workers {
    /// A pool for `threads` threads in all (the calling thread included). When the pool cannot be started,
    /// everything runs on the calling thread (logged once).
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        let released = Arc::new(AtomicU64::new(0));
        if threads == 1 {
            return Self {
                pool: None,
                threads,
                released,
            };
        }
        match rayon::ThreadPoolBuilder::new()
            .num_threads(threads - 1)
            .thread_name(|i| format!("arena-snapshot-{i}"))
            .build()
        {
            Ok(pool) => Self {
                pool: Some(pool),
                threads,
                released,
            },
            Err(e) => {
                tracing::warn!(
                    "cannot start {} snapshot threads ({e}): building snapshots on the tick thread",
                    threads - 1
                );
                Self {
                    pool: None,
                    threads: 1,
                    released,
                }
            }
        }
    }

    /// Wakes every pool thread now and keeps it spinning, running whatever work is handed out meanwhile,
    /// until the guard is dropped or `at_most` has passed: so work handed out soon starts at once instead
    /// of waiting for a thread to wake. Costs the pool's cores for that time.
    pub fn stay_awake(&self, at_most: Duration) -> Awake {
        let until = Instant::now() + at_most;
        let Some(pool) = &self.pool else {
            return Awake { released: None, until };
        };
        let seen = self.released.load(Ordering::Acquire);
        for _ in 1..self.threads {
            let released = Arc::clone(&self.released);
            pool.spawn(move || {
                let start = Instant::now();
                while released.load(Ordering::Acquire) == seen && start.elapsed() < at_most {
                    if rayon::yield_now() != Some(rayon::Yield::Executed) {
                        std::hint::spin_loop();
                    }
                }
            });
        }
        Awake {
            released: Some(Arc::clone(&self.released)),
            until,
        }
    }

    /// Runs `job` on a pool thread (at once on one kept awake); false, and `job` dropped, without a pool.
    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) -> bool {
        match &self.pool {
            Some(pool) => {
                pool.spawn(job);
                true
            }
            None => false,
        }
    }

    /// Threads in all, the calling thread included.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Calls `f` on every item, the first on the calling thread and the others on the pool, and returns when
    /// all are done.
    pub fn for_each<T: Send>(&self, items: &mut [T], f: impl Fn(&mut T) + Sync) {
        let Some(pool) = &self.pool else {
            items.iter_mut().for_each(f);
            return;
        };
        let f = &f;
        let Some((first, rest)) = items.split_first_mut() else {
            return;
        };
        let outstanding = AtomicUsize::new(rest.len());
        let outstanding = &outstanding;
        pool.in_place_scope(|scope| {
            for item in rest {
                scope.spawn(move |_| {
                    f(item);
                    outstanding.fetch_sub(1, Ordering::Release);
                });
            }
            f(first);
            wait_spinning(outstanding);
        });
    }
}

/// A wake-up of the pool's threads that lasts from one phase of a tick to another: the simulation wakes them
/// at the start of a tick whose projectiles will be flown on both cores (so they are spinning by then), and
/// the snapshot phase ends the wake-up (the tick's last phase drops it, if still held).
#[derive(Resource, Default)]
pub struct KeepAwake(pub Option<Awake>);

/// Longest the calling thread spins for the pool's jobs before it sleeps on the scope's latch. Short:
/// when the cores are oversubscribed (a loaded server beside its network threads), the job it waits for may
/// need this very core: longer spins made the oversubscribed load test overrun its ticks, while this one
/// leaves the benchmarks no slower. (Yielding the core between looks after the spin, instead of sleeping,
/// made that load test's ticks slower.)
const SPIN_AT_MOST: Duration = Duration::from_micros(50);

/// Spins until the pool's jobs are done (`outstanding` is zero), and a little longer: the scope counts a job
/// done just after the job's last step, and a scope that ends before that sleeps on a lock until woken,
/// which costs a virtual machine's wake-up per hand-over, several times a tick.
fn wait_spinning(outstanding: &AtomicUsize) {
    let start = Instant::now();
    while outstanding.load(Ordering::Acquire) != 0 && start.elapsed() < SPIN_AT_MOST {
        std::hint::spin_loop();
    }
    for _ in 0..64 {
        std::hint::spin_loop();
    }
}

impl Workers {
    /// Runs `here` on the calling thread and `there` on the pool at the same time when `parallel` (both
    /// here, one after the other, otherwise or without a pool), and returns both results.
    pub fn join_when<A, B: Send>(
        &self,
        parallel: bool,
        here: impl FnOnce() -> A,
        there: impl FnOnce() -> B + Send,
    ) -> (A, B) {
        let Some(pool) = self.pool.as_ref().filter(|_| parallel) else {
            return (here(), there());
        };
        let mut b = None;
        let outstanding = AtomicUsize::new(1);
        let a = pool.in_place_scope(|scope| {
            scope.spawn(|_| {
                b = Some(there());
                outstanding.fetch_sub(1, Ordering::Release);
            });
            let a = here();
            wait_spinning(&outstanding);
            a
        });
        match b {
            Some(b) => (a, b),
            // A job that did not finish panicked, and the scope re-raised that panic above.
            None => unreachable!("the scope waits for its jobs"),
        }
    }

    /// Splits `items` into one run per thread and calls `f` on each run (see [`Workers::for_each`]).
    pub fn for_each_run<T: Send>(&self, items: &mut [T], f: impl Fn(&mut [T]) + Sync) {
        let per = items.len().div_ceil(self.threads).max(1);
        let mut runs: Vec<&mut [T]> = items.chunks_mut(per).collect();
        self.for_each(&mut runs, |run| f(run));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_done_once_whatever_the_threads() {
        for threads in [1, 2, 3] {
            let workers = Workers::new(threads);
            let mut items: Vec<u32> = (0..10).collect();
            workers.for_each(&mut items, |x| *x += 100);
            assert_eq!(items, (100..110).collect::<Vec<_>>());
            workers.for_each(&mut [] as &mut [u32], |_| unreachable!());
            workers.for_each_run(&mut items, |run| run.iter_mut().for_each(|x| *x -= 100));
            assert_eq!(items, (0..10).collect::<Vec<_>>());
            // Awake threads run the work handed out, and the guard lets them go.
            let awake = workers.stay_awake(Duration::from_secs(5));
            workers.for_each(&mut items, |x| *x += 1);
            workers.for_each(&mut items, |x| *x += 1);
            drop(awake);
            assert_eq!(items, (2..12).collect::<Vec<_>>());
            for parallel in [false, true] {
                let (a, b) = workers.join_when(parallel, || items.len(), || (0..10u32).sum::<u32>());
                assert_eq!((a, b), (10, 45));
            }
        }
    }
}
