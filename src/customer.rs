//! The customer's address and contact, from the Kustom order (never from a request), as the
//! ticket commands that put them on the cart before it completes (issue 10).
//!
//! Kustom collects the addresses in its iframe; the app copies them onto the cart in the same
//! message batch that links the payment and completes the cart, so the order Commerce creates
//! from the cart is never half-filled. Defined outcomes (docs/host-contract.md, "customer data"):
//! - **shipping address** ← Kustom's `shipping_address`, else its `billing_address` (Kustom
//!   ships to the billing address unless the customer gave another one);
//! - **billing address** ← `billing_address`, written as `invoiceRecipient` (the SDK's name since
//!   May 2026; the hook page's older `invoiceAddress` is the same thing);
//! - **email, phone** ← the billing address's, else the shipping address's;
//! - a part Kustom did not give (or gave as a non-string) is left out, never invented; an
//!   address with none of its parts is no address;
//! - every text is trimmed, control characters become spaces, and a text longer than
//!   [`MAX_CHARS`] characters is cut there (at a character, never inside one) and noted;
//! - a country that is not two ASCII letters is left out of the address and noted (the
//!   platform checks the rest against the cart profile: a refusal there is the completion
//!   path's `ADDRESS_REFUSED`, never a completed cart without the address).

use serde_json::{json, Map, Value};

/// Longer than any field Kustom keeps (names and email 100, city 200): only a reply Kustom
/// would not send reaches it.
pub const MAX_CHARS: usize = 255;

/// Ticket commands (Commerce, [?] command names mirror the cart ingresses `address`, `email`,
/// `phone`; see docs/host-contract.md).
pub const SET_ADDRESS: &str = "setAddress";
pub const SET_EMAIL: &str = "setEmail";
pub const SET_PHONE: &str = "setPhone";

/// What the cart gets from the order: the commands, and notes on what was cut or left out.
#[derive(Debug, Default, PartialEq)]
pub struct CustomerData {
    pub commands: Vec<Value>,
    pub notes: Vec<String>,
}

impl CustomerData {
    /// What the cart gets, for the log: which parts, never their text (a log is no place for
    /// a customer's address), e.g. `shipping address (SE), billing address (SE), email, phone`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for command in &self.commands {
            let country = |key: &str| match command[key]["countryCode"].as_str() {
                Some(code) => format!(" ({code})"),
                None => String::new(),
            };
            match command["type"].as_str() {
                Some(SET_ADDRESS) => {
                    if command.get("address").is_some() {
                        parts.push(format!("shipping address{}", country("address")));
                    }
                    if command.get("invoiceRecipient").is_some() {
                        parts.push(format!("billing address{}", country("invoiceRecipient")));
                    }
                }
                Some(SET_EMAIL) => parts.push("email".into()),
                Some(SET_PHONE) => parts.push("phone".into()),
                _ => {}
            }
        }
        if parts.is_empty() {
            "no address or contact from Kustom".into()
        } else {
            parts.join(", ")
        }
    }
}

/// The commands for the order's `billing_address` and `shipping_address` (either may be absent
/// or malformed: a defined outcome each, never a failure).
pub fn from_order(billing: Option<&Value>, shipping: Option<&Value>) -> CustomerData {
    let mut notes = Vec::new();
    let billing_address = billing.and_then(|a| address(a, "billing", &mut notes));
    let shipping_address = shipping
        .and_then(|a| address(a, "shipping", &mut notes))
        .or_else(|| billing_address.clone());
    let contact = |key: &str, notes: &mut Vec<String>| {
        [("billing", billing), ("shipping", shipping)]
            .into_iter()
            .find_map(|(which, a)| a.and_then(|a| text(a, key, which, notes)))
    };
    let email = contact("email", &mut notes);
    let phone = contact("phone", &mut notes);

    let mut commands = Vec::new();
    if shipping_address.is_some() || billing_address.is_some() {
        let mut command = Map::new();
        command.insert("type".into(), json!(SET_ADDRESS));
        if let Some(address) = shipping_address {
            command.insert("address".into(), Value::Object(address));
        }
        if let Some(address) = billing_address {
            command.insert("invoiceRecipient".into(), Value::Object(address));
        }
        commands.push(Value::Object(command));
    }
    if let Some(email) = email {
        commands.push(json!({"type": SET_EMAIL, "email": email}));
    }
    if let Some(phone) = phone {
        commands.push(json!({"type": SET_PHONE, "phone": phone}));
    }
    CustomerData { commands, notes }
}

