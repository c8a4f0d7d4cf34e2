//! Job `watchKustomOrder`: the watchdog that finds a paid Kustom order the platform never heard
//! of. Two paths complete a paid order — the customer's browser (`confirm`) and Kustom's push
//! (`webhook`, retried for 48 h). When both fail (a misconfigured public URL, an outage, a tab
//! closed before the redirect), the customer has paid and the shop has no order. The checkout
//! ingress schedules this job for every Kustom order it creates; the job looks at the order at
//! fixed times after its creation ([`CHECKS`]):
//!
//! - the cart is gone, completed, or its current Kustom order is another one (replaced) → stop,
//!   without asking Kustom anything (a normal checkout ends here: the cart is completed);
//! - otherwise it runs THE completion path ([`completion::complete_recording`], the one confirm
//!   and the push run, so it races them safely: one payment, one completed cart, acknowledged).
//!   It reads the order from Kustom; when paid, the cart is completed, and the completing
//!   message also marks the cart `kustomCompletedBy: watchdog` and adds an activity log entry
//!   saying so (both land only if this run is the one that completes the cart);
//! - a cart the watchdog completed itself is acknowledged again on a re-run (the job died
//!   before acknowledging, or Kustom refused it): the push, which would otherwise retry the
//!   acknowledgement, is the path that failed;
//! - still `checkout_incomplete` → schedule the next check; after the last, stop (logged);
//! - expired or unknown at Kustom → stop; paid with another amount than the cart → recorded on
//!   the cart by the completion path (once), stop: the merchant decides;
//! - Kustom or the platform unavailable → retry ([`RETRIES`]), never past the next check; when
//!   the last check cannot be made, the cart's activity log asks the merchant to look.
//!
//! Cost when nothing is wrong: one cart read and no Kustom call for a paid checkout (the cart is
//! completed by the first check, and the chain ends); one cart read and one Kustom read per check
//! for an abandoned one. The job writes nothing unless it completes or gives up.

use super::completion::{self, Completion};
use crate::cart::CartState;
use crate::cart_facts::CartFacts;
use crate::error::{parse, AppError, Code};
use crate::fields::{self, dynamic_key};
use crate::host::{
    finish, DynamicFields, Effect, Envelope, Interrupt, Output, Step, Steps, TicketCommand,
};
use crate::instant::Instant;
use crate::jobs::{WatchdogParameters, WATCHDOG_JOB};
use crate::kustom;
use crate::retry::{schedule_job, Decision, Schedule};
use crate::settings::Settings;
use serde_json::{json, Map, Value};

/// When the watchdog looks, in seconds after the order's creation: 15 min, 2 h, 12 h, 40 h.
/// - 15 min: most customers pay within minutes; by then the confirm redirect has come or never
///   will, and Kustom's push (2 min after payment, then +5, +15 min) has had two or three
///   tries. An order paid and unheard of after that is most likely lost: the customer is
///   waiting for a confirmation, so the first look comes early.
/// - 2 h and 12 h: customers who come back to the tab later (the same day, the next morning).
/// - 40 h: the last look, 8 h before Kustom's 48 h lifetime of an untouched checkout order ends,
///   leaving room for the retries of a failed check (5 min, 30 min, 2 h).
///
/// A checkout costs at most one Kustom read per check, and none once the cart is completed.
pub const CHECKS: &[i64] = &[15 * 60, 2 * 3600, 12 * 3600, 40 * 3600];

/// Retries of one check when Kustom or the platform cannot answer: 5 min, 30 min, 2 h. A retry
/// that would come after the next check gives way to it.
pub const RETRIES: Schedule = Schedule(&[300, 1800, 7200]);

/// `kustomCompletedBy` on a cart the watchdog completed.
pub const COMPLETED_BY_WATCHDOG: &str = "watchdog";

/// The `scheduleJob` that starts watching a Kustom order the checkout just created at `now`.
pub fn first_check(cart_id: &str, kustom_order_id: &str, now: &Instant) -> Effect {
    let parameters = WatchdogParameters {
        cart_id: cart_id.into(),
        kustom_order_id: kustom_order_id.into(),
        since: now.to_iso(),
        check: 0,
        attempt: 0,
    };
    schedule_job(WATCHDOG_JOB, &parameters, &now.plus_seconds(CHECKS[0]))
}

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

