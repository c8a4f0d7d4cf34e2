//! The error value of the host contract: `{ "error": { "code", "message" } }`.
//!
//! An `AppError` means the component could not do its job with this input (malformed payload,
//! a cart Kustom would refuse, missing settings). Business outcomes — a Kustom order that is
//! already complete, a refused capture — are not errors: they are effects.

use serde::Serialize;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppError {
    pub code: String,
    pub message: String,
}

impl AppError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        AppError {
            code: code.into(),
            message: message.into(),
        }
    }

    /// Malformed or missing input at `path` (e.g. `items[2].quantity`).
    pub fn bad_input(path: impl AsRef<str>, problem: impl AsRef<str>) -> Self {
        AppError::new(
            "BAD_INPUT",
            format!("{}: {}", path.as_ref(), problem.as_ref()),
        )
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
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