/// Kustom's address (§2.6) as Commerce's `Address` `{name, careOf, attention, addressLine1,
/// addressLine2, city, state, postalCode, countryCode}`; `None` when it has none of them.
fn address(kustom: &Value, which: &str, notes: &mut Vec<String>) -> Option<Map<String, Value>> {
    if !kustom.is_object() {
        notes.push(format!("the {which} address is not an object: left out"));
        return None;
    }
    let mut t = |key: &str| text(kustom, key, which, notes);
    let person = join(&[t("given_name"), t("family_name")], " ");
    let organization = t("organization_name");
    let (name, attention) = match (organization, person) {
        // A company: the company is the name, the person the attention line.
        (Some(organization), person) => (Some(organization), person.or_else(|| t("attention"))),
        (None, person) => (person, t("attention")),
    };
    let street = t("street_address").or_else(|| {
        join(
            &[t("street_name"), t("street_number"), t("house_extension")],
            " ",
        )
    });
    let mut out = Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            out.insert(key.into(), json!(value));
        }
    };
    put("name", name);
    put("careOf", t("care_of"));
    put("attention", attention);
    put("addressLine1", street);
    put("addressLine2", t("street_address2"));
    put("city", t("city"));
    put("state", t("region"));
    put("postalCode", t("postal_code"));
    match t("country") {
        Some(country) if country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic()) => {
            put("countryCode", Some(country.to_ascii_uppercase()))
        }
        Some(_) => notes.push(format!(
            "the {which} address's country is not a two-letter code: left out"
        )),
        None => {}
    }
    (!out.is_empty()).then_some(out)
}

/// A text field, cleaned; `None` when absent, not a string, or blank.
fn text(object: &Value, key: &str, which: &str, notes: &mut Vec<String>) -> Option<String> {
    let raw = object.get(key)?;
    let Some(raw) = raw.as_str() else {
        if !raw.is_null() {
            notes.push(format!("the {which} {key} is not text: left out"));
        }
        return None;
    };
    let cleaned = cleaned(raw)?;
    if cleaned.chars().count() > MAX_CHARS {
        notes.push(format!(
            "the {which} {key} is longer than {MAX_CHARS} characters: cut"
        ));
        return Some(cleaned.chars().take(MAX_CHARS).collect());
    }
    Some(cleaned)
}

