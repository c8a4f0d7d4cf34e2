//! Ingress `checkout`: `POST /ingress/commerce/carts/{cartId}/payment/kustom`
//! `{termsUrl, checkoutUrl, confirmationUrl}` → `{htmlSnippet, kustomOrderId, status}`.
//!
//! Idempotent, and never two payable orders for one cart:
//! - the cart has a Kustom order that is still `checkout_incomplete`: return its snippet, after
//!   pushing the cart's current payload when Kustom holds something else;
//! - that order is already `checkout_complete`: return its (confirmation) snippet with
//!   `status: checkout_complete`, so the storefront goes to confirmation; nothing is created;
//! - that order is gone or expired (404 from the Checkout API and from Order Management): create
//!   a new one and replace the id; a 404 from the Checkout API alone is a paid order it forgot:
//!   `status: checkout_complete`, never replaced;
//! - whenever it creates an order, it also schedules the order's watchdog (`watchKustomOrder`,
//!   15 min, 2 h, 12 h, 40 h later), which completes the cart should the customer pay and
//!   neither the confirm redirect nor Kustom's push reach the shop;
//! - Kustom does not answer (5xx, timeout): 502, and the stored id is kept (a new order now
//!   could orphan a live one).
//!
//! Two concurrent first calls can each create an order; the cart keeps the last id written, and
//! the validation callback approves only the cart's current order, so the other can never be
//! paid (it expires after 48 h).

use super::ingress::{answer, error_answer, route_cart};
use super::watch_kustom_order;
use crate::cart::RenderedCart;
use crate::error::{parse, AppError, Code};
use crate::fields::{self, dynamic_key};
use crate::hash::{payload_hash, short};
use crate::host::{finish, DynamicFields, Effect, Envelope, Output, Step, Steps, TicketCommand};
use crate::instant::Instant;
use crate::kustom::{self, CheckoutOrder, Outcome};
use crate::payload::{self, CartPayload};
use crate::settings::Settings;
use serde::Deserialize;
use serde_json::{json, Value};

/// Pushes of the cart's payload in one checkout call when the cart keeps changing under it.
const CATCH_UP_ROUNDS: usize = 3;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckoutRequest {
    terms_url: String,
    checkout_url: String,
    confirmation_url: String,
}

pub fn run(input: &Value) -> Output {
    finish(step(input))
}

fn step(input: &Value) -> Step {
    let envelope: Envelope = parse(input, "input")?; // `now` and `replies` are there
    let settings = Settings::from_input(input)?;
    let request = read_request(input.get("body").unwrap_or(&Value::Null))
        .map_err(|message| error_answer(400, Code::BadRequest, message))?;
    let push_and_validation = merchant_callback_urls(&settings)?;
    let mut steps = Steps::replaying(input, "ingresses/checkout");

    let cart = route_cart(&mut steps, input)?;
    let cart_id = &cart.cart_id;
    if !payload::is_open(&cart) {
        let message = format!("cart {cart_id} is {}", cart.cart_state.as_str());
        return Ok(error_answer(409, Code::CartNotOpen, message));
    }
    if cart.items.is_empty() {
        let message = format!("cart {cart_id} has no items");
        return Ok(error_answer(400, Code::CartEmpty, message));
    }
    let payload = payload::build(&cart)
        .map_err(|refusal| error_answer(422, refusal.code, refusal.message))?;

    if let Some(order_id) = cart.field(fields::ORDER_ID) {
        let reply = steps.http(kustom::read_checkout_order(&settings, order_id)?)?;
        match kustom::classify(&reply) {
            Outcome::Success(body) => {
                return existing_order(&mut steps, &settings, cart_id, order_id, &body, payload)
            }
            // Expired, or paid and forgotten by the Checkout API (Order Management keeps a paid
            // order): never replace a paid order, whose watchdog would then stand down.
            Outcome::NotFound => {
                if let Some(paid) = paid_at_order_management(&mut steps, &settings, order_id)? {
                    return Ok(paid);
                }
            }
            failed => {
                return Ok(kustom_failed(
                    &failed,
                    &format!("reading Kustom order {order_id}"),
                ))
            }
        }
    }
    create_order(
        &mut steps,
        &settings,
        &cart,
        &request,
        push_and_validation,
        payload,
        &envelope.now,
    )
}

