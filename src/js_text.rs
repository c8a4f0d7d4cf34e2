//! JSON text as a JavaScript engine prints it, made parseable.
//!
//! A JS string is UTF-16 and may hold a lone surrogate (half of a pair, e.g. from cutting a
//! string between the halves of an emoji). `JSON.stringify` prints one as an escape such as
//! `\ud83d`, which strict JSON parsers — serde_json among them — refuse, and the whole input
//! with it. The boundary promises what a `TextEncoder` does with such a string instead: each
//! lone surrogate becomes U+FFFD (the replacement character), everything else stays as it is.

use std::borrow::Cow;

/// `text` with every escaped lone surrogate replaced by `\ufffd`; surrogate pairs are kept.
/// Borrowed, without a copy, when there is none (the usual case: one scan of the text).
pub fn replace_lone_surrogates(text: &str) -> Cow<'_, str> {
    // One pass over the bytes for `\u` then `d` or `D` (two `str::contains` searches were 3 % of
    // the sync rule's time).
    let bytes = text.as_bytes();
    let surrogate_maybe = bytes.iter().enumerate().any(|(at, &byte)| {
        byte == b'\\'
            && bytes.get(at + 1) == Some(&b'u')
            && bytes.get(at + 2).is_some_and(|&d| d | 0x20 == b'd')
    });
    if !surrogate_maybe {
        return Cow::Borrowed(text);
    }
    let unit = |at: usize| -> Option<u32> {
        // `\uXXXX` at `at`: the code unit, if it is one.
        let escape = bytes.get(at..at + 6)?;
        if escape[0] != b'\\' || escape[1] != b'u' {
            return None;
        }
        let hex = std::str::from_utf8(&escape[2..]).ok()?;
        u32::from_str_radix(hex, 16).ok()
    };
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut at) = (0, 0);
    // Backslashes occur only inside strings, and each starts an escape: walking escape by
    // escape never mistakes an escaped backslash followed by `ud800` for a surrogate.
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        let Some(code) = unit(at) else {
            at += 2; // a two-character escape (`\"`, `\\`, `\n`, …)
            continue;
        };
        let paired = (0xD800..=0xDBFF).contains(&code)
            && unit(at + 6).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low));
        if paired {
            at += 12;
        } else if (0xD800..=0xDFFF).contains(&code) {
            // Every position here is at an ASCII byte: slicing cannot split a character.
            out.push_str(&text[copied..at]);
            out.push_str("\\ufffd");
            at += 6;
            copied = at;
        } else {
            at += 6;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> serde_json::Value {
        serde_json::from_str(&replace_lone_surrogates(text)).unwrap()
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(parsed(r#""a\ud83db""#), "a\u{fffd}b");
        assert_eq!(parsed(r#""\ude00""#), "\u{fffd}");
        assert_eq!(parsed(r#""\ud83d\ud83d\ude00""#), "\u{fffd}😀");
        assert_eq!(parsed(r#""\ude00\ud83d""#), "\u{fffd}\u{fffd}");
        assert_eq!(
            parsed(r#"{"\udfff": "\uD800"}"#),
            serde_json::json!({"\u{fffd}": "\u{fffd}"})
        );
        assert_eq!(parsed(r#""é\ud800€""#), "é\u{fffd}€");
    }

    #[test]
    fn everything_else_is_left_alone() {
        for text in [
            r#""plain""#,
            r#""\ud83d\ude00 pair""#,
            r#""escaped backslash \\ud800 is text""#,
            r#""\\\ud83d\ude00""#,
            r#""\u00e9 \n \" \\""#,
            r#""trailing \ud8""#,
        ] {
            assert!(
                matches!(replace_lone_surrogates(text), Cow::Borrowed(_)),
                "{text}"
            );
        }
        assert_eq!(parsed(r#""\\ud800""#), "\\ud800");
    }
}
