//! Minor-unit exponents for ISO 4217 currency codes.
//!
//! The table below holds every active currency code of ISO 4217 "list one"
//! (current funds and currencies, as published by SIX Financial Information
//! on behalf of the ISO 4217 maintenance agency) together with its minor-unit
//! digits (`CcyMnrUnts`): 2 for SEK (1 krona = 100 öre), 0 for JPY, 3 for KWD.
//! Fund codes that list one gives a numeric minor unit (BOV, CHE, CHW, CLF,
//! COU, MXV, USN, UYI, UYW) are included. Codes whose minor unit is "N.A."
//! (precious metals XAU/XAG/XPT/XPD, XDR, XSU, XUA, the bond-market units
//! XBA-XBD, the testing code XTS and "no currency" XXX) are deliberately left
//! out: they are not valid purchase currencies.
//!
//! Withdrawn codes (HRK, SLL, ZWL, VEF, MRO, STD, BYR, ...) are not included.
//! A few codes are kept during their ISO changeover period; each is marked.

/// ISO 4217 list one codes and their minor-unit digits, sorted by code so that
/// lookups can binary-search it.
const CURRENCIES: &[([u8; 3], u8)] = &[
    (*b"AED", 2),
    (*b"AFN", 2),
    (*b"ALL", 2),
    (*b"AMD", 2),
    // Replaced by XCG on 2025-03-31; kept while list one still carries it for the changeover.
    (*b"ANG", 2),
    (*b"AOA", 2),
    (*b"ARS", 2),
    (*b"AUD", 2),
    (*b"AWG", 2),
    (*b"AZN", 2),
    (*b"BAM", 2),
    (*b"BBD", 2),
    (*b"BDT", 2),
    // Bulgaria moves to EUR in 2026; kept while list one still carries it.
    (*b"BGN", 2),
    (*b"BHD", 3),
    (*b"BIF", 0),
    (*b"BMD", 2),
    (*b"BND", 2),
    (*b"BOB", 2),
    (*b"BOV", 2),
    (*b"BRL", 2),
    (*b"BSD", 2),
    (*b"BTN", 2),
    (*b"BWP", 2),
    (*b"BYN", 2),
    (*b"BZD", 2),
    (*b"CAD", 2),
    (*b"CDF", 2),
    (*b"CHE", 2),
    (*b"CHF", 2),
    (*b"CHW", 2),
    (*b"CLF", 4),
    (*b"CLP", 0),
    (*b"CNY", 2),
    (*b"COP", 2),
    (*b"COU", 2),
    (*b"CRC", 2),
    // No longer issued by Cuba, but still in list one.
    (*b"CUC", 2),
    (*b"CUP", 2),
    (*b"CVE", 2),
    (*b"CZK", 2),
    (*b"DJF", 0),
    (*b"DKK", 2),
    (*b"DOP", 2),
    (*b"DZD", 2),
    (*b"EGP", 2),
    (*b"ERN", 2),
    (*b"ETB", 2),
    (*b"EUR", 2),
    (*b"FJD", 2),
    (*b"FKP", 2),
    (*b"GBP", 2),
    (*b"GEL", 2),
    (*b"GHS", 2),
    (*b"GIP", 2),
    (*b"GMD", 2),
    (*b"GNF", 0),
    (*b"GTQ", 2),
    (*b"GYD", 2),
    (*b"HKD", 2),
    (*b"HNL", 2),
    (*b"HTG", 2),
    (*b"HUF", 2),
    (*b"IDR", 2),
    (*b"ILS", 2),
    (*b"INR", 2),
    (*b"IQD", 3),
    (*b"IRR", 2),
    (*b"ISK", 0),
    (*b"JMD", 2),
    (*b"JOD", 3),
    (*b"JPY", 0),
    (*b"KES", 2),
    (*b"KGS", 2),
    (*b"KHR", 2),
    (*b"KMF", 0),
    (*b"KPW", 2),
    (*b"KRW", 0),
    (*b"KWD", 3),
    (*b"KYD", 2),
    (*b"KZT", 2),
    (*b"LAK", 2),
    (*b"LBP", 2),
    (*b"LKR", 2),
    (*b"LRD", 2),
    (*b"LSL", 2),
    (*b"LYD", 3),
    (*b"MAD", 2),
    (*b"MDL", 2),
    (*b"MGA", 2),
    (*b"MKD", 2),
    (*b"MMK", 2),
    (*b"MNT", 2),
    (*b"MOP", 2),
    (*b"MRU", 2),
    (*b"MUR", 2),
    (*b"MVR", 2),
    (*b"MWK", 2),
    (*b"MXN", 2),
    (*b"MXV", 2),
    (*b"MYR", 2),
    (*b"MZN", 2),
    (*b"NAD", 2),
    (*b"NGN", 2),
    (*b"NIO", 2),
    (*b"NOK", 2),
    (*b"NPR", 2),
    (*b"NZD", 2),
    (*b"OMR", 3),
    (*b"PAB", 2),
    (*b"PEN", 2),
    (*b"PGK", 2),
    (*b"PHP", 2),
    (*b"PKR", 2),
    (*b"PLN", 2),
    (*b"PYG", 0),
    (*b"QAR", 2),
    (*b"RON", 2),
    (*b"RSD", 2),
    (*b"RUB", 2),
    (*b"RWF", 0),
    (*b"SAR", 2),
    (*b"SBD", 2),
    (*b"SCR", 2),
    (*b"SDG", 2),
    (*b"SEK", 2),
    (*b"SGD", 2),
    (*b"SHP", 2),
    // Redenominated leone; the old SLL is left out.
    (*b"SLE", 2),
    (*b"SOS", 2),
    (*b"SRD", 2),
    (*b"SSP", 2),
    (*b"STN", 2),
    (*b"SVC", 2),
    (*b"SYP", 2),
    (*b"SZL", 2),
    (*b"THB", 2),
    (*b"TJS", 2),
    (*b"TMT", 2),
    (*b"TND", 3),
    (*b"TOP", 2),
    (*b"TRY", 2),
    (*b"TTD", 2),
    (*b"TWD", 2),
    (*b"TZS", 2),
    (*b"UAH", 2),
    (*b"UGX", 0),
    (*b"USD", 2),
    (*b"USN", 2),
    (*b"UYI", 0),
    (*b"UYU", 2),
    (*b"UYW", 4),
    (*b"UZS", 2),
    // Digital bolivar, alongside VES.
    (*b"VED", 2),
    (*b"VES", 2),
    (*b"VND", 0),
    (*b"VUV", 0),
    (*b"WST", 2),
    (*b"XAF", 0),
    (*b"XCD", 2),
    // Caribbean guilder, replaces ANG from 2025-03-31.
    (*b"XCG", 2),
    (*b"XOF", 0),
    (*b"XPF", 0),
    (*b"YER", 2),
    (*b"ZAR", 2),
    (*b"ZMW", 2),
    // Zimbabwe Gold, replaced ZWL in 2024.
    (*b"ZWG", 2),
];

