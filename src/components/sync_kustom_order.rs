//! Job `syncKustomOrder`: pushes a cart payload to Kustom, then records its hash as
//! `kustomSyncHash`.
//!
//! Ordering guarantee — an older payload never ends up on Kustom after a newer one:
//! 1. Read the cart. What a job pushes is always the payload the rule stored beside the pending
//!    hash (`kustomPendingPayload`), checked to hash to it and to be a payload Kustom accepts:
//!    the job's parameters carry only the hash, so the payload crosses the boundary once. A job
//!    whose hash is no longer the pending one pushes the newest pending payload all the same (a
//!    host crash re-runs a job from the start, and this run cannot know whether an earlier one
//!    already pushed its now stale payload after the newer job's); it stands down only when no
//!    valid pending payload is stored.
//! 2. Push, record the hash as `kustomSyncHash`, then read the cart **again**. If the pending
//!    hash did not move since our first read, no newer job can have pushed or recorded before
//!    us (a newer job starts from a read after the change): done, and our last action was a
//!    read, so nothing of ours can land after a newer job's.
//! 3. If it moved, a newer job may have pushed before our request landed (we may just have
//!    overwritten it at Kustom) or recorded its hash before ours. Re-assert the newest stored
//!    payload: push it, record it, read
//!    again, a bounded number of rounds.
//! 4. A push whose outcome is unknown (timeout, 5xx) may still land up to Kustom's 30 s server
//!    timeout later. Its retry is scheduled after that window and re-asserts whatever is pending
//!    then, even if it is not this job's payload.
//!
//! Failures: `READ_ONLY_ORDER` (the customer completed; confirmation takes over) and other
//! permanent refusals are written to the cart's activity log; a 404 (order expired) clears the
//! order id and hashes so the next checkout call creates a new order; transient failures retry
//! with bounded back-off and are logged when they give up.

use crate::error::{parse, AppError, Code};
use crate::fields::{self, dynamic_key};
use crate::hash::{payload_hash, short};
use crate::host::{
    finish, Call, DynamicFields, Effect, Envelope, Output, Step, Steps, TicketCommand,
};
use crate::instant::Instant;
use crate::jobs::{SyncJobParameters, SYNC_JOB as JOB_DEFINITION};
use crate::kustom::{self, Outcome, SERVER_TIMEOUT_SECONDS};
use crate::payload::CartPayload;
use crate::retry::{Decision, Schedule};
use crate::settings::Settings;
use crate::ticket::{self, CartRecord};
use serde_json::{json, Value};

/// Delays before each retry after a transient failure. The first exceeds Kustom's 30 s server
/// timeout so that a request still in flight has landed or died before we re-assert.
pub const RETRIES: Schedule = Schedule(&[SERVER_TIMEOUT_SECONDS + 5, 120, 600, 1800, 3600]);
/// Pushes in one run when the cart keeps changing under us; then the job reschedules itself.
pub const MAX_PUSHES_PER_RUN: usize = 3;

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Step {
    let envelope: Envelope = parse(input, "input")?;
    let now = Instant::parse(&envelope.now)?;
    // The parameters sit at the top level beside `settings`, `now` and `replies`, which the
    // parameter type ignores; settings are read on their own (serde's `flatten` costs wasm size).
    let job: SyncJobParameters = parse(input, "input")?;
    let settings = Settings::from_input(input)?;
    if job.cart_id.is_empty() {
        return Err(AppError::bad_input("cartId", "is empty").into());
    }
    let mut steps = Steps::of_input(input, "jobs/sync-kustom-order")?;
    let Some(cart) = read_cart(&mut steps, &job.cart_id)? else {
        let message = format!("cart {} not found: nothing to sync", job.cart_id);
        return Ok(Output::done(vec![], vec![message]));
    };
    let Some(target) = stored_pending(&cart, &steps) else {
        let message = format!(
            "cart {}: no stored payload hashes to the pending {}; the next cart change syncs",
            job.cart_id,
            cart.pending_hash.as_deref().map(short).unwrap_or("(none)")
        );
        return Ok(Output::done(vec![], vec![message]));
    };
    let run = Run {
        job: &job,
        settings: &settings,
        now: &now,
    };
    run.push_until_settled(&mut steps, cart, target)
}

/// One run of the job: what every push round needs.
struct Run<'a> {
    job: &'a SyncJobParameters,
    settings: &'a Settings,
    now: &'a Instant,
}