/// The stored order is unknown to the Checkout API: `None` when Order Management does not know
/// it either (it expired unpaid: replace it); otherwise the answer (paid: the storefront goes to
/// confirmation, which completes the cart; Kustom down: 502, the id kept).
fn paid_at_order_management(
    steps: &mut Steps,
    settings: &Settings,
    order_id: &str,
) -> Step<Option<Output>> {
    let reply = steps.http(kustom::read_om_order(settings, order_id)?)?;
    Ok(match kustom::classify(&reply) {
        Outcome::NotFound => None,
        Outcome::Success(_) => Some(answer(
            200,
            json!({"kustomOrderId": order_id, "status": "checkout_complete"}),
            vec![],
            vec![format!(
                "Kustom order {order_id} is paid (known to Order Management): not replaced"
            )],
        )),
        failed => Some(kustom_failed(
            &failed,
            &format!("reading Kustom order {order_id}"),
        )),
    })
}

/// A 502 for a Kustom call that did not succeed: the storefront shows an error and may retry.
fn kustom_failed(outcome: &Outcome, doing: &str) -> Output {
    let (code, why) = outcome.failure();
    error_answer(502, code, format!("{doing}: {why}"))
}

fn read_request(body: &Value) -> Result<CheckoutRequest, String> {
    let request: CheckoutRequest = parse(body, "body").map_err(|e| e.message)?;
    for (name, url) in [
        ("termsUrl", &request.terms_url),
        ("checkoutUrl", &request.checkout_url),
        ("confirmationUrl", &request.confirmation_url),
    ] {
        // Plain http only on the loopback, as for `publicBaseUrl`: a shop run locally.
        if !is_https_url(url) && !is_loopback_http(url) {
            return Err(format!("{name} must be an absolute https URL, got {url:?}"));
        }
    }
    Ok(request)
}

fn is_https_url(url: &str) -> bool {
    url.strip_prefix("https://").is_some_and(|rest| {
        !rest.is_empty()
            && !rest.starts_with('/')
            && url.len() <= 2000
            && !url.contains(char::is_whitespace)
    })
}

/// Plain http is allowed for the loopback only: a local host talking to the Kustom emulator.
fn is_loopback_http(url: &str) -> bool {
    ["http://127.0.0.1", "http://localhost"]
        .iter()
        .any(|prefix| {
            url.strip_prefix(prefix).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with(':') || rest.starts_with('/')
            })
        })
}

/// Kustom's push and validation URLs, from the `publicBaseUrl` setting.
fn merchant_callback_urls(settings: &Settings) -> Result<(String, String), AppError> {
    let base = settings
        .public_base_url
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .trim_end_matches('/');
    let push = format!("{base}/ingress/kustom/webhook/push?kustom_order_id={{checkout.order.id}}");
    // The longer of the two, composed, must fit Kustom's 2000 characters; the value is never
    // quoted (it is a setting).
    if (!is_https_url(base) && !is_loopback_http(base)) || push.len() > 2000 {
        return Err(AppError::new(
            Code::BadSettings,
            "publicBaseUrl must be the shop's https base URL, short enough for Kustom's 2000-character callback URLs (Kustom calls back over https; plain http only on the loopback)",
        ));
    }
    Ok((push, format!("{base}/ingress/kustom/validate")))
}

/// Kustom's pending-order notification URL (fraud review outcomes, `notification` ingress):
/// the push URL's base and order-id parameter on the notification route.
fn notification_url(push_url: &str) -> String {
    push_url.replacen(
        "/ingress/kustom/webhook/push?",
        "/ingress/kustom/notification?",
        1,
    )
}

