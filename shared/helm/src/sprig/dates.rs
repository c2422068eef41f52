//! Dates: `now`, `date`, `dateInZone` (`date_in_zone`), `htmlDate`, `htmlDateInZone`,
//! `toDate`, `mustToDate`, `unixEpoch`, `dateModify` (`date_modify`, `mustDateModify`,
//! `must_date_modify`), `duration`, `durationRound`, `ago`, with Go's reference-time
//! layouts (`2006-01-02T15:04:05Z07:00`). Times are a `time.Time` object; `Local` is the
//! system time zone.
//!
//! As in sprig, `date` and `ago` take a time or Go `int` Unix seconds (anything else is
//! now), and `duration` takes a string or an int64 (Helm's float64 values give 0s).
//! Unlike sprig, `duration 90` is 1m30s: an `int` literal counts as an int64 here (Go: 0s).
//! Differences: the monotonic clock suffix (`m=+0.001`) is not printed; zone
//! abbreviations in `toDate` input are only understood for UTC/GMT/Z.

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

use super::{call_err, reg, str_arg};
use crate::template::{Arity, FuncError, FuncMap, Object, Value, quote};

/// Go's `time.Time`: an instant and a location.
#[derive(Clone, Debug)]
pub(crate) struct GoTime {
    ts: Timestamp,
    tz: TimeZone,
}

impl GoTime {
    fn civil(&self) -> DateTime {
        self.tz.to_datetime(self.ts)
    }

    fn offset_and_abbrev(&self) -> (i32, String) {
        let info = self.tz.to_offset_info(self.ts);
        let abbrev = info.abbreviation();
        // A fixed zone has no name in Go (formats print the offset instead).
        let abbrev = if abbrev.starts_with(['+', '-']) { "" } else { abbrev };
        (info.offset().seconds(), abbrev.to_string())
    }

    fn zero() -> GoTime {
        let ts = Offset::UTC
            .to_timestamp(DateTime::new(1, 1, 1, 0, 0, 0, 0).unwrap_or_default())
            .unwrap_or(Timestamp::UNIX_EPOCH);
        GoTime { ts, tz: TimeZone::UTC }
    }

    /// `time.Time.String()` (without the monotonic reading).
    fn go_string(&self) -> String {
        format(self, "2006-01-02 15:04:05.999999999 -0700 MST")
    }
}

impl Object for GoTime {
    fn type_name(&self) -> String {
        "time.Time".into()
    }

    fn field(&self, name: &str) -> Option<Value> {
        let c = self.civil();
        Some(match name {
            "Unix" => Value::Int(self.ts.as_second()),
            "UnixNano" => Value::Int(self.ts.as_nanosecond() as i64),
            "Location" => Value::String(
                self.tz.iana_name().unwrap_or(if self.tz == TimeZone::UTC { "UTC" } else { "" }).to_string(),
            ),
            "ZoneOffset" => Value::Int(i64::from(self.offset_and_abbrev().0)),
            "Nanosecond" => Value::Int(i64::from(c.subsec_nanosecond())),
            "Year" => Value::Int(i64::from(c.year())),
            "Day" => Value::Int(i64::from(c.day())),
            "Hour" => Value::Int(i64::from(c.hour())),
            "Minute" => Value::Int(i64::from(c.minute())),
            "Second" => Value::Int(i64::from(c.second())),
            "YearDay" => Value::Int(i64::from(c.day_of_year())),
            "String" => Value::String(self.go_string()),
            _ => return None,
        })
    }

    fn format(&self) -> String {
        self.go_string()
    }
}

fn local() -> TimeZone {
    TimeZone::system()
}

/// `time.LoadLocation`, falling back to UTC as sprig does.
fn location(zone: &str) -> TimeZone {
    match zone {
        "" | "UTC" => TimeZone::UTC,
        "Local" => local(),
        z => TimeZone::get(z).unwrap_or(TimeZone::UTC),
    }
}

fn now() -> GoTime {
    GoTime { ts: Timestamp::now(), tz: local() }
}

