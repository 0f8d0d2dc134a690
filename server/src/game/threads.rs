//! The only module that starts threads or waits for them: the [`Pool`] that snapshots and flights are
//! worked out on, and [`wait_for`], the one way a thread waits for another's hand-over.
//!
//! The driver (the tick loop, a test, a benchmark) owns the pool and lends it to each `Sim::tick`, so the
//! simulations of one process share its threads. Spawning threads every tick cost more than the work they
//! took, and waking a sleeping pool thread costs nearly as much on a virtual machine: so a phase that will
//! hand work out wakes the threads first ([`Workers::stay_awake`]) and they wait for it spinning while the
//! tick thread prepares it, and a thread waiting for a hand-over spins a little before it gives up or
//! yields its core ([`wait_for`]).

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Longest the pool's threads stay awake spinning for work ([`Workers::stay_awake`]): a safety bound, several
/// times the simulation's phases in the biggest worlds; the tick ends a wake-up as soon as its work for the
/// pool is over.
pub const WAKE_AT_MOST: Duration = Duration::from_millis(2);

/// Longest a thread spins for another's hand-over ([`wait_for`]). Short: when the cores are oversubscribed
/// (a loaded server beside its network threads), the thread it waits for may need this very core, or was
/// preempted: longer spins made the oversubscribed load test overrun its ticks, while this one leaves the
/// benchmarks no slower.
pub const SPIN_AT_MOST: Duration = Duration::from_micros(50);

/// What a wait does once it has spun for [`SPIN_AT_MOST`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Stops waiting: the caller has something else to do (sleep on a latch, do the work itself).
    GiveUp,
    /// Keeps looking, yielding the core between looks: the other side may be waiting for this very core.
    Yield,
}

/// The one way a thread waits for another here: looks with `ready` until it gives a value, spinning for at
/// most [`SPIN_AT_MOST`] (the other side is due within microseconds, and a thread put to sleep costs a
/// virtual machine's wake-up), then as `then` says. `None` only when it gave up.
pub fn wait_for<T>(then: Then, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(value) = ready() {
            return Some(value);
        }
        if start.elapsed() < SPIN_AT_MOST {
            std::hint::spin_loop();
        } else if then == Then::GiveUp {
            return None;
        } else {
            std::thread::yield_now();
        }
    }
}

/// A value one thread gives another that waits for it ([`Handover::wait`]), both within one scope.
pub struct Handover<T> {
    ready: OnceLock<T>,
    /// Set when the giver gave up without giving (it panicked, and the scope re-raises that).
    abandoned: AtomicBool,
}

impl<T> Default for Handover<T> {
    fn default() -> Self {
        Self {
            ready: OnceLock::new(),
            abandoned: AtomicBool::new(false),
        }
    }
}

impl<T> Handover<T> {
    /// The giver's side: dropped without [`Giver::give`], it marks the hand-over abandoned.
    pub fn giver(&self) -> Giver<'_, T> {
        Giver(self)
    }

    /// Waits for the value ([`wait_for`], yielding the core after the spin, as the giver may be waiting for
    /// one); none when abandoned.
    pub fn wait(&self) -> Option<&T> {
        wait_for(Then::Yield, || match self.ready.get() {
            Some(value) => Some(Some(value)),
            None => self.abandoned.load(Ordering::Acquire).then_some(None),
        })
        .flatten()
    }
}

/// The giving side of a [`Handover`].
pub struct Giver<'h, T>(&'h Handover<T>);

impl<T> Giver<'_, T> {
    pub fn give(self, value: T) {
        let _ = self.0.ready.set(value);
    }
}

impl<T> Drop for Giver<'_, T> {
    fn drop(&mut self) {
        if self.0.ready.get().is_none() {
            self.0.abandoned.store(true, Ordering::Release);
        }
    }
}

/// The driver's threads: owned by whatever drives the simulations (the tick loop, a test, a benchmark),
/// created once, and lent to each `Sim::tick`, so that the simulations of one process share them.
pub struct Pool(Arc<Workers>);

impl Pool {
    /// `threads` threads in all, the calling thread included (`threads - 1` are started here). When they
    /// cannot be started, everything runs on the calling thread (logged once).
    pub fn new(threads: usize) -> Self {
        Self(Arc::new(Workers::new(threads)))
    }