/// One run: the parameters, the clock, and when the checks fall.
struct Watch {
    job: WatchdogParameters,
    since: Instant,
    now: Instant,
}

fn step(input: &Value) -> Step {
    let envelope: Envelope = parse(input, "input")?;
    let now = Instant::parse(&envelope.now)?;
    // The parameters sit at the top level beside `settings`, `now` and `replies`.
    let job: WatchdogParameters = parse(input, "input")?;
    let since = Instant::parse(&job.since)
        .map_err(|_| AppError::bad_input("since", "is not an ISO 8601 instant"))?;
    if CHECKS.get(job.check as usize).is_none() {
        let problem = format!("the schedule has {} checks", CHECKS.len());
        return Err(AppError::bad_input("check", problem).into());
    }
    kustom::checked_order_id(&job.kustom_order_id)?;
    let settings = Settings::from_input(input)?;
    let mut steps = Steps::of_input(input, "jobs/watch-kustom-order")?;
    let watch = Watch { job, since, now };
    let job = &watch.job;
    let order_id = job.kustom_order_id.as_str();

    let cart = match steps.cart_facts(&job.cart_id) {
        Ok(Some(cart)) => cart,
        Ok(None) => return Ok(watch.stop(format!("cart {} not found", job.cart_id))),
        Err(Interrupt::Error(error)) => return Ok(watch.retry(None, &error.to_string())),
        Err(other) => return Err(other),
    };
    let current = cart.field(fields::ORDER_ID) == Some(order_id);
    let ours = cart.cart_state == CartState::Completed
        && cart.field(fields::COMPLETED_BY) == Some(COMPLETED_BY_WATCHDOG);
    // Still to watch: an open cart, or one this watchdog completed (to acknowledge again).
    let watching = cart.is_open() || (current && ours);
    if !watching {
        let state = cart.cart_state.as_str();
        return Ok(watch.stop(format!("cart {} is {state}", cart.cart_id)));
    }
    if !current {
        let current = cart.field(fields::ORDER_ID).unwrap_or("(none)");
        let why = format!(
            "cart {} has replaced Kustom order {order_id} with {current}",
            cart.cart_id
        );
        return Ok(watch.stop(why));
    }

    // On an open cart: complete it if paid. On one this watchdog completed: the completion path
    // only acknowledges.
    let record = watch.record();
    let outcome = completion::complete_recording(&mut steps, &settings, &cart, order_id, &record);
    let completion = match outcome {
        // A reply the app cannot read (Kustom's or the host's) is a failed look, not the end of
        // the watch. Settings were read above; anything left here is about this one run.
        Err(Interrupt::Error(error)) => Completion::Unavailable {
            reason: error.to_string(),
        },
        other => other?,
    };
    Ok(match completion {
        Completion::Completed {
            acknowledged: true,
            mut log,
        } => {
            log.push(format!(
                "watchdog ({} check): Kustom order {order_id} is paid and cart {} is completed",
                label(watch.check_offset()),
                cart.cart_id,
            ));
            Output::done(vec![], log)
        }
        // Completed, but Kustom did not take the acknowledgement. The push would retry it, but
        // the push may be what is broken: the watchdog retries it itself (the cart is marked).
        Completion::Completed {
            acknowledged: false,
            log,
        } => {
            let mut output = watch.retry(None, "the acknowledgement failed");
            if let Output::Done { log: last, .. } = &mut output {
                last.splice(0..0, log);
            }
            output
        }
        Completion::NotYet { status } => {
            watch.next_check(format!("Kustom order {order_id} is {status}"))
        }
        Completion::OrderGone => watch.stop(format!(
            "Kustom does not know order {order_id} (expired, never paid)"
        )),
        // Cancelled, expired or rejected at Kustom, or the cart refused the customer's address:
        // recorded on the cart, nothing left to watch for.
        Completion::Refused {
            code,
            message,
            record,
        } => Output::done(
            record,
            vec![format!(
                "{code}: {message}; recorded on the cart, no longer watched"
            )],
        ),
        Completion::Mismatch { message, record } => Output::done(
            record,
            vec![format!(
                "{}: {message}; recorded on the cart, no longer watched",
                Code::AmountMismatch
            )],
        ),
        Completion::Unavailable { reason } => watch.retry(Some(&cart), &reason),
    })
}