/// sprig's reading of a date argument: a time, or Unix seconds as a Go `int`; else now.
fn time_arg(v: &Value) -> GoTime {
    match v {
        Value::Object(o) if o.type_name() == "time.Time" => {
            let nanos = match o.field("UnixNano") {
                Some(Value::Int(n)) => i128::from(n),
                _ => 0,
            };
            let tz = match (o.field("Location"), o.field("ZoneOffset")) {
                (Some(Value::String(z)), _) if !z.is_empty() => location(&z),
                (_, Some(Value::Int(off))) => {
                    Offset::from_seconds(off as i32).map(TimeZone::fixed).unwrap_or(TimeZone::UTC)
                }
                _ => local(),
            };
            GoTime { ts: Timestamp::from_nanosecond(nanos).unwrap_or(Timestamp::UNIX_EPOCH), tz }
        }
        Value::Int(s) => GoTime { ts: Timestamp::from_second(*s).unwrap_or(Timestamp::UNIX_EPOCH), tz: local() },
        _ => now(),
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// One piece of a Go layout.
#[derive(Debug, Clone, PartialEq)]
enum Chunk {
    Lit(String),
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    /// Offsets: (use `Z` for UTC, colons, with seconds, hours only).
    Offset {
        z: bool,
        colon: bool,
        secs: bool,
        hours_only: bool,
    },
    /// Fractional seconds: digits, trailing zeros trimmed (`9`s), separator.
    Frac {
        digits: usize,
        trim: bool,
        sep: char,
    },
}

/// Splits a layout as Go's `nextStdChunk` does.
fn chunks(layout: &str) -> Vec<Chunk> {
    let b = layout.as_bytes();
    let mut out: Vec<Chunk> = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    let at = |i: usize, p: &str| layout[i..].starts_with(p);
    while i < b.len() {
        let (chunk, len) = match b[i] {
            b'J' if at(i, "January") => (Some(Chunk::LongMonth), 7),
            b'J' if at(i, "Jan") => (Some(Chunk::Month), 3),
            b'M' if at(i, "Monday") => (Some(Chunk::LongWeekDay), 6),
            b'M' if at(i, "Mon") => (Some(Chunk::WeekDay), 3),
            b'M' if at(i, "MST") => (Some(Chunk::TZ), 3),
            b'0' if at(i, "002") => (Some(Chunk::ZeroYearDay), 3),
            b'0' if b.get(i + 1).is_some_and(|c| (b'1'..=b'6').contains(c)) => (
                Some(match b[i + 1] {
                    b'1' => Chunk::ZeroMonth,
                    b'2' => Chunk::ZeroDay,
                    b'3' => Chunk::ZeroHour12,
                    b'4' => Chunk::ZeroMinute,
                    b'5' => Chunk::ZeroSecond,
                    _ => Chunk::Year,
                }),
                2,
            ),
            b'1' if at(i, "15") => (Some(Chunk::Hour), 2),
            b'1' => (Some(Chunk::NumMonth), 1),
            b'2' if at(i, "2006") => (Some(Chunk::LongYear), 4),
            b'2' => (Some(Chunk::Day), 1),
            b'_' if at(i, "_2006") => {
                lit.push('_');
                (Some(Chunk::LongYear), 5)
            }
            b'_' if at(i, "__2") => (Some(Chunk::UnderYearDay), 3),
            b'_' if at(i, "_2") => (Some(Chunk::UnderDay), 2),
            b'3' => (Some(Chunk::Hour12), 1),
            b'4' => (Some(Chunk::Minute), 1),
            b'5' => (Some(Chunk::Second), 1),
            b'P' if at(i, "PM") => (Some(Chunk::PM), 2),
            b'p' if at(i, "pm") => (Some(Chunk::Pm), 2),
            b'-' | b'Z' => {
                let z = b[i] == b'Z';
                let rest = &layout[i + 1..];
                let forms: [(&str, bool, bool, bool); 5] = [
                    ("07:00:00", true, true, false),
                    ("070000", false, true, false),
                    ("07:00", true, false, false),
                    ("0700", false, false, false),
                    ("07", false, false, true),
                ];
                match forms.iter().find(|f| rest.starts_with(f.0)) {
                    Some(&(p, colon, secs, hours_only)) => {
                        (Some(Chunk::Offset { z, colon, secs, hours_only }), 1 + p.len())
                    }
                    None => (None, 1),
                }
            }
            b'.' | b',' if b.get(i + 1).is_some_and(|c| *c == b'0' || *c == b'9') => {
                let d = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == d {
                    j += 1;
                }
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    (None, 1)
                } else {
                    (Some(Chunk::Frac { digits: j - i - 1, trim: d == b'9', sep: char::from(b[i]) }), j - i)
                }
            }
            _ => (None, 0),
        };
        match chunk {
            Some(c) => {
                if !lit.is_empty() {
                    out.push(Chunk::Lit(std::mem::take(&mut lit)));
                }
                out.push(c);
                i += len;
            }
            None => {
                let n = if len == 0 { layout[i..].chars().next().map(char::len_utf8).unwrap_or(1) } else { len };
                lit.push_str(&layout[i..i + n]);
                i += n;
            }
        }
    }
    if !lit.is_empty() {
        out.push(Chunk::Lit(lit));
    }
    out
}

fn fmt_offset(out: &mut String, off: i32, z: bool, colon: bool, secs: bool, hours_only: bool) {
    if off == 0 && z {
        out.push('Z');
        return;
    }
    out.push(if off < 0 { '-' } else { '+' });
    let a = off.abs();
    out.push_str(&format!("{:02}", a / 3600));
    if hours_only {
        return;
    }
    if colon {
        out.push(':');
    }
    out.push_str(&format!("{:02}", (a / 60) % 60));
    if secs {
        if colon {
            out.push(':');
        }
        out.push_str(&format!("{:02}", a % 60));
    }
}

/// `time.Time.Format`.
fn format(t: &GoTime, layout: &str) -> String {
    let c = t.civil();
    let (off, abbrev) = t.offset_and_abbrev();
    let mut out = String::new();
    let hour12 = |h: i8| if h % 12 == 0 { 12 } else { h % 12 };
    for ch in chunks(layout) {
        match ch {
            Chunk::Lit(s) => out.push_str(&s),
            Chunk::LongMonth => out.push_str(MONTHS[(c.month() - 1) as usize]),
            Chunk::Month => out.push_str(&MONTHS[(c.month() - 1) as usize][..3]),
            Chunk::NumMonth => out.push_str(&c.month().to_string()),
            Chunk::ZeroMonth => out.push_str(&format!("{:02}", c.month())),
            Chunk::LongWeekDay => out.push_str(DAYS[c.weekday().to_sunday_zero_offset() as usize]),
            Chunk::WeekDay => out.push_str(&DAYS[c.weekday().to_sunday_zero_offset() as usize][..3]),
            Chunk::Day => out.push_str(&c.day().to_string()),
            Chunk::UnderDay => out.push_str(&format!("{:>2}", c.day())),
            Chunk::ZeroDay => out.push_str(&format!("{:02}", c.day())),
            Chunk::UnderYearDay => out.push_str(&format!("{:>3}", c.day_of_year())),
            Chunk::ZeroYearDay => out.push_str(&format!("{:03}", c.day_of_year())),
            Chunk::Hour => out.push_str(&format!("{:02}", c.hour())),
            Chunk::Hour12 => out.push_str(&hour12(c.hour()).to_string()),
            Chunk::ZeroHour12 => out.push_str(&format!("{:02}", hour12(c.hour()))),
            Chunk::Minute => out.push_str(&c.minute().to_string()),
            Chunk::ZeroMinute => out.push_str(&format!("{:02}", c.minute())),
            Chunk::Second => out.push_str(&c.second().to_string()),
            Chunk::ZeroSecond => out.push_str(&format!("{:02}", c.second())),
            Chunk::LongYear => out.push_str(&format!("{:04}", c.year())),
            Chunk::Year => out.push_str(&format!("{:02}", c.year().rem_euclid(100))),
            Chunk::PM => out.push_str(if c.hour() >= 12 { "PM" } else { "AM" }),
            Chunk::Pm => out.push_str(if c.hour() >= 12 { "pm" } else { "am" }),
            Chunk::TZ => {
                if abbrev.is_empty() {
                    fmt_offset(&mut out, off, false, false, false, false);
                } else {
                    out.push_str(&abbrev);
                }
            }
            Chunk::Offset { z, colon, secs, hours_only } => fmt_offset(&mut out, off, z, colon, secs, hours_only),
            Chunk::Frac { digits, trim, sep } => {
                let nanos = format!("{:09}", c.subsec_nanosecond());
                let mut d = nanos[..digits.min(9)].to_string();
                if trim {
                    while d.ends_with('0') {
                        d.pop();
                    }
                    if d.is_empty() {
                        continue;
                    }
                }
                out.push(sep);
                out.push_str(&d);
            }
        }
    }
    out
}

/// `time.ParseInLocation` for the layouts above.
fn parse(layout: &str, value: &str, tz: &TimeZone) -> Result<GoTime, String> {
    let err = |rest: &str, elem: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            quote(value, false),
            quote(layout, false),
            quote(rest, false),
            quote(elem, false)
        )
    };
    let (mut year, mut month, mut day, mut hour, mut min, mut sec, mut nanos) =
        (1i64, 1i64, 1i64, 0i64, 0i64, 0i64, 0i64);
    let mut pm: Option<bool> = None;
    let mut offset: Option<i32> = None;
    let mut v = value;
    let num = |s: &str, min: usize, max: usize| -> Option<(i64, usize)> {
        let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
        if n < min { None } else { s[..n].parse().ok().map(|x| (x, n)) }
    };
    for ch in chunks(layout) {
        let elem = match &ch {
            Chunk::Lit(s) => s.clone(),
            _ => String::new(),
        };
        match ch {
            Chunk::Lit(s) => {
                v = v.strip_prefix(s.as_str()).ok_or_else(|| err(v, &elem))?;
            }
            Chunk::LongYear => {
                let (y, n) = num(v, 4, 4).ok_or_else(|| err(v, "2006"))?;
                year = y;
                v = &v[n..];
            }
            Chunk::Year => {
                let (y, n) = num(v, 2, 2).ok_or_else(|| err(v, "06"))?;
                year = if y >= 69 { 1900 + y } else { 2000 + y };
                v = &v[n..];
            }
            Chunk::LongMonth | Chunk::Month => {
                let long = ch == Chunk::LongMonth;
                let found = MONTHS.iter().enumerate().find(|(_, m)| {
                    let name = if long { m.to_string() } else { m[..3].to_string() };
                    v.len() >= name.len() && v[..name.len()].eq_ignore_ascii_case(&name)
                });
                let (i, m) = found.ok_or_else(|| err(v, if long { "January" } else { "Jan" }))?;
                month = i as i64 + 1;
                v = &v[if long { m.len() } else { 3 }..];
            }
            Chunk::LongWeekDay | Chunk::WeekDay => {
                let long = ch == Chunk::LongWeekDay;
                let found = DAYS.iter().find(|d| {
                    let name = if long { d.to_string() } else { d[..3].to_string() };
                    v.len() >= name.len() && v[..name.len()].eq_ignore_ascii_case(&name)
                });
                let d = found.ok_or_else(|| err(v, if long { "Monday" } else { "Mon" }))?;
                v = &v[if long { d.len() } else { 3 }..];
            }
            Chunk::NumMonth | Chunk::ZeroMonth => {
                let zero = ch == Chunk::ZeroMonth;
                let (m, n) =
                    num(v, if zero { 2 } else { 1 }, 2).ok_or_else(|| err(v, if zero { "01" } else { "1" }))?;
                month = m;
                v = &v[n..];
            }
            Chunk::Day | Chunk::ZeroDay | Chunk::UnderDay => {
                let s = if ch == Chunk::UnderDay { v.strip_prefix(' ').unwrap_or(v) } else { v };
                let (d, n) = num(s, if ch == Chunk::ZeroDay { 2 } else { 1 }, 2).ok_or_else(|| err(v, "02"))?;
                day = d;
                v = &s[n..];
            }
            Chunk::ZeroYearDay | Chunk::UnderYearDay => {
                let s = v.trim_start_matches(' ');
                let (_, n) = num(s, 1, 3).ok_or_else(|| err(v, "002"))?;
                v = &s[n..];
            }
            Chunk::Hour => {
                let (h, n) = num(v, 2, 2).ok_or_else(|| err(v, "15"))?;
                hour = h;
                v = &v[n..];
            }
            Chunk::Hour12 | Chunk::ZeroHour12 => {
                let (h, n) = num(v, if ch == Chunk::ZeroHour12 { 2 } else { 1 }, 2).ok_or_else(|| err(v, "03"))?;
                hour = h;
                v = &v[n..];
            }
            Chunk::Minute | Chunk::ZeroMinute => {
                let (m, n) = num(v, if ch == Chunk::ZeroMinute { 2 } else { 1 }, 2).ok_or_else(|| err(v, "04"))?;
                min = m;
                v = &v[n..];
            }
            Chunk::Second | Chunk::ZeroSecond => {
                let (s, n) = num(v, if ch == Chunk::ZeroSecond { 2 } else { 1 }, 2).ok_or_else(|| err(v, "05"))?;
                sec = s;
                v = &v[n..];
                // Go accepts fractional seconds after seconds even if the layout has none.
                if let Some(rest) = v.strip_prefix(['.', ',']) {
                    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
                    if n > 0 && !layout.contains(".0") && !layout.contains(".9") {
                        nanos = format!("{:0<9}", &rest[..n.min(9)]).parse().unwrap_or(0);
                        v = &rest[n..];
                    }
                }
            }
            Chunk::Frac { digits, trim, .. } => {
                let Some(rest) = v.strip_prefix(['.', ',']) else {
                    if trim {
                        continue;
                    }
                    return Err(err(v, ".000"));
                };
                let n = rest.bytes().take_while(u8::is_ascii_digit).count();
                if (!trim && n != digits) || n == 0 {
                    return Err(err(v, ".000"));
                }
                nanos = format!("{:0<9}", &rest[..n.min(9)]).parse().unwrap_or(0);
                v = &rest[n..];
            }
            Chunk::PM | Chunk::Pm => {
                let p = v.get(..2).map(str::to_ascii_uppercase);
                pm = match p.as_deref() {
                    Some("PM") => Some(true),
                    Some("AM") => Some(false),
                    _ => return Err(err(v, "PM")),
                };
                v = &v[2..];
            }
            Chunk::TZ => {
                let n = v.bytes().take_while(u8::is_ascii_uppercase).count();
                if n < 3 {
                    return Err(err(v, "MST"));
                }
                if matches!(&v[..n], "UTC" | "GMT") {
                    offset = Some(0);
                }
                v = &v[n..];
            }
            Chunk::Offset { z, colon, secs, hours_only } => {
                if z && v.starts_with('Z') {
                    offset = Some(0);
                    v = &v[1..];
                    continue;
                }
                let sign = match v.as_bytes().first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return Err(err(v, "-07:00")),
                };
                let mut s = &v[1..];
                let mut parts = Vec::new();
                let count = if hours_only {
                    1
                } else if secs {
                    3
                } else {
                    2
                };
                for k in 0..count {
                    if k > 0 && colon {
                        s = s.strip_prefix(':').ok_or_else(|| err(v, "-07:00"))?;
                    }
                    let (x, n) = num(s, 2, 2).ok_or_else(|| err(v, "-07:00"))?;
                    parts.push(x);
                    s = &s[n..];
                }
                let secs_total = parts.first().copied().unwrap_or(0) * 3600
                    + parts.get(1).copied().unwrap_or(0) * 60
                    + parts.get(2).copied().unwrap_or(0);
                offset = Some(sign * secs_total as i32);
                v = s;
            }
        }
    }
    if !v.is_empty() {
        return Err(format!("parsing time {}: extra text: {}", quote(value, false), quote(v, false)));
    }
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let range = |x: i64, lo: i64, hi: i64, what: &str| {
        if x < lo || x > hi { Err(format!("parsing time {}: {what} out of range", quote(value, false))) } else { Ok(x) }
    };
    range(month, 1, 12, "month")?;
    range(day, 1, 31, "day")?;
    range(hour, 0, 23, "hour")?;
    range(min, 0, 59, "minute")?;
    range(sec, 0, 59, "second")?;
    let dt = DateTime::new(year as i16, month as i8, day as i8, hour as i8, min as i8, sec as i8, nanos as i32)
        .map_err(|_| format!("parsing time {}: day out of range", quote(value, false)))?;
    let (ts, tz) = match offset {
        Some(o) => {
            let off = Offset::from_seconds(o).map_err(|e| e.to_string())?;
            let tz = if o == 0 { TimeZone::UTC } else { TimeZone::fixed(off) };
            (off.to_timestamp(dt).map_err(|e| e.to_string())?, tz)
        }
        None => (tz.to_timestamp(dt).map_err(|e| e.to_string())?, tz.clone()),
    };
    Ok(GoTime { ts, tz })
}

