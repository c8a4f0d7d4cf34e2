//! Ingress `checkout`: `POST /ingress/commerce/carts/{cartId}/payment/kustom`
//! `{termsUrl, checkoutUrl, confirmationUrl}` → `{htmlSnippet, kustomOrderId, status}`.
//!
//! Idempotent, and never two payable orders for one cart:
//! - the cart has a Kustom order that is still `checkout_incomplete`: return its snippet, after
//!   pushing the cart's current payload when Kustom holds something else;
//! - that order is already `checkout_complete`: return its (confirmation) snippet with
//!   `status: checkout_complete`, so the storefront goes to confirmation; nothing is created;
//! - that order is gone or expired (404): create a new one and replace the id;
//! - Kustom does not answer (5xx, timeout): 502, and the stored id is kept (a new order now
//!   could orphan a live one).
//!
//! Two concurrent first calls can each create an order; the cart keeps the last id written, and
//! the validation callback approves only the cart's current order, so the other can never be
//! paid (it expires after 48 h).

use crate::cart::RenderedCart;
use crate::error::{parse, AppError};
use crate::fields::{self, dynamic_key};
use crate::hash::payload_hash;
use crate::host::{
    finish, Call, DynamicFields, Effect, Envelope, Interrupt, Output, Response, Steps,
    TicketCommand,
};
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

/// The cart named by the route, rendered; `Ok(Err(answer))` is the 404 to send when there is
/// none. Shared by the storefront's ingresses (checkout, confirm).
pub fn render_route_cart(
    steps: &mut Steps,
    cart_id: &str,
) -> Result<Result<RenderedCart, Output>, Interrupt> {
    let reply = steps.call(Call::RenderCart {
        cart_id: cart_id.into(),
    })?;
    if reply.get("error").is_some() || reply.is_null() {
        return Ok(Err(error_answer(
            404,
            "CART_NOT_FOUND",
            format!("no cart {cart_id}"),
            vec![],
        )));
    }
    Ok(Ok(parse(reply, "replies[0]")?))
}

/// An ingress answer: `{statusCode, content}` and the log line that explains it.
pub fn answer(status_code: u16, content: Value, effects: Vec<Effect>, log: Vec<String>) -> Output {
    Output::Done {
        effects,
        response: Some(Response {
            status_code,
            content,
        }),
        log,
    }
}

/// An error answer `{error: {code, message}}`, as the storefront expects.
pub fn error_answer(
    status_code: u16,
    code: &str,
    message: impl Into<String>,
    log: Vec<String>,
) -> Output {
    let message = message.into();
    let mut log = log;
    log.push(format!("{status_code} {code}: {message}"));
    answer(
        status_code,
        json!({"error": {"code": code, "message": message}}),
        vec![],
        log,
    )
}