impl Run<'_> {
    /// Push the target, record it, read the cart again; while the cart moved meanwhile,
    /// re-assert the newest pending payload, a bounded number of rounds.
    fn push_until_settled<'a>(
        &self,
        steps: &mut Steps<'a>,
        mut cart: CartRecord<'a>,
        mut target: (String, Option<CartPayload>),
    ) -> Step {
        let job = self.job;
        let mut log = Vec::new();
        for _ in 0..MAX_PUSHES_PER_RUN {
            if !cart.is_open() {
                log.push(format!(
                    "cart {} is {}: the Kustom order is final, nothing to sync",
                    job.cart_id, cart.state
                ));
                return Ok(Output::done(vec![], log));
            }
            let Some(order_id) = cart.order_id.clone() else {
                log.push(format!("cart {} no longer has a Kustom order", job.cart_id));
                return Ok(Output::done(vec![], log));
            };
            let (hash, payload) = &target;
            self.push(steps, &order_id, hash, payload.as_ref(), &mut log)?;

            // Record what Kustom now holds. This is a call, not a final effect, so that it is
            // followed by a read: an effect applied after our last read could overwrite the sync
            // hash a newer job recorded meanwhile and leave the cart suspended for good.
            let recorded = steps.actor(record_sync_hash(&job.cart_id, hash))?;
            if let Some(error) = recorded.error() {
                let message = format!("recording kustomSyncHash failed: {error}");
                return Err(AppError::host(message).into());
            }
            cart = match read_cart(steps, &job.cart_id)? {
                Some(cart) => cart,
                None => return Ok(Output::done(vec![], log)),
            };
            if cart.pending_hash.as_deref() == Some(hash.as_str()) {
                log.push(format!(
                    "cart {}: kustomSyncHash = {}",
                    job.cart_id,
                    short(hash)
                ));
                return Ok(Output::done(vec![], log));
            }
            // The cart changed while we pushed and recorded: re-assert the newest payload.
            let Some(newer) = stored_pending(&cart, steps) else {
                log.push(stand_down(job, &cart));
                return Ok(Output::done(vec![], log));
            };
            log.push(format!(
                "cart changed to {} while syncing; re-asserting it",
                cart.pending_hash.as_deref().map(short).unwrap_or("?")
            ));
            target = newer;
        }
        // Still changing after several pushes: let a fresh run re-assert whatever is newest.
        log.push(format!(
            "cart {} kept changing; re-asserting in a new run",
            job.cart_id
        ));
        let parameters = SyncJobParameters {
            reassert: true,
            ..job.clone()
        };
        Ok(Output::done(
            vec![schedule(&parameters, self.now.plus_seconds(1))],
            log,
        ))
    }

    /// `POST` the payload to the Kustom order; anything but success ends the run with its
    /// outcome (`Interrupt::Finish`).
    fn push(
        &self,
        steps: &mut Steps,
        order_id: &str,
        hash: &str,
        payload: Option<&CartPayload>,
        log: &mut Vec<String>,
    ) -> Step<()> {
        let job = self.job;
        // The body (the whole payload as a tree) only for the step that sends it, not on replay.
        let body = match payload {
            _ if steps.has_reply() => Value::Null,
            Some(payload) => json!(payload),
            // `stored_pending` leaves the payload out only for a push that has its reply.
            None => return Err(AppError::new(Code::Internal, "no checked payload to push").into()),
        };
        let call = kustom::update_order(self.settings, order_id, body)?;
        let reply = steps.http_reduced(call, crate::host::outcome_only)?;
        let ended = match kustom::classify(&reply) {
            Outcome::Success(_) => {
                log.push(format!("pushed {} to Kustom order {order_id}", short(hash)));
                return Ok(());
            }
            Outcome::ReadOnly => read_only(job, order_id, hash),
            Outcome::NotFound => order_gone(job, order_id),
            Outcome::Transient {
                reason,
                applied_maybe,
            } => retry_later(job, self.now, &reason, applied_maybe, std::mem::take(log)),
            Outcome::Permanent(error) => {
                refused(job, order_id, hash, &error.summary(), std::mem::take(log))
            }
        };
        Err(ended.into())
    }
}

fn record_sync_hash(cart_id: &str, hash: &str) -> Call {
    let mut sync = DynamicFields::new();
    sync.insert(dynamic_key(fields::SYNC_HASH), json!(hash).into());
    let command = TicketCommand::SetDynamicFields { fields: sync };
    Call::MessageActor {
        actor_type: "ticket".into(),
        actor_id: cart_id.into(),
        messages: vec![json!({"type": "applyCommands", "body": {"commands": [command]}})],
    }
}

fn read_cart<'a>(steps: &mut Steps<'a>, cart_id: &str) -> Step<Option<CartRecord<'a>>> {
    // Later steps keep the read without the payload: it is pushed at the step the read arrives.
    let reply = steps.actor_reduced(ticket::read_cart(cart_id), ticket::reduced)?;
    Ok(ticket::parse_cart(reply)?)
}