    /// The workers, held by a tick while it runs.
    pub(crate) fn lend(&self) -> Arc<Workers> {
        Arc::clone(&self.0)
    }
}

impl Deref for Pool {
    type Target = Workers;

    fn deref(&self) -> &Workers {
        &self.0
    }
}

/// A pool of `threads - 1` threads; the calling thread is the last one and takes its share of the work.
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
    fn lasts(&self, for_at_least: Duration) -> bool {
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
    /// A pool for `threads` threads in all (the calling thread included), or the calling thread alone when
    /// the pool cannot be started (logged once).
    pub(crate) fn new(threads: usize) -> Self {
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
            .thread_name(|i| format!("arena-pool-{i}"))
            .build()
        {
            Ok(pool) => Self {
                pool: Some(pool),
                threads,
                released,
            },
            Err(e) => {
                tracing::warn!(
                    "cannot start {} pool threads ({e}): the tick thread does all the work",
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
    /// until the guard is dropped or [`WAKE_AT_MOST`] has passed: so work handed out soon starts at once
    /// instead of waiting for a thread to wake. Costs the pool's cores for that time.
    pub fn stay_awake(&self) -> Awake {
        let until = Instant::now() + WAKE_AT_MOST;
        let Some(pool) = &self.pool else {
            return Awake { released: None, until };
        };
        let seen = self.released.load(Ordering::Acquire);
        for _ in 1..self.threads {
            let released = Arc::clone(&self.released);
            pool.spawn(move || {
                let start = Instant::now();
                while released.load(Ordering::Acquire) == seen && start.elapsed() < WAKE_AT_MOST {
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

    /// The wake-up for a phase about to hand work out: `held` (started by an earlier phase) while it lasts
    /// half of [`WAKE_AT_MOST`] more, else a new one when `wanted`, else none (a `held` one not kept is
    /// dropped first, which lets the threads go).
    pub fn renew(&self, held: Option<Awake>, wanted: bool) -> Option<Awake> {
        held.filter(|awake| awake.lasts(WAKE_AT_MOST / 2))
            .or_else(|| wanted.then(|| self.stay_awake()))
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
            wait_for_jobs(outstanding);
        });
    }

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
            wait_for_jobs(&outstanding);
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

/// Waits for a scope's jobs on the pool (`outstanding` down to zero), and a little longer: the scope counts
/// a job done just after the job's last step, and a scope that ends before that sleeps on a lock until
/// woken, which costs a virtual machine's wake-up per hand-over, several times a tick. Given up after the
/// spin, the scope's end sleeps on its latch (yielding the core between looks instead made the
/// oversubscribed load test's ticks slower).
fn wait_for_jobs(outstanding: &AtomicUsize) {
    wait_for(Then::GiveUp, || {
        (outstanding.load(Ordering::Acquire) == 0).then_some(())
    });
    for _ in 0..64 {
        std::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_done_once_whatever_the_threads() {
        for threads in [1, 2, 3] {
            let workers = Pool::new(threads);
            let mut items: Vec<u32> = (0..10).collect();
            workers.for_each(&mut items, |x| *x += 100);
            assert_eq!(items, (100..110).collect::<Vec<_>>());
            workers.for_each(&mut [] as &mut [u32], |_| unreachable!());
            workers.for_each_run(&mut items, |run| run.iter_mut().for_each(|x| *x -= 100));
            assert_eq!(items, (0..10).collect::<Vec<_>>());
            // Awake threads run the work handed out, and the guard lets them go.
            let awake = workers.stay_awake();
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

    #[test]
    fn a_handover_gives_its_value_or_says_it_was_abandoned() {
        let pool = Pool::new(2);
        let given = Handover::default();
        let (got, ()) = pool.join_when(true, || given.wait().copied(), || given.giver().give(7));
        assert_eq!(got, Some(7));
        let abandoned = Handover::<u32>::default();
        drop(abandoned.giver());
        assert_eq!(abandoned.wait(), None);
        // A wait that gives up comes back once the spin is over.
        let start = Instant::now();
        assert_eq!(wait_for(Then::GiveUp, || None::<()>), None);
        assert!(start.elapsed() >= SPIN_AT_MOST);
    }
}