/// Go's `time.Duration.String()`.
pub(crate) fn duration_string(d: i128) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&frac(u, div));
        out.push_str(unit);
    } else {
        let secs_total = u / 1_000_000_000;
        let (h, m) = (secs_total / 3600, (secs_total / 60) % 60);
        let s = frac(u % 60_000_000_000, 1_000_000_000);
        if h > 0 {
            out.push_str(&format!("{h}h{m}m"));
        } else if m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&s);
        out.push('s');
    }
    if neg { format!("-{out}") } else { out }
}

fn frac(v: u128, div: u128) -> String {
    let (w, f) = (v / div, v % div);
    if f == 0 {
        return w.to_string();
    }
    let width = div.to_string().len() - 1;
    let fs = format!("{f:0width$}");
    format!("{w}.{}", fs.trim_end_matches('0'))
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub(crate) fn parse_duration(s: &str) -> Result<i128, String> {
    let bad = || format!("time: invalid duration {}", quote(s, false));
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let n = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        if n == 0 || &rest[..n] == "." {
            return Err(bad());
        }
        let value: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest.bytes().take_while(|b| !b.is_ascii_digit() && *b != b'.').count();
        let unit = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err(format!("time: missing unit in duration {}", quote(s, false))),
            other => return Err(format!("time: unknown unit {} in duration {}", quote(other, false), quote(s, false))),
        };
        total += value * unit;
        rest = &rest[u..];
    }
    let ns = total.round() as i128;
    Ok(if neg { -ns } else { ns })
}