fn existing_order(
    steps: &mut Steps,
    settings: &Settings,
    cart_id: &str,
    order_id: &str,
    body: &Value,
    payload: CartPayload,
) -> Step {
    let order: CheckoutOrder = parse(body, "Kustom order")
        .map_err(|error| error_answer(502, Code::KustomReplyUnreadable, error.message))?;
    let status = order
        .status
        .clone()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if status == "checkout_complete" {
        // Paid already: the snippet is Kustom's confirmation; the storefront confirms.
        return Ok(snippet_answer(
            &order,
            order_id,
            "checkout_complete",
            vec![],
            vec![format!("Kustom order {order_id} is already complete")],
        ));
    }
    // Kustom's order less the line it adds for the customer's shipping choice, with the options
    // it holds: with shipping in the iframe, the order itself never equals the payload. Equal
    // payloads print (and hash) the same; compared as structs, neither is printed nor hashed
    // (two hashes were a third of a checkout's time at 250 lines).
    if order.held_payload() == payload {
        return Ok(snippet_answer(
            &order,
            order_id,
            &status,
            vec![],
            vec![format!("Kustom order {order_id} is up to date")],
        ));
    }
    // Kustom holds another payload: push the cart's. Hashes are the sync job's to record.
    // Then read the cart again, as the sync job does after its push: if the cart changed
    // meanwhile, a sync of the newer cart may have finished before our push landed, and nothing
    // else would undo ours — push the newest, a few rounds at most.
    let mut payload = payload;
    for _ in 0..CATCH_UP_ROUNDS {
        let reply = steps.http(kustom::update_order(settings, order_id, json!(payload))?)?;
        match kustom::classify(&reply) {
            Outcome::Success(body) => {
                let newest = match steps.render_cart(cart_id)? {
                    Some(again) if payload::is_open(&again.cart) => {
                        payload::build(&again.cart).ok()
                    }
                    _ => None,
                };
                if let Some(newer) = newest.filter(|newer| *newer != payload) {
                    payload = newer;
                    continue;
                }
                let updated: CheckoutOrder = parse(&body, "Kustom order").unwrap_or(order);
                return Ok(snippet_answer(
                    &updated,
                    order_id,
                    "checkout_incomplete",
                    vec![],
                    vec![format!(
                        "Kustom order {order_id} brought up to date ({})",
                        short(&payload_hash(&payload))
                    )],
                ));
            }
            Outcome::ReadOnly => {
                // Completed between our read and our update: the read's status is stale.
                return Ok(answer(
                    200,
                    json!({"kustomOrderId": order_id, "status": "checkout_complete"}),
                    vec![],
                    vec![format!("Kustom order {order_id} completed meanwhile")],
                ));
            }
            failed => {
                return Ok(kustom_failed(
                    &failed,
                    &format!("updating Kustom order {order_id}"),
                ))
            }
        }
    }
    // Still changing: the sync jobs of those changes push the newest; the storefront retries.
    Ok(error_answer(
        502,
        Code::KustomUnavailable,
        format!("cart {cart_id} kept changing while Kustom order {order_id} was brought up to date; try again"),
    ))
}