fn step(input: &Value) -> Result<Output, Interrupt> {
    parse::<Envelope>(input, "input")?; // `now` and `replies` are there
    let settings = Settings::from_input(input)?;
    let Some(cart_id) = input["route"]["cartId"]
        .as_str()
        .filter(|id| !id.is_empty())
    else {
        return Ok(error_answer(
            400,
            "BAD_REQUEST",
            "the route has no cartId",
            vec![],
        ));
    };
    let request = match read_request(input.get("body").unwrap_or(&Value::Null)) {
        Ok(request) => request,
        Err(message) => return Ok(error_answer(400, "BAD_REQUEST", message, vec![])),
    };
    let push_and_validation = merchant_callback_urls(&settings)?;
    let mut steps = Steps::of_input(input);

    let cart = match render_route_cart(&mut steps, cart_id)? {
        Ok(cart) => cart,
        Err(not_found) => return Ok(not_found),
    };
    if !payload::is_open(&cart) {
        let message = format!("cart {cart_id} is {}", cart.cart_state.as_str());
        return Ok(error_answer(409, "CART_NOT_OPEN", message, vec![]));
    }
    if cart.items.is_empty() {
        return Ok(error_answer(
            400,
            "CART_EMPTY",
            format!("cart {cart_id} has no items"),
            vec![],
        ));
    }
    let payload = match payload::build(&cart) {
        Ok(payload) => payload,
        Err(refusal) => return Ok(error_answer(422, &refusal.code, refusal.message, vec![])),
    };
    let hash = payload_hash(&payload);

    if let Some(order_id) = cart.field(fields::ORDER_ID) {
        let reply = steps.http(kustom::read_checkout_order(&settings, order_id)?)?;
        match kustom::classify(&reply) {
            Outcome::Success(body) => {
                return existing_order(
                    &mut steps, &settings, cart_id, order_id, body, &payload, &hash,
                )
            }
            Outcome::NotFound => {} // expired or gone: create a new one below
            Outcome::Transient { reason, .. } => {
                return Ok(error_answer(
                    502,
                    "KUSTOM_UNAVAILABLE",
                    format!("reading Kustom order {order_id}: {reason}"),
                    vec![],
                ))
            }
            Outcome::Permanent(error) => {
                let message = format!("reading Kustom order {order_id}: {}", error.summary());
                return Ok(error_answer(502, "KUSTOM_REFUSED", message, vec![]));
            }
            Outcome::ReadOnly => {
                let message = format!("reading Kustom order {order_id}: refused as read-only");
                return Ok(error_answer(502, "KUSTOM_REFUSED", message, vec![]));
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
        &hash,
    )
}

fn read_request(body: &Value) -> Result<CheckoutRequest, String> {
    let request: CheckoutRequest = parse(body, "body").map_err(|e| e.message)?;
    for (name, url) in [
        ("termsUrl", &request.terms_url),
        ("checkoutUrl", &request.checkout_url),
        ("confirmationUrl", &request.confirmation_url),
    ] {
        if !is_https_url(url) {
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
            "BAD_SETTINGS",
            "publicBaseUrl must be the shop's https base URL, short enough for Kustom's 2000-character callback URLs (Kustom calls back over https; plain http only on the loopback)",
        ));
    }
    Ok((push, format!("{base}/ingress/kustom/validate")))
}

fn existing_order(
    steps: &mut Steps,
    settings: &Settings,
    cart_id: &str,
    order_id: &str,
    body: Value,
    payload: &CartPayload,
    hash: &str,
) -> Result<Output, Interrupt> {
    let order: CheckoutOrder = match parse(&body, "Kustom order") {
        Ok(order) => order,
        Err(error) => {
            return Ok(error_answer(
                502,
                "KUSTOM_REPLY_UNREADABLE",
                error.message,
                vec![],
            ))
        }
    };
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
    if payload_hash(&order.cart_payload()) == hash {
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
    let (mut payload, mut hash) = (payload.clone(), hash.to_string());
    for _ in 0..CATCH_UP_ROUNDS {
        let reply = steps.http(kustom::update_order(settings, order_id, json!(payload))?)?;
        match kustom::classify(&reply) {
            Outcome::Success(body) => {
                let newest = match render_route_cart(steps, cart_id)? {
                    Ok(cart) if payload::is_open(&cart) => payload::build(&cart).ok(),
                    _ => None,
                };
                if let Some(newer) = newest.filter(|newer| payload_hash(newer) != hash) {
                    hash = payload_hash(&newer);
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
                        &hash[..12]
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
            Outcome::NotFound => {
                return Ok(error_answer(
                    502,
                    "KUSTOM_ORDER_GONE",
                    format!("Kustom order {order_id} disappeared; try again"),
                    vec![],
                ))
            }
            Outcome::Transient { reason, .. } => {
                return Ok(error_answer(502, "KUSTOM_UNAVAILABLE", reason, vec![]))
            }
            Outcome::Permanent(error) => {
                return Ok(error_answer(502, "KUSTOM_REFUSED", error.summary(), vec![]))
            }
        }
    }
    // Still changing: the sync jobs of those changes push the newest; the storefront retries.
    Ok(error_answer(
        502,
        "KUSTOM_UNAVAILABLE",
        format!("cart {cart_id} kept changing while Kustom order {order_id} was brought up to date; try again"),
        vec![],
    ))
}

fn create_order(
    steps: &mut Steps,
    settings: &Settings,
    cart: &RenderedCart,
    request: &CheckoutRequest,
    (push_url, validation_url): (String, String),
    payload: CartPayload,
    hash: &str,
) -> Result<Output, Interrupt> {
    let (country, locale) = match market(cart) {
        Ok(market) => market,
        Err(message) => return Ok(error_answer(422, "MARKET_UNKNOWN", message, vec![])),
    };
    if cart.cart_id.len() > 255 {
        // Kustom's merchant_reference1 takes 255 characters.
        return Ok(error_answer(
            422,
            "CART_ID_TOO_LONG",
            "the cart id is longer than Kustom's merchant_reference1 takes",
            vec![],
        ));
    }
    let mut body = json!(payload);
    body["purchase_country"] = json!(country);
    body["locale"] = json!(locale);
    body["merchant_reference1"] = json!(cart.cart_id);
    body["merchant_urls"] = json!({
        "terms": request.terms_url,
        "checkout": request.checkout_url,
        "confirmation": request.confirmation_url,
        "push": push_url,
        "validation": validation_url,
    });
    // Without it Kustom may treat a rejection from the validation callback loosely.
    body["options"] = json!({"require_validate_callback_success": true});

    let reply = steps.http(kustom::create_checkout_order(settings, body)?)?;
    let order: CheckoutOrder = match kustom::classify(&reply) {
        Outcome::Success(body) => match parse(&body, "Kustom order") {
            Ok(order) => order,
            Err(error) => {
                return Ok(error_answer(
                    502,
                    "KUSTOM_REPLY_UNREADABLE",
                    error.message,
                    vec![],
                ))
            }
        },
        Outcome::Transient { reason, .. } => {
            return Ok(error_answer(502, "KUSTOM_UNAVAILABLE", reason, vec![]))
        }
        Outcome::Permanent(error) => {
            return Ok(error_answer(502, "KUSTOM_REFUSED", error.summary(), vec![]))
        }
        Outcome::NotFound | Outcome::ReadOnly => {
            return Ok(error_answer(
                502,
                "KUSTOM_REFUSED",
                "Kustom refused to create the order",
                vec![],
            ))
        }
    };
    let Some(order_id) = order
        .order_id
        .clone()
        .filter(|id| kustom::checked_order_id(id).is_ok())
    else {
        return Ok(error_answer(
            502,
            "KUSTOM_REPLY_UNREADABLE",
            "the created order has no usable order_id",
            vec![],
        ));
    };
    // Store the order and mark its payload as both pending and synced, so the next unchanged
    // mutation does not sync.
    let mut fields_to_set = DynamicFields::new();
    fields_to_set.insert(dynamic_key(fields::ORDER_ID), json!(order_id).into());
    fields_to_set.insert(dynamic_key(fields::PENDING_HASH), json!(hash).into());
    fields_to_set.insert(dynamic_key(fields::SYNC_HASH), json!(hash).into());
    fields_to_set.insert(fields::PENDING_PAYLOAD_KEY.into(), json!(payload).into());
    let store = TicketCommand::SetDynamicFields {
        fields: fields_to_set,
    }
    .to_ticket(&cart.cart_id);
    let log = vec![format!(
        "cart {}: created Kustom order {order_id} ({})",
        cart.cart_id,
        &hash[..12]
    )];
    Ok(snippet_answer(
        &order,
        &order_id,
        "checkout_incomplete",
        vec![store],
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
