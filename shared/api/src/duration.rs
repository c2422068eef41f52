//! Flux's duration format: Go's `time.Duration` strings restricted to `ms`, `s`, `m` and `h`, as the
//! CRD pattern `^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$` allows (`30s`, `1m30s`, `1.5h`, `500ms`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The pattern every Flux duration field carries in its CRD schema.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";

/// A duration string that is not in Flux's format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (expected a sequence like 30s, 1m30s, 1.5h or 500ms)")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

/// Parses a Flux duration such as `1m30s` or `1.5h`.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let err = |reason| DurationError { input: input.to_string(), reason };
    if input.is_empty() {
        return Err(err("it is empty"));
    }
    let bytes = input.as_bytes();
    let mut pos = 0;
    let mut total_nanos: u128 = 0;
    while pos < bytes.len() {
        let int_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos == int_start {
            return Err(err("a number must come before each unit"));
        }
        let int_part = &input[int_start..pos];
        let mut frac_part = "";
        if pos < bytes.len() && bytes[pos] == b'.' {
            pos += 1;
            let frac_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            if pos == frac_start {
                return Err(err("a decimal point must be followed by digits"));
            }
            frac_part = &input[frac_start..pos];
        }
        let rest = &input[pos..];
        let (unit_nanos, unit_len): (u128, usize) = if rest.starts_with("ms") {
            (1_000_000, 2)
        } else if rest.starts_with('s') {
            (1_000_000_000, 1)
        } else if rest.starts_with('m') {
            (60_000_000_000, 1)
        } else if rest.starts_with('h') {
            (3_600_000_000_000, 1)
        } else if rest.is_empty() {
            return Err(err("the last number has no unit"));
        } else {
            return Err(err("units must be one of ms, s, m, h"));
        };
        pos += unit_len;
        let whole: u128 = int_part.parse().map_err(|_| err("a number is too large"))?;
        let mut nanos = whole.checked_mul(unit_nanos).ok_or_else(|| err("it is too large"))?;
        if !frac_part.is_empty() {
            // Integer arithmetic keeps `1.1h` exact; digits beyond nanosecond precision are dropped.
            let digits = frac_part.len().min(18);
            let frac: u128 = frac_part[..digits].parse().map_err(|_| err("a fraction is malformed"))?;
            nanos += frac * unit_nanos / 10u128.pow(digits as u32);
        }
        total_nanos = total_nanos.checked_add(nanos).ok_or_else(|| err("it is too large"))?;
    }
    let secs = u64::try_from(total_nanos / 1_000_000_000).map_err(|_| err("it is too large"))?;
    Ok(Duration::new(secs, (total_nanos % 1_000_000_000) as u32))
}

/// Formats a duration as Go's `time.Duration.String()` does (`5m0s`, `1h0m0s`, `1.5s`, `750ms`),
/// so messages such as "next run in 5m0s" read exactly as Flux's.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < 1_000_000_000 {
        let (value, unit) = if nanos < 1_000 {
            return format!("{nanos}ns");
        } else if nanos < 1_000_000 {
            (nanos as f64 / 1e3, "µs")
        } else {
            (nanos as f64 / 1e6, "ms")
        };
        return format!("{}{unit}", trim_float(value));
    }
    let hours = nanos / 3_600_000_000_000;
    let minutes = (nanos / 60_000_000_000) % 60;
    let secs = (nanos % 60_000_000_000) as f64 / 1e9;
    let secs = trim_float(secs);
    if hours > 0 {
        format!("{hours}h{minutes}m{secs}s")
    } else if minutes > 0 {
        format!("{minutes}m{secs}s")
    } else {
        format!("{secs}s")
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// A validated Flux duration, kept with its original text so that objects round-trip unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxDuration {
    text: String,
    value: Duration,
}

impl FluxDuration {
    pub fn as_duration(&self) -> Duration {
        self.value
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for FluxDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(FluxDuration { text: s.to_string(), value: parse_duration(s)? })
    }
}

impl fmt::Display for FluxDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flux_durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h2m3s4ms"), Ok(Duration::from_millis(3_723_004)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_what_the_crd_pattern_rejects() {
        let re = regex::Regex::new(DURATION_PATTERN).unwrap();
        for bad in ["", "5", "5d", "1.m", ".5s", "-1s", "1 m", "m", "1h 2m", "1us", "10S"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
            assert!(!re.is_match(bad), "the pattern should reject {bad:?} too");
        }
    }

    #[test]
    fn error_says_what_is_expected() {
        let msg = parse_duration("5d").unwrap_err().to_string();
        assert!(msg.contains("\"5d\"") && msg.contains("ms, s, m, h"), "{msg}");
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_duration(Duration::from_secs(300)), "5m0s");
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_millis(75)), "75ms");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
    }

    #[test]
    fn keeps_original_text() {
        let d: FluxDuration = "1.5h".parse().unwrap();
        assert_eq!(d.as_str(), "1.5h");
        assert_eq!(d.as_duration(), Duration::from_secs(5400));
    }
}
