//! Amounts as people type and read them: rUv with up to 6 decimals,
//! converted to micro-rUv with integer arithmetic only.

use ruv_protocol::UNITS_PER_RUV;
use std::fmt;

/// Decimals of one rUv (1 rUv = 10^6 micro-rUv).
pub const DECIMALS: usize = 6;

/// Why an amount does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountError {
    /// Nothing was given.
    Empty,
    /// A character other than digits and one decimal point.
    InvalidCharacter(char),
    /// A decimal point without digits on one side, or two points.
    Malformed,
    /// More than 6 decimals.
    TooManyDecimals(usize),
    /// More than the 64-bit micro-rUv range.
    TooLarge,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmountError::Empty => write!(f, "the amount is empty"),
            AmountError::InvalidCharacter(c) => write!(
                f,
                "{c:?} is not allowed in an amount (digits and one '.', e.g. 12.5)"
            ),
            AmountError::Malformed => {
                write!(f, "an amount is digits with at most one '.', e.g. 12.5")
            }
            AmountError::TooManyDecimals(n) => write!(
                f,
                "{n} decimals given, rUv has {DECIMALS} (1 micro-rUv = 0.000001 rUv)"
            ),
            AmountError::TooLarge => write!(
                f,
                "the amount is larger than {} rUv",
                format_short(u64::MAX)
            ),
        }
    }
}

/// Parses rUv (`"5"`, `"5.006362"`, `"0.000001"`) into micro-rUv.
pub fn parse_ruv(text: &str) -> Result<u64, AmountError> {
    if text.is_empty() {
        return Err(AmountError::Empty);
    }
    if let Some(c) = text.chars().find(|c| !c.is_ascii_digit() && *c != '.') {
        return Err(AmountError::InvalidCharacter(c));
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) if w.is_empty() || f.is_empty() || f.contains('.') => {
            return Err(AmountError::Malformed)
        }
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if fraction.len() > DECIMALS {
        return Err(AmountError::TooManyDecimals(fraction.len()));
    }
    let digits = |s: &str| -> Result<u64, AmountError> {
        s.bytes().try_fold(0u64, |acc, b| {
            acc.checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .ok_or(AmountError::TooLarge)
        })
    };
    let scale = 10u64.pow((DECIMALS - fraction.len()) as u32);
    let fraction = digits(fraction)? * scale;
    digits(whole)?
        .checked_mul(UNITS_PER_RUV)
        .and_then(|w| w.checked_add(fraction))
        .ok_or(AmountError::TooLarge)
}

/// `micro` as rUv with all 6 decimals (`"3.200000"`): for aligned tables.
pub fn format_fixed(micro: u64) -> String {
    format!(
        "{}.{:0width$}",
        micro / UNITS_PER_RUV,
        micro % UNITS_PER_RUV,
        width = DECIMALS
    )
}

/// `micro` as rUv without trailing zeros (`"3.2"`, `"5"`): for sentences.
pub fn format_short(micro: u64) -> String {
    let fixed = format_fixed(micro);
    let trimmed = fixed.trim_end_matches('0');
    trimmed.strip_suffix('.').unwrap_or(trimmed).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_what_people_type() {
        assert_eq!(parse_ruv("5"), Ok(5_000_000));
        assert_eq!(parse_ruv("5.006362"), Ok(5_006_362));
        assert_eq!(parse_ruv("0.000001"), Ok(1));
        assert_eq!(parse_ruv("3.2"), Ok(3_200_000));
        assert_eq!(parse_ruv("007.50"), Ok(7_500_000));
        assert_eq!(
            parse_ruv("18446744073709.551615"),
            Ok(u64::MAX),
            "the largest amount"
        );
    }

    #[test]
    fn refuses_everything_else_with_a_reason() {
        assert_eq!(parse_ruv(""), Err(AmountError::Empty));
        assert_eq!(parse_ruv("-1"), Err(AmountError::InvalidCharacter('-')));
        assert_eq!(parse_ruv("1e3"), Err(AmountError::InvalidCharacter('e')));
        assert_eq!(parse_ruv(" 1"), Err(AmountError::InvalidCharacter(' ')));
        assert_eq!(parse_ruv("1,5"), Err(AmountError::InvalidCharacter(',')));
        assert_eq!(parse_ruv(".5"), Err(AmountError::Malformed));
        assert_eq!(parse_ruv("5."), Err(AmountError::Malformed));
        assert_eq!(parse_ruv("1.2.3"), Err(AmountError::Malformed));
        assert_eq!(parse_ruv("0.0000001"), Err(AmountError::TooManyDecimals(7)));
        assert_eq!(
            parse_ruv("18446744073709.551616"),
            Err(AmountError::TooLarge)
        );
        assert_eq!(
            parse_ruv("99999999999999999999"),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn formats_both_ways() {
        assert_eq!(format_fixed(3_200_000), "3.200000");
        assert_eq!(format_short(3_200_000), "3.2");
        assert_eq!(format_short(5_006_362), "5.006362");
        assert_eq!(format_short(5_000_000), "5");
        assert_eq!(format_short(0), "0");
        assert_eq!(format_fixed(1), "0.000001");
    }

    proptest! {
        #[test]
        fn parse_inverts_both_formats(micro in any::<u64>()) {
            prop_assert_eq!(parse_ruv(&format_fixed(micro)), Ok(micro));
            prop_assert_eq!(parse_ruv(&format_short(micro)), Ok(micro));
        }

        #[test]
        fn parse_never_panics(text in "[0-9.a-z -]{0,30}") {
            let _ = parse_ruv(&text);
        }
    }
}