/// The payload stored with the cart's pending hash, if it is there and really hashes to it:
/// what the next push sends. `None` in place of the payload when that push already has its reply
/// (this step is a replay): the same input made the same check pass when the push was sent, and
/// nothing is sent again (re-hashing a 250-line payload at every step was a sixth of the job).
fn stored_pending(cart: &CartRecord, steps: &Steps) -> Option<(String, Option<CartPayload>)> {
    let pending = cart.pending_hash.as_deref()?;
    let stored = cart.pending_payload?;
    if steps.has_reply() {
        return Some((pending.to_string(), None));
    }
    let payload = CartPayload::from_tree(stored).ok()?;
    (payload_hash(&payload) == pending && crate::payload::check(&payload).is_ok())
        .then(|| (pending.to_string(), Some(payload)))
}

fn stand_down(job: &SyncJobParameters, cart: &CartRecord) -> String {
    format!(
        "cart {}: pending is {}, not this job's {}; the job that set it pushes it",
        job.cart_id,
        cart.pending_hash.as_deref().map(short).unwrap_or("(none)"),
        short(&job.hash)
    )
}

fn schedule(parameters: &SyncJobParameters, at: Instant) -> Effect {
    Effect::ScheduleJob {
        definition: JOB_DEFINITION.into(),
        parameters: json!(parameters).into(),
        at: at.to_iso(),
    }
}

fn activity(job: &SyncJobParameters, template: &str, dynamic: Value) -> Effect {
    let dynamic = dynamic.as_object().cloned().unwrap_or_default();
    TicketCommand::activity_log(template, dynamic).to_ticket(&job.cart_id)
}

fn read_only(job: &SyncJobParameters, order_id: &str, hash: &str) -> Output {
    let message = format!(
        "Kustom order {order_id} is already complete (READ_ONLY_ORDER): cart changes {} were not sent; confirmation checks the amount",
        short(hash)
    );
    let effect = activity(
        job,
        "Kustom order {{kustomOrderId}} was completed before the cart change {{hash}} reached it",
        json!({"kustomOrderId": order_id, "hash": hash}),
    );
    Output::done(vec![effect], vec![message])
}

fn order_gone(job: &SyncJobParameters, order_id: &str) -> Output {
    let mut clear = DynamicFields::new();
    for field in [fields::ORDER_ID, fields::PENDING_HASH, fields::SYNC_HASH] {
        clear.insert(dynamic_key(field), Value::Null.into());
    }
    clear.insert(fields::PENDING_PAYLOAD_KEY.into(), Value::Null.into());
    let effects = vec![
        TicketCommand::SetDynamicFields { fields: clear }.to_ticket(&job.cart_id),
        activity(
            job,
            "Kustom order {{kustomOrderId}} is gone or expired; the next checkout creates a new one",
            json!({"kustomOrderId": order_id}),
        ),
    ];
    Output::done(
        effects,
        vec![format!(
            "Kustom order {order_id} not found (expired?): cleared it from cart {}",
            job.cart_id
        )],
    )
}

fn retry_later(
    job: &SyncJobParameters,
    now: &Instant,
    reason: &str,
    applied_maybe: bool,
    mut log: Vec<String>,
) -> Output {
    match RETRIES.after_failure(job.attempt, now, reason) {
        Decision::Retry {
            attempt,
            at,
            log: line,
        } => {
            log.push(line);
            let parameters = SyncJobParameters {
                attempt,
                reassert: job.reassert || applied_maybe,
                ..job.clone()
            };
            Output::done(vec![schedule(&parameters, at)], log)
        }
        Decision::GiveUp {
            attempts,
            log: line,
        } => {
            log.push(line);
            let effect = activity(
                job,
                "Syncing the cart to Kustom order {{kustomOrderId}} failed {{attempts}} times, last: {{reason}}. The next cart change retries.",
                json!({"kustomOrderId": job.kustom_order_id, "attempts": attempts, "reason": reason}),
            );
            Output::done(vec![effect], log)
        }
    }
}

fn refused(
    job: &SyncJobParameters,
    order_id: &str,
    hash: &str,
    summary: &str,
    mut log: Vec<String>,
) -> Output {
    log.push(format!(
        "Kustom refused the update of order {order_id}: {summary}"
    ));
    let effect = activity(
        job,
        "Kustom refused the cart update {{hash}} for order {{kustomOrderId}}: {{error}}",
        json!({"kustomOrderId": order_id, "hash": hash, "error": summary}),
    );
    Output::done(vec![effect], log)
}