fn create_order(
    steps: &mut Steps,
    settings: &Settings,
    cart: &RenderedCart,
    request: &CheckoutRequest,
    (push_url, validation_url): (String, String),
    payload: CartPayload,
    now: &str,
) -> Step {
    let (country, locale) =
        market(cart).map_err(|message| error_answer(422, Code::MarketUnknown, message))?;
    if cart.cart_id.len() > 255 {
        // Kustom's merchant_reference1 takes 255 characters.
        let message = "the cart id is longer than Kustom's merchant_reference1 takes";
        return Ok(error_answer(422, Code::CartIdTooLong, message));
    }
    // Read before the order exists: its watchdog is timed from now.
    let now = Instant::parse(now)?;
    let mut body = json!(payload);
    body["purchase_country"] = json!(country);
    body["locale"] = json!(locale);
    body["merchant_reference1"] = json!(cart.cart_id);
    // The cart id's own place: `merchant_reference1` is to become the merchant's order number
    // (issue 10); carts are found by `merchant_reference2`, else `merchant_reference1`.
    body["merchant_reference2"] = json!(cart.cart_id);
    body["merchant_urls"] = json!({
        "terms": request.terms_url,
        "checkout": request.checkout_url,
        "confirmation": request.confirmation_url,
        "notification": notification_url(&push_url),
        "push": push_url,
        "validation": validation_url,
    });
    // Without it Kustom may treat a rejection from the validation callback loosely.
    body["options"] = json!({"require_validate_callback_success": true});
    // What the shop already knows about the customer (`customer::prefill`).
    if let Some(billing) = crate::customer::prefill(cart.address.as_ref(), cart.email.as_ref()) {
        body["billing_address"] = billing;
    }

    let reply = steps.http(kustom::create_checkout_order(settings, body)?)?;
    let order: CheckoutOrder = match kustom::classify(&reply) {
        Outcome::Success(body) => parse(&body, "Kustom order")
            .map_err(|error| error_answer(502, Code::KustomReplyUnreadable, error.message))?,
        failed => return Ok(kustom_failed(&failed, "creating the Kustom order")),
    };
    let Some(order_id) = order
        .order_id
        .clone()
        .filter(|id| kustom::checked_order_id(id).is_ok())
    else {
        let message = "the created order has no usable order_id";
        return Ok(error_answer(502, Code::KustomReplyUnreadable, message));
    };
    // Store the order and mark its payload as both pending and synced, so the next unchanged
    // mutation does not sync.
    let hash = payload_hash(&payload);
    let mut fields_to_set = DynamicFields::new();
    fields_to_set.insert(dynamic_key(fields::ORDER_ID), json!(order_id).into());
    fields_to_set.insert(dynamic_key(fields::PENDING_HASH), json!(hash).into());
    fields_to_set.insert(dynamic_key(fields::SYNC_HASH), json!(hash).into());
    fields_to_set.insert(fields::PENDING_PAYLOAD_KEY.into(), json!(payload).into());
    let store = TicketCommand::SetDynamicFields {
        fields: fields_to_set,
    }
    .to_ticket(&cart.cart_id);
    // Should neither the confirm redirect nor Kustom's push ever reach the shop, the watchdog
    // finds the paid order.
    let watch = watch_kustom_order::first_check(&cart.cart_id, &order_id, &now);
    let log = vec![format!(
        "cart {}: created Kustom order {order_id} ({}); watchdog from {}",
        cart.cart_id,
        short(&hash),
        now.to_iso()
    )];
    Ok(snippet_answer(
        &order,
        &order_id,
        "checkout_incomplete",
        vec![store, watch],
        log,
    ))
}

fn snippet_answer(
    order: &CheckoutOrder,
    order_id: &str,
    status: &str,
    effects: Vec<Effect>,
    log: Vec<String>,
) -> Output {
    let content = json!({
        "htmlSnippet": order.html_snippet.clone().unwrap_or_default(),
        "kustomOrderId": order_id,
        "status": status,
    });
    answer(200, content, effects, log)
}

/// Purchase country (the address's, else the locale's region) and locale (`sv_SE` → `sv-SE`).
fn market(cart: &RenderedCart) -> Result<(String, String), String> {
    let locale = cart
        .locale
        .as_deref()
        .map(|l| l.trim().replace('_', "-"))
        .unwrap_or_default();
    let parts: Vec<&str> = locale.split('-').collect();
    let valid_locale = parts.len() >= 2
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()));
    if !valid_locale {
        return Err(format!(
            "the cart's locale {:?} is not a language-REGION locale such as sv-SE",
            cart.locale
        ));
    }
    let from_address = cart
        .address
        .as_ref()
        .and_then(|a| a.get("countryCode"))
        .and_then(Value::as_str)
        .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()));
    let country = from_address
        .unwrap_or(parts[parts.len() - 1])
        .to_ascii_uppercase();
    Ok((country, locale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls_need_https_except_on_the_loopback() {
        let with = |base: &str| Settings {
            public_base_url: Some(base.into()),
            ..Settings::default()
        };
        let (push, validation) = merchant_callback_urls(&with("https://shop.example.se/")).unwrap();
        assert_eq!(push, "https://shop.example.se/ingress/kustom/webhook/push?kustom_order_id={checkout.order.id}");
        assert_eq!(
            notification_url(&push),
            "https://shop.example.se/ingress/kustom/notification?kustom_order_id={checkout.order.id}"
        );
        assert_eq!(
            validation,
            "https://shop.example.se/ingress/kustom/validate"
        );
        assert!(merchant_callback_urls(&with("http://127.0.0.1:8080")).is_ok());
        assert!(merchant_callback_urls(&with("http://localhost:3000")).is_ok());
        for bad in [
            "http://shop.example.se",
            "http://127.0.0.1.evil.example",
            "ftp://x",
            "https://",
            "",
        ] {
            assert_eq!(
                merchant_callback_urls(&with(bad)).unwrap_err().code,
                "BAD_SETTINGS",
                "{bad}"
            );
        }
    }
}
