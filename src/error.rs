//! Every code the app answers, logs or records, as one closed enum, and the error value of the
//! host contract: `{ "error": { "code", "message" } }`.
//!
//! An `AppError` means the component could not do its job with this input (malformed payload,
//! a cart Kustom would refuse, missing settings). Business outcomes — a Kustom order that is
//! already complete, a refused capture — are not errors: they are effects or an ingress's
//! answer, but they carry a [`Code`] from the same list, so one outcome has one code wherever
//! it shows. docs/error-codes.md lists them for hosts and merchants (a test keeps it complete).

use serde::Serialize;

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $name:ident = $text:literal,)*) => {
        /// One code per outcome. Printed in SCREAMING_SNAKE_CASE (`Code::as_str`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* $name,)*
        }

        impl Code {
            /// Every code, in declaration order (for the docs test).
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $text,)*
                }
            }
        }
    };
}

codes! {
    // --- the input or the host is broken: `{error}` outputs
    /// Malformed or missing input; the message names the path of the bad field.
    BadInput = "BAD_INPUT",
    /// The app's settings are missing or unusable (no setting value is ever quoted).
    BadSettings = "BAD_SETTINGS",
    /// The host answered a call with an error or a reply the app cannot read.
    HostError = "HOST_ERROR",
    /// The input's continuation is not this component's, of another version, or not intact:
    /// run the component from the start (no continuation, no replies).
    ContinuationRefused = "CONTINUATION_REFUSED",
    /// The app could not print its own output (a bug).
    Internal = "INTERNAL",

    // --- the cart cannot become a Kustom order (sync rule, checkout, validation)
    /// The cart's currency is not an ISO 4217 currency.
    UnknownCurrency = "UNKNOWN_CURRENCY",
    /// An amount is beyond what a Kustom order line can carry.
    AmountTooLarge = "AMOUNT_TOO_LARGE",
    /// An item's quantity × unit price − discount is not its total.
    ItemTotalMismatch = "ITEM_TOTAL_MISMATCH",
    /// The cart's total differs from its lines by more than rounding.
    TotalsMismatch = "TOTALS_MISMATCH",
    /// The cart's tax total differs from its lines' tax by more than rounding.
    TaxMismatch = "TAX_MISMATCH",
    /// More lines than Kustom accepts.
    CartTooLarge = "CART_TOO_LARGE",
    /// Gift cards exceed the cart total.
    NegativeOrderAmount = "NEGATIVE_ORDER_AMOUNT",
    /// The cart's locale (or country) does not name a Kustom market.
    MarketUnknown = "MARKET_UNKNOWN",
    /// With shipping in Kustom's iframe, a promotion discounts shipping: Kustom would charge the
    /// chosen option's full price.
    ShippingDiscountInIframe = "SHIPPING_DISCOUNT_IN_IFRAME",

    // --- ingress answers
    /// The request is malformed (route, body, query).
    BadRequest = "BAD_REQUEST",
    /// No such cart (or not yet: the push is retried).
    CartNotFound = "CART_NOT_FOUND",
    /// The cart is completed or rejected.
    CartNotOpen = "CART_NOT_OPEN",
    /// The cart has no items.
    CartEmpty = "CART_EMPTY",
    /// The cart id is longer than Kustom's `merchant_reference1` takes (255).
    CartIdTooLong = "CART_ID_TOO_LONG",
    /// The cart has no Kustom order yet.
    NoKustomOrder = "NO_KUSTOM_ORDER",
    /// Kustom does not know the order (expired, never completed, deleted).
    KustomOrderNotFound = "KUSTOM_ORDER_NOT_FOUND",
    /// Kustom or the host could not be reached or failed (5xx, 429, timeout): retry later.
    KustomUnavailable = "KUSTOM_UNAVAILABLE",
    /// Kustom refused the request for good (a 4xx other than those with a code of their own).
    KustomRefused = "KUSTOM_REFUSED",
    /// Kustom answered something the app cannot read.
    KustomReplyUnreadable = "KUSTOM_REPLY_UNREADABLE",
    /// The order Kustom names is not the cart's current one (replaced, or another tab's).
    OrderNotCurrent = "ORDER_NOT_CURRENT",
    /// The customer has not completed the purchase yet.
    NotComplete = "NOT_COMPLETE",
    /// The order was paid with another amount or currency than the cart's: not completed.
    AmountMismatch = "AMOUNT_MISMATCH",
    /// The cart was completed but Kustom did not take the acknowledgement (Kustom re-pushes).
    AcknowledgeFailed = "ACKNOWLEDGE_FAILED",
    /// The order was paid but the platform refused the customer's address from it (e.g. a
    /// country the cart profile does not allow): not completed, the merchant decides.
    AddressRefused = "ADDRESS_REFUSED",

    // --- validation callback (Kustom shows the customer a text; the code is logged)
    /// The order names no cart (neither `merchant_reference2` nor `merchant_reference1` is a cart id).
    CartReferenceMissing = "CART_REFERENCE_MISSING",
    /// The cart cannot be sent to Kustom as it is now.
    CartNotPayable = "CART_NOT_PAYABLE",
    /// Kustom's order differs from what the cart produces now.
    CartChanged = "CART_CHANGED",
    /// Kustom holds an older payload of the app's own although the cart is synced (a slow
    /// update landed after a newer one): refused, and the newest payload re-asserted.
    KustomOrderBehind = "KUSTOM_ORDER_BEHIND",
    /// Shipping is chosen in Kustom's iframe and the customer chose none.
    ShippingNotChosen = "SHIPPING_NOT_CHOSEN",
    /// The shipping option chosen in Kustom's iframe is not one the cart offers now (or not at
    /// its price), or Kustom reports it in a form the app cannot read.
    ShippingOptionUnknown = "SHIPPING_OPTION_UNKNOWN",

    // --- capture (logged on the payment)
    /// The capture's currency is not the order's.
    CurrencyMismatch = "CURRENCY_MISMATCH",
    /// The order is cancelled, expired or closed: nothing can be captured.
    AuthorizationGone = "AUTHORIZATION_GONE",
    /// Kustom's fraud review rejected the order.
    FraudRejected = "FRAUD_REJECTED",
    /// Kustom's fraud review did not finish in time.
    FraudReviewPending = "FRAUD_REVIEW_PENDING",
    /// More asked than is left authorized.
    AboveRemainingAuthorization = "ABOVE_REMAINING_AUTHORIZATION",
    /// Kustom's own refusal of a capture (`CAPTURE_NOT_ALLOWED`), after one extension.
    CaptureNotAllowed = "CAPTURE_NOT_ALLOWED",
    /// The platform voided the payment's authorization (its order was cancelled): not captured.
    AuthorizationVoided = "AUTHORIZATION_VOIDED",

    // --- refund, cancel, release (logged on the payment)
    /// More to refund than Kustom holds captured and not yet refunded.
    RefundAboveCaptured = "REFUND_ABOVE_CAPTURED",
    /// Kustom's own refusal of a refund (`REFUND_NOT_ALLOWED`).
    RefundNotAllowed = "REFUND_NOT_ALLOWED",
    /// Kustom's own refusal of a cancel (`CANCEL_NOT_ALLOWED`).
    CancelNotAllowed = "CANCEL_NOT_ALLOWED",
    /// Kustom refused to release the remaining authorization (`NOT_ALLOWED`).
    ReleaseNotAllowed = "RELEASE_NOT_ALLOWED",
    /// Captures were still pending on the payment for a day: the authorization was not released.
    CapturesPending = "CAPTURES_PENDING",

    // --- the order number at Kustom (logged on the payment)
    /// The platform's order number cannot be Kustom's `merchant_reference1` (empty, longer than
    /// 255 characters, blank at either end or holding control characters): nothing sent.
    OrderNumberInvalid = "ORDER_NUMBER_INVALID",
    /// Kustom refused to update the order's merchant references (`NOT_ALLOWED`: a cancelled order).
    MerchantReferencesNotAllowed = "MERCHANT_REFERENCES_NOT_ALLOWED",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Tests compare codes with their text.
impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub code: Code,
    pub message: String,
}

