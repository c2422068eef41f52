//! Ages as kubectl shows them: `45s`, `3m20s`, `5h`, `2d3h`.

/// Seconds since `timestamp` (RFC 3339), as a short age, or `<unknown>`.
pub fn since(timestamp: Option<&str>) -> String {
    let Some(ts) = timestamp.and_then(|t| t.parse::<jiff::Timestamp>().ok()) else {
        return "<unknown>".to_string();
    };
    let seconds = jiff::Timestamp::now().as_second() - ts.as_second();
    human(seconds.max(0))
}

pub fn human(seconds: i64) -> String {
    let (m, h, d) = (seconds / 60, seconds / 3600, seconds / 86400);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{m}m{}s", s % 60),
        s if s < 3 * 3600 => format!("{m}m"),
        s if s < 8 * 3600 => format!("{h}h{}m", m % 60),
        s if s < 48 * 3600 => format!("{h}h"),
        s if s < 8 * 86400 => format!("{d}d{}h", h % 24),
        _ => format!("{d}d"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectls() {
        assert_eq!(human(45), "45s");
        assert_eq!(human(200), "3m20s");
        assert_eq!(human(3600), "60m");
        assert_eq!(human(5 * 3600 + 120), "5h2m");
        assert_eq!(human(20 * 3600), "20h");
        assert_eq!(human(3 * 86400 + 7200), "3d2h");
        assert_eq!(human(30 * 86400), "30d");
        assert_eq!(since(None), "<unknown>");
    }
}