/// Text from Kustom as the platform may keep it: control characters become spaces, trimmed;
/// `None` when nothing is left. Not cut: the caller decides (and says) where.
pub fn cleaned(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

/// The other way: what the shop already knows (the cart's `address` and `email`) as the
/// `billing_address` Kustom's iframe starts from, at checkout. Kustom ignores merchant updates
/// once the customer has typed, so only the create carries it. Commerce's single `name` is not
/// split into Kustom's given and family names (no reliable rule): the customer types them. A
/// part longer than Kustom keeps (§6.2: email and street 100, postal code 10, city 200) or not
/// text is left out, never cut: a cut address is a wrong one, and Kustom refuses the create
/// over it. `None` when nothing is left (Kustom errs on an empty address object).
pub fn prefill(address: Option<&Value>, email: Option<&Value>) -> Option<Value> {
    let mut out = Map::new();
    let mut put = |key: &str, value: Option<&Value>, max: usize| {
        let text = value.and_then(Value::as_str).map(str::trim).unwrap_or("");
        let clean = !text.is_empty() && !text.chars().any(char::is_control);
        if clean && text.chars().count() <= max {
            out.insert(key.into(), json!(text));
        }
    };
    put("email", email, 100);
    if let Some(address) = address.filter(|a| a.is_object()) {
        put("street_address", address.get("addressLine1"), 100);
        put("street_address2", address.get("addressLine2"), 100);
        put("postal_code", address.get("postalCode"), 10);
        put("city", address.get("city"), 200);
        put("region", address.get("state"), 200);
        put("country", address.get("countryCode"), 2);
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn join(parts: &[Option<String>], separator: &str) -> Option<String> {
    let parts: Vec<&str> = parts.iter().flatten().map(String::as_str).collect();
    (!parts.is_empty()).then(|| parts.join(separator))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swedish() -> Value {
        json!({"given_name": "Astrid", "family_name": "Lindgren", "street_address": "Drottninggatan 1",
               "postal_code": "111 51", "city": "Stockholm", "country": "se",
               "email": "astrid@example.se", "phone": "+46701234567"})
    }

    #[test]
    fn billing_only_ships_to_billing_and_gives_contact() {
        let data = from_order(Some(&swedish()), None);
        assert!(data.notes.is_empty());
        let expected = json!({"name": "Astrid Lindgren", "addressLine1": "Drottninggatan 1",
            "city": "Stockholm", "postalCode": "111 51", "countryCode": "SE"});
        assert_eq!(
            data.commands,
            vec![
                json!({"type": "setAddress", "address": expected, "invoiceRecipient": expected}),
                json!({"type": "setEmail", "email": "astrid@example.se"}),
                json!({"type": "setPhone", "phone": "+46701234567"}),
            ]
        );
        assert_eq!(
            data.summary(),
            "shipping address (SE), billing address (SE), email, phone"
        );
    }

    #[test]
    fn separate_shipping_address_and_street_parts() {
        let shipping = json!({"given_name": "Karl", "street_name": "Hauptstraße", "street_number": "5",
            "house_extension": "a", "postal_code": "10115", "city": "Berlin", "country": "DE",
            "organization_name": "Acme GmbH"});
        let data = from_order(Some(&swedish()), Some(&shipping));
        assert_eq!(
            data.commands[0]["address"],
            json!({"name": "Acme GmbH", "attention": "Karl", "addressLine1": "Hauptstraße 5 a",
                   "city": "Berlin", "postalCode": "10115", "countryCode": "DE"})
        );
        assert_eq!(data.commands[0]["invoiceRecipient"]["city"], "Stockholm");
    }

    #[test]
    fn missing_and_malformed_parts_are_left_out_never_invented() {
        assert_eq!(from_order(None, None), CustomerData::default());
        assert_eq!(
            from_order(None, None).summary(),
            "no address or contact from Kustom"
        );
        let data = from_order(Some(&json!({"country": "se"})), Some(&json!("nonsense")));
        assert_eq!(
            data.commands,
            vec![
                json!({"type": "setAddress", "address": {"countryCode": "SE"},
                        "invoiceRecipient": {"countryCode": "SE"}})
            ]
        );
        assert_eq!(
            data.notes,
            vec!["the shipping address is not an object: left out"]
        );
        let odd = json!({"given_name": 7, "city": "  ", "country": "Sverige", "email": null});
        let data = from_order(Some(&odd), None);
        assert!(data.commands.is_empty(), "{:?}", data.commands);
        assert_eq!(
            data.notes,
            vec![
                "the billing given_name is not text: left out",
                "the billing address's country is not a two-letter code: left out"
            ]
        );
    }

    #[test]
    fn prefill_gives_kustom_what_the_shop_knows_within_its_limits() {
        let address = json!({"name": "Anna Andersson", "addressLine1": "Storgatan 1",
            "postalCode": "11122", "city": "Stockholm", "countryCode": "SE"});
        assert_eq!(
            prefill(Some(&address), Some(&json!("anna@example.se"))),
            Some(
                json!({"email": "anna@example.se", "street_address": "Storgatan 1",
                        "postal_code": "11122", "city": "Stockholm", "country": "SE"})
            )
        );
        assert_eq!(prefill(None, None), None);
        assert_eq!(prefill(Some(&json!({})), Some(&Value::Null)), None);
        let odd = json!({"postalCode": "12345678901", "city": 7, "addressLine1": "a\nb",
                         "countryCode": "Sverige"});
        assert_eq!(prefill(Some(&odd), Some(&json!("x".repeat(101)))), None);
    }

    #[test]
    fn long_and_control_texts_are_cleaned_at_a_character() {
        let long = "å".repeat(300); // two bytes each: cutting by bytes would split one
        let data = from_order(
            Some(&json!({"city": long, "given_name": "A\u{0}\nB", "country": "SE"})),
            None,
        );
        let city = data.commands[0]["address"]["city"].as_str().unwrap();
        assert_eq!(city.chars().count(), MAX_CHARS);
        assert_eq!(data.commands[0]["address"]["name"], "A  B");
        assert_eq!(
            data.notes,
            vec!["the billing city is longer than 255 characters: cut"]
        );
    }
}