impl AppError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
        }
    }

    /// Malformed or missing input at `path` (e.g. `items[2].quantity`).
    pub fn bad_input(path: impl AsRef<str>, problem: impl AsRef<str>) -> Self {
        AppError::new(
            Code::BadInput,
            format!("{}: {}", path.as_ref(), problem.as_ref()),
        )
    }

    /// The host answered a call with an error.
    pub fn host(message: impl Into<String>) -> Self {
        AppError::new(Code::HostError, message)
    }

    pub fn settings(message: impl Into<String>) -> Self {
        AppError::new(Code::BadSettings, message)
    }
}

/// Deserializes `T` from a JSON value, naming the path of the first bad field; an error in
/// the value as a whole is named `what`.
pub fn parse<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    what: &str,
) -> Result<T, AppError> {
    crate::value_de::from_value(value).map_err(|err| {
        // `.` is how serde_path_to_error, which this replaced, printed the root.
        let path = match err.path() {
            "" | "." => what,
            path => path,
        };
        AppError::bad_input(path, err.message())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_print_as_screaming_snake_case_and_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(
                text.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{text}"
            );
            assert!(seen.insert(text), "{text} twice");
            assert_eq!(serde_json::to_value(code).unwrap(), text);
        }
    }

    /// docs/error-codes.md is what hosts and merchants read: every code is there.
    #[test]
    fn every_code_is_documented() {
        let docs = include_str!("../docs/error-codes.md");
        for code in Code::ALL {
            assert!(
                docs.contains(&format!("`{}`", code.as_str())),
                "docs/error-codes.md lacks {code}"
            );
        }
    }
}
