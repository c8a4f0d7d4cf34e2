//! Retrying a job after a transient failure, the same way in every job: a fixed schedule of
//! delays, the job rescheduled with its attempt counted, and one log line for each decision.
//! Each job keeps its own schedule (why that schedule is its own business: Kustom's 30 s server
//! timeout for the Checkout API, Kustom's documented 5 s / 5 min / 5 h for Order Management).

use crate::host::Effect;
use crate::instant::Instant;
use serde::Serialize;

/// A job's retry schedule: the delay before retry 1, 2, … in seconds.
#[derive(Clone, Copy, Debug)]
pub struct Schedule(pub &'static [i64]);

/// What to do after a transient failure.
#[derive(Debug, PartialEq)]
pub enum Decision {
    /// Run again at `at`, with `attempt` as the parameters' new attempt count.
    Retry {
        attempt: u32,
        at: Instant,
        log: String,
    },
    /// The schedule is used up after `attempts` runs: stop, and tell a human.
    GiveUp { attempts: u32, log: String },
}

impl Schedule {
    /// `attempt` is how many retries already ran (0 on the first run).
    pub fn after_failure(&self, attempt: u32, now: &Instant, reason: &str) -> Decision {
        match self.0.get(attempt as usize) {
            Some(&delay) => {
                let next = attempt.saturating_add(1);
                Decision::Retry {
                    attempt: next,
                    at: now.plus_seconds(delay),
                    log: format!("transient failure ({reason}); retry {next} in {delay} s"),
                }
            }
            None => Decision::GiveUp {
                attempts: attempt.saturating_add(1),
                log: format!("still failing after {attempt} retries ({reason}); giving up"),
            },
        }
    }
}

/// A job's parameters that count its retries.
pub trait Attempts: Serialize + Clone {
    fn attempt(&self) -> u32;
    fn set_attempt(&mut self, attempt: u32);
}

impl Schedule {
    /// After a transient failure of the job `definition`: its retry, scheduled with the attempt
    /// counted; or, when the schedule is used up, what `give_up` makes of the reason (a logged,
    /// definite outcome). One place for the decision every Order Management job makes alike.
    pub fn retry_or_give_up<P: Attempts>(
        &self,
        definition: &str,
        parameters: &P,
        now: &Instant,
        reason: &str,
        mut log: Vec<String>,
        give_up: impl FnOnce(String, Vec<String>) -> crate::host::Output,
    ) -> crate::host::Output {
        match self.after_failure(parameters.attempt(), now, reason) {
            Decision::Retry {
                attempt,
                at,
                log: line,
            } => {
                log.push(line);
                let mut next = parameters.clone();
                next.set_attempt(attempt);
                crate::host::Output::done(vec![schedule_job(definition, &next, &at)], log)
            }
            Decision::GiveUp { .. } => {
                let why = format!(
                    "still failing after {} retries: {reason}",
                    parameters.attempt()
                );
                give_up(why, log)
            }
        }
    }
}

/// `scheduleJob` of `definition` with `parameters` at `at`.
pub fn schedule_job(definition: &str, parameters: &impl Serialize, at: &Instant) -> Effect {
    Effect::ScheduleJob {
        definition: definition.into(),
        parameters: serde_json::to_value(parameters).unwrap_or_default().into(),
        at: at.to_iso(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_then_give_up() {
        let now = Instant::parse("2026-11-29T12:00:00Z").unwrap();
        let schedule = Schedule(&[5, 300]);
        let Decision::Retry { attempt, at, .. } = schedule.after_failure(0, &now, "503") else {
            panic!("first failure retries")
        };
        assert_eq!((attempt, at.to_iso()), (1, "2026-11-29T12:00:05Z".into()));
        let Decision::Retry { attempt, at, .. } = schedule.after_failure(1, &now, "503") else {
            panic!("second failure retries")
        };
        assert_eq!((attempt, at.to_iso()), (2, "2026-11-29T12:05:00Z".into()));
        assert!(matches!(
            schedule.after_failure(2, &now, "503"),
            Decision::GiveUp { attempts: 3, .. }
        ));
        // A hostile attempt count gives up; it never wraps or traps.
        assert!(matches!(
            schedule.after_failure(u32::MAX, &now, "503"),
            Decision::GiveUp {
                attempts: u32::MAX,
                ..
            }
        ));
    }
}