fn as_time(v: &Value) -> Option<GoTime> {
    match v {
        Value::Object(o) if o.type_name() == "time.Time" => Some(time_arg(v)),
        _ => None,
    }
}

fn time_value(t: GoTime) -> Value {
    Value::Object(Arc::new(t))
}

fn date_in_zone(layout: &str, date: &Value, zone: &str) -> String {
    let mut t = time_arg(date);
    t.tz = location(zone);
    format(&t, layout)
}

fn date_modify(a: &[Value]) -> Result<Option<Value>, FuncError> {
    let Some(t) = as_time(&a[1]) else {
        return Err(FuncError::Exec(format!("wrong type for value; expected time.Time; got {}", a[1].type_name())));
    };
    match parse_duration(str_arg(a, 0)?) {
        Ok(ns) => {
            let ts = Timestamp::from_nanosecond(t.ts.as_nanosecond() + ns).map_err(|e| call_err(e.to_string()))?;
            Ok(Some(time_value(GoTime { ts, tz: t.tz })))
        }
        Err(_) => Ok(None),
    }
}

pub(super) fn register(m: &mut FuncMap) {
    reg(m, "now", Arity::Exact(0), |_| Ok(time_value(now())));
    reg(m, "date", Arity::Exact(2), |a| Ok(Value::String(date_in_zone(str_arg(a, 0)?, &a[1], "Local"))));
    for name in ["dateInZone", "date_in_zone"] {
        reg(m, name, Arity::Exact(3), |a| Ok(Value::String(date_in_zone(str_arg(a, 0)?, &a[1], str_arg(a, 2)?))));
    }
    reg(m, "htmlDate", Arity::Exact(1), |a| Ok(Value::String(date_in_zone("2006-01-02", &a[0], "Local"))));
    reg(m, "htmlDateInZone", Arity::Exact(2), |a| Ok(Value::String(date_in_zone("2006-01-02", &a[0], str_arg(a, 1)?))));
    reg(m, "toDate", Arity::Exact(2), |a| {
        Ok(time_value(parse(str_arg(a, 0)?, str_arg(a, 1)?, &local()).unwrap_or_else(|_| GoTime::zero())))
    });
    reg(m, "mustToDate", Arity::Exact(2), |a| {
        Ok(time_value(parse(str_arg(a, 0)?, str_arg(a, 1)?, &local()).map_err(call_err)?))
    });
    reg(m, "unixEpoch", Arity::Exact(1), |a| match as_time(&a[0]) {
        Some(t) => Ok(Value::String(t.ts.as_second().to_string())),
        None => Err(FuncError::Exec(format!("wrong type for value; expected time.Time; got {}", a[0].type_name()))),
    });
    for name in ["dateModify", "date_modify"] {
        reg(m, name, Arity::Exact(2), |a| Ok(date_modify(a)?.unwrap_or_else(|| a[1].clone())));
    }
    for name in ["mustDateModify", "must_date_modify"] {
        reg(m, name, Arity::Exact(2), |a| {
            parse_duration(str_arg(a, 0)?).map_err(call_err)?;
            Ok(date_modify(a)?.unwrap_or_else(|| a[1].clone()))
        });
    }
    reg(m, "duration", Arity::Exact(1), |a| {
        let secs = match &a[0] {
            Value::String(s) => s.parse::<i64>().unwrap_or(0),
            Value::Int(n) => *n,
            _ => 0,
        };
        Ok(Value::String(duration_string(i128::from(secs) * 1_000_000_000)))
    });
    reg(m, "durationRound", Arity::Exact(1), |a| {
        let d: i128 = match &a[0] {
            Value::String(s) => parse_duration(s).unwrap_or(0),
            v => match as_time(v) {
                Some(t) => Timestamp::now().as_nanosecond() - t.ts.as_nanosecond(),
                None => 0,
            },
        };
        let u = d.unsigned_abs();
        const S: u128 = 1_000_000_000;
        let units: [(u128, &str); 6] = [
            (S * 3600 * 24 * 365, "y"),
            (S * 3600 * 24 * 30, "mo"),
            (S * 3600 * 24, "d"),
            (S * 3600, "h"),
            (S * 60, "m"),
            (S, "s"),
        ];
        for (size, unit) in units {
            if u > size {
                return Ok(Value::String(format!("{}{unit}", u / size)));
            }
        }
        Ok(Value::from("0s"))
    });
    reg(m, "ago", Arity::Exact(1), |a| {
        let t = match &a[0] {
            Value::Int(_) | Value::Object(_) => time_arg(&a[0]),
            _ => now(),
        };
        let since = Timestamp::now().as_nanosecond() - t.ts.as_nanosecond();
        let rounded = (since + since.signum() * 500_000_000) / 1_000_000_000 * 1_000_000_000;
        Ok(Value::String(duration_string(rounded)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> GoTime {
        GoTime { ts: Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH), tz: TimeZone::UTC }
    }

    #[test]
    fn formats() {
        let t = at(1_700_000_000);
        assert_eq!(format(&t, "2006-01-02T15:04:05Z07:00"), "2023-11-14T22:13:20Z");
        assert_eq!(format(&t, "Mon Jan _2 3:04PM 2006 MST -0700"), "Tue Nov 14 10:13PM 2023 UTC +0000");
        assert_eq!(t.go_string(), "2023-11-14 22:13:20 +0000 UTC");
    }

    #[test]
    fn parses() {
        let t = parse("2006-01-02", "2017-12-31", &TimeZone::UTC).unwrap();
        assert_eq!(format(&t, "02/01/2006"), "31/12/2017");
        let t = parse("2006-01-02T15:04:05Z07:00", "2020-01-01T10:00:00+02:00", &TimeZone::UTC).unwrap();
        assert_eq!(t.ts.as_second(), 1_577_865_600);
        assert!(parse("2006-01-02", "x", &TimeZone::UTC).unwrap_err().contains("cannot parse \"x\" as \"2006\""));
    }

    #[test]
    fn durations() {
        assert_eq!(duration_string(90_000_000_000), "1m30s");
        assert_eq!(duration_string(3_600_000_000_000), "1h0m0s");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert!(parse_duration("x").is_err());
    }
}