/// Number of minor-unit digits of the active ISO 4217 currency `code`, e.g.
/// `Some(2)` for `"SEK"`, `Some(0)` for `"JPY"`, `Some(3)` for `"KWD"`.
///
/// `code` must be exactly three ASCII upper-case letters. Returns `None` for
/// anything else, for unknown or withdrawn codes, and for the non-currency
/// codes (metals, XDR, XSU, XUA, XBA-XBD, XTS, XXX).
pub fn minor_unit_exponent(code: &str) -> Option<u32> {
    let code: [u8; 3] = code.as_bytes().try_into().ok()?;
    if !code.iter().all(u8::is_ascii_uppercase) {
        return None;
    }
    CURRENCIES
        .binary_search_by(|(c, _)| c.cmp(&code))
        .ok()
        .map(|i| u32::from(CURRENCIES[i].1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_digit_codes() {
        for code in [
            "SEK", "EUR", "USD", "GBP", "NOK", "DKK", "CHF", "ZWG", "SLE", "VES", "VED",
        ] {
            assert_eq!(minor_unit_exponent(code), Some(2), "{code}");
        }
        for code in ["STN", "MRU", "XCG", "AED", "ZMW", "HUF", "IDR", "TWD"] {
            assert_eq!(minor_unit_exponent(code), Some(2), "{code}");
        }
    }

    #[test]
    fn zero_digit_codes() {
        for code in [
            "JPY", "KRW", "ISK", "CLP", "VND", "UGX", "XAF", "XOF", "XPF", "PYG",
        ] {
            assert_eq!(minor_unit_exponent(code), Some(0), "{code}");
        }
    }

    #[test]
    fn three_digit_codes() {
        for code in ["BHD", "KWD", "JOD", "OMR", "TND", "IQD", "LYD"] {
            assert_eq!(minor_unit_exponent(code), Some(3), "{code}");
        }
    }

    #[test]
    fn four_digit_codes() {
        for code in ["CLF", "UYW"] {
            assert_eq!(minor_unit_exponent(code), Some(4), "{code}");
        }
    }

    #[test]
    fn first_and_last_entries() {
        assert_eq!(minor_unit_exponent("AED"), Some(2));
        assert_eq!(minor_unit_exponent("ZWG"), Some(2));
    }

    #[test]
    fn malformed_codes_are_rejected() {
        for code in [
            "sek", "Sek", "eur", "jpy", "", "S", "SE", "SEKK", " SEK", "SEK ", "S1K", "ÅÄÖ",
        ] {
            assert_eq!(minor_unit_exponent(code), None, "{code:?}");
        }
    }

    #[test]
    fn unknown_and_withdrawn_codes_are_rejected() {
        for code in [
            "AAA", "ZZZ", "ABC", "HRK", "SLL", "ZWL", "VEF", "MRO", "STD", "BYR", "DEM",
        ] {
            assert_eq!(minor_unit_exponent(code), None, "{code}");
        }
    }

    #[test]
    fn non_currency_codes_are_rejected() {
        for code in [
            "XAU", "XAG", "XPT", "XPD", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD", "XTS",
            "XXX",
        ] {
            assert_eq!(minor_unit_exponent(code), None, "{code}");
        }
    }

    #[test]
    fn table_is_sorted_without_duplicates() {
        for pair in CURRENCIES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{:?} !< {:?}", pair[0].0, pair[1].0);
        }
    }

    #[test]
    fn table_entries_are_well_formed() {
        for (code, digits) in CURRENCIES {
            assert!(code.iter().all(u8::is_ascii_uppercase), "{code:?}");
            assert!(matches!(digits, 0 | 2 | 3 | 4), "{code:?}: {digits}");
        }
    }

    #[test]
    fn every_table_entry_is_found() {
        for (code, digits) in CURRENCIES {
            let code = std::str::from_utf8(code).unwrap();
            assert_eq!(
                minor_unit_exponent(code),
                Some(u32::from(*digits)),
                "{code}"
            );
        }
    }

    #[test]
    fn table_is_large_enough() {
        assert!(CURRENCIES.len() >= 150, "only {} codes", CURRENCIES.len());
    }
}
