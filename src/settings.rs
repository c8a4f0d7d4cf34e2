//! The app's settings (registry `apps/kustom/settings/<name>`), passed to every component as
//! `settings`. The key names are our choice ([?] in the platform notes); `manifest.toml`
//! declares them.
//!
//! Settings hold secrets (an API key, a password): **no error names a setting's value**, only
//! the setting and what is wrong with it, so that nothing secret reaches a log.

use crate::error::AppError;
use crate::error::Code;
use serde::Deserialize;

pub const PLAYGROUND_API: &str = "https://api.playground.kustom.co";
pub const PRODUCTION_API: &str = "https://api.kustom.co";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// A Kustom API key (`kco_test_api_…` / `kco_live_api_…`).
    #[serde(default)]
    pub api_key: Option<String>,
    /// Optional with an API key (`<MID>-<suffix>`); required with a legacy password.
    #[serde(default)]
    pub username: Option<String>,
    /// Legacy Klarna-era shared secret, used with `username`.
    #[serde(default)]
    pub password: Option<String>,
    /// `playground` (default) or `production`.
    #[serde(default)]
    pub environment: Option<String>,
    /// Overrides the environment's API host; for an emulator or a proxy, never needed in
    /// production.
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// The shop's public base URL that push and validation URLs are built from.
    #[serde(default)]
    pub public_base_url: Option<String>,
}

impl Settings {
    /// The `settings` beside a component's input (the defaults when the host sent none).
    pub fn from_input(input: &serde_json::Value) -> Result<Settings, AppError> {
        match input.get("settings") {
            // The parser's own message quotes the offending value (`invalid type: string
            // "kco_live_api_…"`): keep only where it is.
            Some(settings) => crate::value_de::from_value(settings).map_err(|error| {
                let (path, problem) = match error.path() {
                    "" | "." => ("settings".to_string(), "must be an object"),
                    path => (format!("settings.{path}"), "must be text"),
                };
                AppError::bad_input(
                    path,
                    format!("{problem} (the value is not shown: settings hold secrets)"),
                )
            }),
            None => Ok(Settings::default()),
        }
    }

    /// The Kustom API base URL, without a trailing slash: https, or plain http to the
    /// loopback only (a local emulator) — the `Authorization` header travels with every call.
    pub fn api_base_url(&self) -> Result<String, AppError> {
        if let Some(url) = self
            .api_base_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            let url = url.trim().trim_end_matches('/');
            if !is_base_url(url, "https://") && !is_loopback_http(url) {
                return Err(AppError::new(Code::BadSettings,
                    "apiBaseUrl must be an https URL without query or fragment (plain http only to 127.0.0.1 or localhost): the credentials travel with every call",
                ));
            }
            return Ok(url.to_string());
        }
        match self.environment.as_deref().map(str::trim) {
            None | Some("") | Some("playground") => Ok(PLAYGROUND_API.into()),
            Some("production") => Ok(PRODUCTION_API.into()),
            Some(_) => Err(AppError::new(
                Code::BadSettings,
                "environment must be \"playground\" or \"production\"",
            )),
        }
    }

    /// The `Authorization` header value (Kustom API reference §1.2):
    /// an API key alone is sent raw as `Basic <key>`; a username with a key or a legacy
    /// password is sent as `Basic base64(username:secret)`.
    pub fn authorization(&self) -> Result<String, AppError> {
        let non_empty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let (key, user, password) = (
            non_empty(&self.api_key),
            non_empty(&self.username),
            non_empty(&self.password),
        );
        let basic = |user: &str, secret: &str| {
            let encoded = base64(format!("{user}:{secret}").as_bytes());
            format!("Basic {encoded}")
        };
        match (key, user, password) {
            (Some(key), None, None) => Ok(format!("Basic {key}")),
            (Some(key), Some(user), None) => Ok(basic(&user, &key)),
            (None, Some(user), Some(password)) => Ok(basic(&user, &password)),
            (Some(_), _, Some(_)) => Err(AppError::new(
                Code::BadSettings,
                "set either apiKey or password, not both",
            )),
            _ => Err(AppError::new(
                Code::BadSettings,
                "Kustom credentials are missing: set apiKey (optionally with username), or username and password",
            )),
        }
    }
}