impl Watch {
    /// Seconds after creation of this run's check.
    fn check_offset(&self) -> i64 {
        CHECKS.get(self.job.check as usize).copied().unwrap_or(0)
    }

    /// When the next check of the schedule falls (not before now), if there is one.
    fn next_check_at(&self) -> Option<Instant> {
        let next = self.job.check.saturating_add(1) as usize;
        let offset = *CHECKS.get(next)?;
        let at = self.since.plus_seconds(offset);
        Some(if at.unix_seconds() < self.now.unix_seconds() {
            self.now.clone()
        } else {
            at
        })
    }

    /// Nothing (more) to watch.
    fn stop(&self, why: String) -> Output {
        let job = &self.job;
        Output::done(
            vec![],
            vec![format!(
                "{why}: no longer watching Kustom order {}",
                job.kustom_order_id
            )],
        )
    }

    /// Schedule the next check; after the last, stop.
    fn next_check(&self, why: String) -> Output {
        let Some(at) = self.next_check_at() else {
            return Output::done(
                vec![],
                vec![format!(
                    "{why} at the last check ({} after checkout): no longer watched",
                    label(self.check_offset())
                )],
            );
        };
        let parameters = WatchdogParameters {
            check: self.job.check.saturating_add(1),
            attempt: 0,
            ..self.job.clone()
        };
        let log = format!("{why}; next check at {}", at.to_iso());
        Output::done(
            vec![schedule_job(WATCHDOG_JOB, &parameters, &at)],
            vec![log],
        )
    }

    /// Kustom or the platform could not answer: retry this check, or go on to the next one when
    /// that comes first; when the last check cannot be made, tell the merchant on the cart.
    fn retry(&self, cart: Option<&CartFacts>, reason: &str) -> Output {
        let next_at = self.next_check_at();
        match RETRIES.after_failure(self.job.attempt, &self.now, reason) {
            Decision::Retry { attempt, at, log } => {
                let before_next = next_at
                    .as_ref()
                    .is_none_or(|next| at.unix_seconds() < next.unix_seconds());
                if !before_next {
                    return self.next_check(format!("check failed ({reason})"));
                }
                let parameters = WatchdogParameters {
                    attempt,
                    ..self.job.clone()
                };
                Output::done(
                    vec![schedule_job(WATCHDOG_JOB, &parameters, &at)],
                    vec![log],
                )
            }
            Decision::GiveUp { log, .. } if next_at.is_some() => {
                self.next_check(format!("check failed ({reason}); {log}"))
            }
            Decision::GiveUp { log, .. } => {
                let mut dynamic = Map::new();
                dynamic.insert("kustomOrderId".into(), json!(self.job.kustom_order_id));
                let effects = cart
                    .map(|cart| {
                        TicketCommand::activity_log(
                            "The Kustom watchdog could not check whether Kustom order {{kustomOrderId}} was paid (Kustom or the platform did not answer). Check the order in Kustom's portal.",
                            dynamic,
                        )
                        .to_ticket(&cart.cart_id)
                    })
                    .into_iter()
                    .collect();
                Output::done(effects, vec![format!("last check: {log}")])
            }
        }
    }

