//! Around each request: the request budget, `--rate` pacing, and waiting out 429/503 with
//! `Retry-After`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::{stop_message, Stop, Worker};
use crate::run::target::{Answer, Failure, Request};

/// Waits for one request on 429/503 with `Retry-After` before the service counts as throttled.
pub const MAX_WAITS_PER_REQUEST: u32 = 5;
/// The longest single wait honoured (a longer `Retry-After` is cut to this).
pub const MAX_WAIT_MS: u64 = 30_000;
/// All waits of a run together, before the service counts as throttled.
pub const MAX_TOTAL_WAIT_MS: u64 = 120_000;

/// What a throttled answer led to.
enum Throttle {
    /// Not throttled (or no `Retry-After`): the answer stands.
    None,
    /// Waited out: send again.
    Waited,
    /// Past the waits allowed: the service counts as throttled, for this reason.
    PastLimits(String),
    Interrupted,
}

/// Seconds of a `Retry-After` header (an HTTP date counts as one second), in ms, capped.
fn retry_after_ms(value: &str) -> u64 {
    value.trim().parse::<u64>().map_or(1000, |s| s.saturating_mul(1000)).min(MAX_WAIT_MS)
}

impl Worker<'_> {
    /// Stops this worker's pass for `stop`, and the whole run (every worker, every route
    /// after this one) when the stop is one that ends runs.
    fn stop_with(&mut self, stop: Stop) {
        if stop.halts_run() {
            self.shared.halt(stop.clone());
        }
        self.stop.get_or_insert(stop);
    }

    /// Sends a request unless the run is stopping; counts it against the budget (shared by
    /// every worker of the run).
    pub(super) fn send(&mut self, req: &Request, restoring: bool) -> Result<Answer, Failure> {
        let mut counted = false;
        if !restoring {
            if self.options.interrupt.load(Ordering::SeqCst) {
                self.stop_with(Stop::Interrupted);
            }
            if let Some(h) = self.shared.halted() {
                self.stop.get_or_insert(h);
            }
            if self.stop.is_none() {
                if let Some(max) = self.options.max_requests {
                    if !self.shared.take_request(max) {
                        self.stop_with(Stop::Budget(max));
                    }
                    counted = true;
                }
            }
            if let Some(stop) = &self.stop {
                return Err(Failure::NotSent(stop_message(stop)));
            }
        }
        let mut waits = 0;
        loop {
            self.pace();
            if !std::mem::take(&mut counted) {
                self.shared.requests.fetch_add(1, Ordering::SeqCst);
            }
            let result = self.target.send(req);
            if let Err(f @ (Failure::Timeout(_) | Failure::Unreachable(_))) = &result {
                self.stop.get_or_insert(Stop::Target(f.to_string()));
            }
            let Ok(answer) = &result else { return result };
            let interrupt = (!restoring).then_some(&*self.options.interrupt);
            match self.shared.wait_out(answer, &mut waits, !restoring, interrupt) {
                Throttle::None => return result,
                Throttle::Waited => {}
                Throttle::PastLimits(why) => {
                    self.stop_with(Stop::Throttled(why.clone()));
                    return Err(Failure::NotSent(why));
                }
                Throttle::Interrupted => {
                    self.stop_with(Stop::Interrupted);
                    return Err(Failure::NotSent(stop_message(&Stop::Interrupted)));
                }
            }
        }
    }

    /// Keeps to `--rate` (over every worker of the run): takes the next request's slot and
    /// waits for it.
    pub(super) fn pace(&mut self) {
        self.shared.pace(self.options.rate);
    }
}

impl super::Shared {
    /// Counts one request against the budget `max`, before it is sent (workers running at
    /// once never overspend); `false` when the budget is spent.
    pub(super) fn take_request(&self, max: u64) -> bool {
        self.requests.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < max).then_some(n + 1)).is_ok()
    }

    /// Keeps to `rate` requests a second over every sender of the run: takes the next
    /// request's slot and waits for it.
    pub(super) fn pace(&self, rate: Option<f64>) {
        let Some(rate) = rate.filter(|r| *r > 0.0) else { return };
        let now = Instant::now();
        let slot = {
            let mut next = self.next_slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let slot = next.unwrap_or(now).max(now);
            *next = Some(slot + std::time::Duration::from_secs_f64(1.0 / rate));
            slot
        };
        if slot > now {
            std::thread::sleep(slot - now);
        }
    }

    /// Sends one request outside the routes (the `metadata` phase): paced, counted, and
    /// within the request budget (`Err` names the budget when it is spent). A 429 or 503 with
    /// `Retry-After` is waited out and sent again, within the same limits as a route's request
    /// and counted in the run's waits; past them (or on an interrupt) the last answer is
    /// returned as it is.
    pub(super) fn send_outside(
        &self,
        options: &super::Options,
        send: impl Fn() -> Result<crate::run::target::Answer, Failure>,
    ) -> Result<crate::run::target::Answer, Failure> {
        let mut waits = 0;
        loop {
            if let Some(max) = options.max_requests {
                if !self.take_request(max) {
                    return Err(Failure::NotSent(format!("the request budget of {max} is spent")));
                }
            } else {
                self.requests.fetch_add(1, Ordering::SeqCst);
            }
            self.pace(options.rate);
            let answer = send()?;
            if !matches!(self.wait_out(&answer, &mut waits, true, Some(&options.interrupt)), Throttle::Waited) {
                return Ok(answer);
            }
        }
    }

    /// For a 429 or 503 with `Retry-After`: waits it out (interruptibly) within the limits, the
    /// `waits` of this request so far and, `within_run`, the run's total; counts the wait.
    fn wait_out(&self, answer: &Answer, waits: &mut u32, within_run: bool, interrupt: Option<&AtomicBool>) -> Throttle {
        let Some(retry_after) = answer.retry_after.as_deref().filter(|_| matches!(answer.status, 429 | 503)) else {
            return Throttle::None;
        };
        let wait = retry_after_ms(retry_after);
        let waited_ms = self.waited_ms.load(Ordering::SeqCst);
        if *waits >= MAX_WAITS_PER_REQUEST || (within_run && waited_ms + wait > MAX_TOTAL_WAIT_MS) {
            return Throttle::PastLimits(format!(
                "the service answered {} with Retry-After {} times in a row ({} waits, {} ms in all, this run)",
                answer.status,
                *waits,
                self.waits.load(Ordering::SeqCst),
                waited_ms
            ));
        }
        *waits += 1;
        self.waits.fetch_add(1, Ordering::SeqCst);
        self.waited_ms.fetch_add(wait, Ordering::SeqCst);
        let until = Instant::now() + std::time::Duration::from_millis(wait);
        while Instant::now() < until {
            if interrupt.is_some_and(|i| i.load(Ordering::SeqCst)) {
                return Throttle::Interrupted;
            }
            std::thread::sleep(std::time::Duration::from_millis(20).min(until - Instant::now()));
        }
        Throttle::Waited
    }
}