/// `scheme://host[:port][/path]`: a host, no whitespace, no query or fragment (the app appends
/// its own paths), within Kustom's URL length.
pub fn is_base_url(url: &str, scheme: &str) -> bool {
    url.strip_prefix(scheme).is_some_and(|rest| {
        !rest.is_empty()
            && !rest.starts_with('/')
            && url.len() <= 1000
            && !url.contains(|c: char| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
    })
}

/// Plain http to the loopback only: a local host talking to the Kustom emulator.
pub fn is_loopback_http(url: &str) -> bool {
    ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|prefix| {
            url.strip_prefix(prefix).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with(':') || rest.starts_with('/')
            })
        })
        && is_base_url(url, "http://")
}

/// Standard base64 with padding (RFC 4648 §4), for the `Basic` credentials: the only encoding
/// the app needs, in a few lines rather than a crate's generic engines.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0u32, |group, (i, &byte)| {
            group | u32::from(byte) << (16 - 8 * i)
        });
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(group >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_test_vectors() {
        // RFC 4648 §10
        for (text, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(text.as_bytes()), encoded);
        }
        let all: Vec<u8> = (0..=255).collect();
        assert!(base64(&all).ends_with("+/w=="));
        assert!(base64(&all).starts_with("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"));
    }

    fn settings(key: Option<&str>, user: Option<&str>, password: Option<&str>) -> Settings {
        Settings {
            api_key: key.map(Into::into),
            username: user.map(Into::into),
            password: password.map(Into::into),
            ..Settings::default()
        }
    }

    #[test]
    fn authorization_forms() {
        let raw = settings(Some("kco_test_api_abc"), None, None);
        assert_eq!(raw.authorization().unwrap(), "Basic kco_test_api_abc");
        // base64("K123-x:kco_test_api_abc")
        let with_user = settings(Some("kco_test_api_abc"), Some("K123-x"), None);
        assert_eq!(
            with_user.authorization().unwrap(),
            "Basic SzEyMy14Omtjb190ZXN0X2FwaV9hYmM="
        );
        let legacy = settings(None, Some("PK01931_x"), Some("s3cret"));
        assert_eq!(
            legacy.authorization().unwrap(),
            "Basic UEswMTkzMV94OnMzY3JldA=="
        );
        assert_eq!(
            settings(None, None, None).authorization().unwrap_err().code,
            "BAD_SETTINGS"
        );
        assert_eq!(
            settings(None, Some("u"), None)
                .authorization()
                .unwrap_err()
                .code,
            "BAD_SETTINGS"
        );
        assert_eq!(
            settings(Some("k"), None, Some("p"))
                .authorization()
                .unwrap_err()
                .code,
            "BAD_SETTINGS"
        );
    }

    #[test]
    fn base_url_from_environment_or_override() {
        let mut s = Settings::default();
        assert_eq!(s.api_base_url().unwrap(), PLAYGROUND_API);
        s.environment = Some("production".into());
        assert_eq!(s.api_base_url().unwrap(), PRODUCTION_API);
        s.api_base_url = Some("http://127.0.0.1:8080/".into());
        assert_eq!(s.api_base_url().unwrap(), "http://127.0.0.1:8080");
        s.api_base_url = Some("https://proxy.example/kustom/".into());
        assert_eq!(s.api_base_url().unwrap(), "https://proxy.example/kustom");
        for refused in [
            "http://api.kustom.co",
            "http://127.0.0.1.evil.example",
            "https://",
            "https://x?y",
        ] {
            s.api_base_url = Some(refused.into());
            let error = s.api_base_url().unwrap_err();
            assert_eq!(error.code, "BAD_SETTINGS");
            assert!(!error.message.contains(refused), "{error}");
        }
        s.api_base_url = None;
        s.environment = Some("live".into());
        let error = s.api_base_url().unwrap_err();
        assert_eq!(error.code, "BAD_SETTINGS");
        assert!(!error.message.contains("live"), "{error}");
    }
}