    /// What the completing message also writes when the watchdog completes the cart: the
    /// mark (`kustomCompletedBy: watchdog`) and the entry the merchant reads on the cart.
    fn record(&self) -> [TicketCommand; 2] {
        let mut mark = DynamicFields::new();
        mark.insert(
            dynamic_key(fields::COMPLETED_BY),
            json!(COMPLETED_BY_WATCHDOG).into(),
        );
        let mut dynamic = Map::new();
        dynamic.insert("kustomOrderId".into(), json!(self.job.kustom_order_id));
        dynamic.insert("after".into(), json!(label(self.check_offset())));
        [
            TicketCommand::SetDynamicFields { fields: mark },
            TicketCommand::activity_log(
                "Kustom order {{kustomOrderId}} was paid, but neither the customer's confirmation page nor Kustom's push reached the shop. The Kustom watchdog found it {{after}} after checkout and completed this cart.",
                dynamic,
            ),
        ]
    }
}

/// `15 min`, `2 h`: a check's time after checkout, for people.
fn label(seconds: i64) -> String {
    if seconds % 3600 == 0 {
        format!("{} h", seconds / 3600)
    } else {
        format!("{} min", seconds / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDER: &str = "8cf27b55-53e8-6aba-9fb4-7c692e56ddee";

    fn input(job: Value, replies: Value) -> Value {
        let mut input = json!({"cartId": "c1", "kustomOrderId": ORDER, "since": "2026-11-25T09:30:00Z",
            "check": 0, "settings": {"apiKey": "kco_test_api_secret-value"}, "now": "2026-11-25T09:45:00Z",
            "replies": replies});
        for (key, value) in job.as_object().unwrap() {
            input[key] = value.clone();
        }
        input
    }

    /// Hostile parameters and replies: an `{error}` or a logged outcome, never a trap, and the
    /// API key never in what comes out.
    #[test]
    fn bad_parameters_and_replies_end_in_an_error_or_a_logged_outcome() {
        let open_cart = json!({"cartId": "c1", "cartState": "open", "currencyCode": "SEK", "taxIncluded": true,
            "orderTotal": 0, "orderTaxTotal": 0, "items": [], "fields": {"kustomOrderId": ORDER}});
        let jobs = [
            json!({}),
            json!({"check": 4}),
            json!({"check": u32::MAX, "attempt": u32::MAX}),
            json!({"attempt": u32::MAX}),
            json!({"since": "9999-12-31T23:59:59Z"}),
            json!({"since": "0000-01-01T00:00:00Z", "now": "9999-12-31T23:59:59Z"}),
            json!({"since": "2026-11-25T09:30:00+14:00"}),
            json!({"since": "é2026-11-25T09:30:00Z"}),
            json!({"since": null}),
            json!({"check": -1}),
            json!({"cartId": 7}),
            json!({"kustomOrderId": "a/b"}),
            json!({"settings": null}),
        ];
        let replies = [
            json!([]),
            json!([42]),
            json!([null]),
            json!(["text"]),
            json!([open_cart, {"status": "x"}]),
            json!([open_cart, {"foo": 1}]),
            json!([open_cart, {"status": 200, "body": "<html>"}]),
            json!([open_cart, {"status": 200, "body": {"status": "checkout_complete"}}]),
            json!([open_cart, {"status": 200, "body": {"status": "checkout_complete", "purchase_currency": "SEK",
                "order_amount": 0, "order_tax_amount": 0, "order_lines": []}}, "not a list", 42, null, {}]),
            json!([open_cart, {"error": {"kind": "timeout"}}]),
        ];
        for job in &jobs {
            for reply in &replies {
                let output = run(&input(job.clone(), reply.clone())).to_json();
                let text = output.to_string();
                assert!(!text.contains("secret-value"), "{text}");
                assert!(
                    output.get("error").is_some()
                        || output.get("calls").is_some()
                        || output
                            .get("log")
                            .is_some_and(|log| log.as_array().is_some_and(|l| !l.is_empty())),
                    "{job} {reply}: {text}"
                );
            }
        }
    }

    #[test]
    fn the_checks_come_before_kustoms_48_hour_lifetime_with_room_for_retries() {
        let retries: i64 = RETRIES.0.iter().sum();
        let last = *CHECKS.last().unwrap();
        assert!(last + retries < 48 * 3600, "{last} + {retries}");
        assert!(CHECKS.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(
            CHECKS.iter().map(|&s| label(s)).collect::<Vec<_>>(),
            ["15 min", "2 h", "12 h", "40 h"]
        );
    }
}
