//! What the ingresses share: their HTTP answers, and the cart their route names.

use crate::cart::RenderedCart;
use crate::cart_facts::CartFacts;
use crate::error::Code;
use crate::host::{Effect, Interrupt, Output, Response, Step, Steps};
use serde_json::{json, Value};

/// An ingress answer: `{statusCode, content}`, effects to apply, and the log lines that explain it.
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

/// An error answer `{error: {code, message}}`, as the storefront expects, logged.
pub fn error_answer(status_code: u16, code: Code, message: impl Into<String>) -> Output {
    error_answer_with(status_code, code, message, vec![])
}

/// An error answer that also records something (on the cart, say).
pub fn error_answer_with(
    status_code: u16,
    code: Code,
    message: impl Into<String>,
    effects: Vec<Effect>,
) -> Output {
    let message = message.into();
    let log = vec![format!("{status_code} {code}: {message}")];
    answer(
        status_code,
        json!({"error": {"code": code, "message": message}}),
        effects,
        log,
    )
}

/// The cart named by the route (`route.cartId`), rendered; a 400 when the route names none, a
/// 404 when there is no such cart. Shared by the storefront's ingresses (checkout, confirm).
pub fn route_cart(steps: &mut Steps, input: &Value) -> Step<RenderedCart> {
    let cart_id = route_cart_id(input)?;
    match steps.render_cart(cart_id)? {
        Some(rendered) => Ok(rendered.cart),
        None => Err(no_cart(cart_id)),
    }
}

/// The same cart, known by its [`CartFacts`] alone (confirm: the completion path's view).
pub fn route_cart_facts(steps: &mut Steps, input: &Value) -> Step<CartFacts> {
    let cart_id = route_cart_id(input)?;
    steps.cart_facts(cart_id)?.ok_or_else(|| no_cart(cart_id))
}

fn route_cart_id(input: &Value) -> Result<&str, Interrupt> {
    let cart_id = input["route"]["cartId"]
        .as_str()
        .filter(|id| !id.is_empty());
    cart_id.ok_or_else(|| error_answer(400, Code::BadRequest, "the route has no cartId").into())
}

fn no_cart(cart_id: &str) -> Interrupt {
    error_answer(404, Code::CartNotFound, format!("no cart {cart_id}")).into()
}
