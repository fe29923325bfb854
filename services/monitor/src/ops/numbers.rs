//! Numbers formatted as TarsWeb's pages and API show them (JavaScript's
//! `Number.prototype.toFixed`), so figures read the same as before, digit for digit.

/// `x.toFixed(digits)`: the exact value rounded half away from zero (JavaScript picks the
/// larger of two equally close candidates), unlike Rust's `{:.N}`, which rounds exact
/// ties (0.125, 2.5 …) to even.
pub fn to_fixed(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    // 40 more digits than kept: a double's exact expansion never sits so close to a
    // rounding boundary that this could turn "just below half" into "half".
    let exact = format!("{:.*}", digits + 40, x.abs());
    let (int_part, frac_part) = exact.split_once('.').expect("a fractional part");
    let mut kept: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes().take(digits))
        .collect();
    if frac_part.as_bytes()[digits] >= b'5' {
        let mut i = kept.len();
        loop {
            if i == 0 {
                kept.insert(0, b'1');
                break;
            }
            i -= 1;
            if kept[i] == b'9' {
                kept[i] = b'0';
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    let split = kept.len() - digits;
    let mut out = String::from_utf8(kept[..split].to_vec()).expect("digits");
    if digits > 0 {
        out.push('.');
        out.push_str(std::str::from_utf8(&kept[split..]).expect("digits"));
    }
    // JavaScript keeps the sign of a negative number that rounds to zero (-0.001 →
    // "-0.00"), but not of negative zero.
    if x < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// `x.toFixed(digits)` followed by TarsWeb's `replace(/[\\.]*[0]+$/, '')`: trailing zeros
/// (and a bare point) go, so 12.500 shows as `12.5` and 3.000 as `3`.
pub fn trimmed(x: f64, digits: usize) -> String {
    let fixed = to_fixed(x, digits);
    match fixed.split_once('.') {
        Some((int_part, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                int_part.to_string()
            } else {
                format!("{int_part}.{frac}")
            }
        }
        None => fixed,
    }
}

/// A ratio as a percentage with two decimals: `0.125` → `12.50%`.
pub fn percent(ratio: f64) -> String {
    format!("{}%", to_fixed(ratio * 100.0, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_like_javascript() {
        assert_eq!(to_fixed(0.125, 2), "0.13", "an exact tie goes up");
        assert_eq!(to_fixed(2.5, 0), "3");
        assert_eq!(to_fixed(0.375, 2), "0.38");
        assert_eq!(to_fixed(1.005, 2), "1.00", "1.005 is 1.00499… in binary");
        assert_eq!(to_fixed(99.995, 2), "100.00");
        assert_eq!(to_fixed(0.0, 2), "0.00");
        assert_eq!(to_fixed(-12.345, 2), "-12.35");
        assert_eq!(to_fixed(-0.001, 2), "-0.00");
        assert_eq!(to_fixed(-0.0, 2), "0.00");
        assert_eq!(to_fixed(1234.0, 0), "1234");
        assert_eq!(to_fixed(999.9996, 3), "1000.000");
    }

    #[test]
    fn trims_as_tarsweb_does() {
        assert_eq!(trimmed(12.5, 3), "12.5");
        assert_eq!(trimmed(3.0, 3), "3");
        assert_eq!(trimmed(100.0, 3), "100");
        assert_eq!(trimmed(0.0, 3), "0");
        assert_eq!(trimmed(1000.1, 3), "1000.1");
        assert_eq!(trimmed(0.0004, 3), "0");
        assert_eq!(percent(1.0 / 3.0), "33.33%");
        assert_eq!(percent(0.00125), "0.13%");
    }
}
