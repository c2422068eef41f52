//! Math: integer math on sprig's `toInt64` conversions (`add`, `sub`, `mul`, `div`, `mod`,
//! `max`, `min`, …), float math through shopspring/decimal as sprig does it (`addf`,
//! `subf`, `mulf`, `divf`: `0.1 + 0.2` is `0.3`), `floor`, `ceil`, `round`, `seq`,
//! `until`, `untilStep`.

use super::{call_err, float_arg, int_arg, reg, to_f64, to_i64};
use crate::template::{Arity, FuncError, FuncMap, Value};

/// A decimal `m × 10^-scale`, as shopspring/decimal holds one (small enough for i128).
#[derive(Clone, Copy)]
struct Dec {
    m: i128,
    scale: i32,
}

fn pow10(n: i32) -> Option<i128> {
    10i128.checked_pow(u32::try_from(n).ok()?)
}

impl Dec {
    /// `decimal.NewFromFloat`: the shortest decimal that reads back as `f`.
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e')?;
        let exp: i32 = exp.parse().ok()?;
        let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
        let digits = format!("{int}{frac}");
        let m: i128 = digits.parse().ok()?;
        let scale = frac.len() as i32 - exp;
        if scale < 0 { Some(Dec { m: m.checked_mul(pow10(-scale)?)?, scale: 0 }) } else { Some(Dec { m, scale }) }
    }

    fn align(a: Dec, b: Dec) -> Option<(i128, i128, i32)> {
        let scale = a.scale.max(b.scale);
        Some((a.m.checked_mul(pow10(scale - a.scale)?)?, b.m.checked_mul(pow10(scale - b.scale)?)?, scale))
    }

    fn add(self, o: Dec) -> Option<Dec> {
        let (a, b, scale) = Dec::align(self, o)?;
        Some(Dec { m: a.checked_add(b)?, scale })
    }

    fn sub(self, o: Dec) -> Option<Dec> {
        let (a, b, scale) = Dec::align(self, o)?;
        Some(Dec { m: a.checked_sub(b)?, scale })
    }

    fn mul(self, o: Dec) -> Option<Dec> {
        Some(Dec { m: self.m.checked_mul(o.m)?, scale: self.scale.checked_add(o.scale)? })
    }

    /// `Div`: rounded half away from zero to 16 decimal places.
    fn div(self, o: Dec) -> Option<Dec> {
        const PRECISION: i32 = 16;
        let k = PRECISION - self.scale + o.scale;
        let (num, den) =
            if k >= 0 { (self.m.checked_mul(pow10(k)?)?, o.m) } else { (self.m, o.m.checked_mul(pow10(-k)?)?) };
        let (q, r) = (num / den, num % den);
        let q = if r.checked_mul(2)?.abs() >= den.abs() { q + if (num < 0) != (den < 0) { -1 } else { 1 } } else { q };
        Some(Dec { m: q, scale: PRECISION })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.m, -self.scale).parse().unwrap_or(f64::NAN)
    }
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// sprig's `execDecimalOp`: `first op x op y …` in decimal, as a float64.
fn decimal_op(first: &Value, rest: &[Value], op: Op) -> Result<f64, FuncError> {
    let mut acc = to_f64(first);
    let mut dec = Dec::from_f64(acc);
    for v in rest {
        let x = to_f64(v);
        if matches!(op, Op::Div) && x == 0.0 {
            return Err(call_err("decimal division by 0"));
        }
        dec = match (dec, Dec::from_f64(x)) {
            (Some(d), Some(e)) => match op {
                Op::Add => d.add(e),
                Op::Sub => d.sub(e),
                Op::Mul => d.mul(e),
                Op::Div => d.div(e),
            },
            _ => None,
        };
        acc = match dec {
            Some(d) => d.to_f64(),
            None => match op {
                Op::Add => acc + x,
                Op::Sub => acc - x,
                Op::Mul => acc * x,
                Op::Div => acc / x,
            },
        };
        dec = dec.or_else(|| Dec::from_f64(acc));
    }
    Ok(acc)
}

fn int_div(a: i64, b: i64, rem: bool) -> Result<i64, FuncError> {
    if b == 0 {
        return Err(call_err("runtime error: integer divide by zero"));
    }
    Ok(if rem { a.wrapping_rem(b) } else { a.wrapping_div(b) })
}

/// sprig's `untilStep`, refusing results of more than [`super::MAX_LEN`] elements.
fn until_step(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, FuncError> {
    if step != 0 {
        let n = (i128::from(stop) - i128::from(start)) / i128::from(step);
        if n > 0 {
            super::check_len(n as u128, "untilStep")?;
        }
    }
    Ok(until_step_unchecked(start, stop, step))
}

fn until_step_unchecked(start: i64, stop: i64, step: i64) -> Vec<i64> {
    let mut v = Vec::new();
    if stop < start {
        if step >= 0 {
            return v;
        }
        let mut i = start;
        while i > stop {
            v.push(i);
            i = match i.checked_add(step) {
                Some(n) => n,
                None => break,
            };
        }
        return v;
    }
    if step <= 0 {
        return v;
    }
    let mut i = start;
    while i < stop {
        v.push(i);
        i = match i.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    v
}

fn ints(v: Vec<i64>) -> Value {
    Value::list(v.into_iter().map(Value::Int).collect())
}

/// sprig's `seq`, like GNU seq: `seq END`, `seq START END`, `seq START STEP END`.
fn seq(p: &[i64]) -> Result<String, FuncError> {
    let nums = match *p {
        [] => return Ok(String::new()),
        [end] => {
            let inc = if end < 1 { -1 } else { 1 };
            until_step(1, end.wrapping_add(inc), inc)?
        }
        [start, end] => {
            let inc = if end < start { -1 } else { 1 };
            until_step(start, end.wrapping_add(inc), inc)?
        }
        [start, step, end, ..] => {
            let inc = if end < start {
                if step > 0 {
                    return Ok(String::new());
                }
                -1
            } else {
                1
            };
            until_step(start, end.wrapping_add(inc), step)?
        }
    };
    Ok(nums.iter().map(i64::to_string).collect::<Vec<_>>().join(" "))
}

fn round(v: f64, places: i64, on: f64) -> f64 {
    let pow = 10f64.powf(places as f64);
    let digit = pow * v;
    let frac = digit.fract();
    let r = if frac >= on { digit.ceil() } else { digit.floor() };
    r / pow
}

pub(super) fn register(m: &mut FuncMap) {
    reg(m, "add1", Arity::Exact(1), |a| Ok(Value::Int(to_i64(&a[0]).wrapping_add(1))));
    reg(m, "add", Arity::AtLeast(0), |a| Ok(Value::Int(a.iter().fold(0i64, |s, v| s.wrapping_add(to_i64(v))))));
    reg(m, "sub", Arity::Exact(2), |a| Ok(Value::Int(to_i64(&a[0]).wrapping_sub(to_i64(&a[1])))));
    reg(m, "div", Arity::Exact(2), |a| Ok(Value::Int(int_div(to_i64(&a[0]), to_i64(&a[1]), false)?)));
    reg(m, "mod", Arity::Exact(2), |a| Ok(Value::Int(int_div(to_i64(&a[0]), to_i64(&a[1]), true)?)));
    reg(m, "mul", Arity::AtLeast(1), |a| {
        Ok(Value::Int(a[1..].iter().fold(to_i64(&a[0]), |p, v| p.wrapping_mul(to_i64(v)))))
    });
    for name in ["max", "biggest"] {
        reg(m, name, Arity::AtLeast(1), |a| Ok(Value::Int(a.iter().map(to_i64).max().unwrap_or(0))));
    }
    reg(m, "min", Arity::AtLeast(1), |a| Ok(Value::Int(a.iter().map(to_i64).min().unwrap_or(0))));
    reg(m, "maxf", Arity::AtLeast(1), |a| {
        Ok(Value::Float(a[1..].iter().fold(to_f64(&a[0]), |x, v| go_max(x, to_f64(v)))))
    });
    reg(m, "minf", Arity::AtLeast(1), |a| {
        Ok(Value::Float(a[1..].iter().fold(to_f64(&a[0]), |x, v| go_min(x, to_f64(v)))))
    });
    reg(m, "add1f", Arity::Exact(1), |a| Ok(Value::Float(decimal_op(&a[0], &[Value::Int(1)], Op::Add)?)));
    reg(m, "addf", Arity::AtLeast(0), |a| Ok(Value::Float(decimal_op(&Value::Float(0.0), a, Op::Add)?)));
    reg(m, "subf", Arity::AtLeast(1), |a| Ok(Value::Float(decimal_op(&a[0], &a[1..], Op::Sub)?)));
    reg(m, "mulf", Arity::AtLeast(1), |a| Ok(Value::Float(decimal_op(&a[0], &a[1..], Op::Mul)?)));
    reg(m, "divf", Arity::AtLeast(1), |a| Ok(Value::Float(decimal_op(&a[0], &a[1..], Op::Div)?)));
    reg(m, "floor", Arity::Exact(1), |a| Ok(Value::Float(to_f64(&a[0]).floor())));
    reg(m, "ceil", Arity::Exact(1), |a| Ok(Value::Float(to_f64(&a[0]).ceil())));
    reg(m, "round", Arity::AtLeast(2), |a| {
        let on = if a.len() > 2 { float_arg(a, 2)? } else { 0.5 };
        Ok(Value::Float(round(to_f64(&a[0]), int_arg(a, 1)?, on)))
    });
    reg(m, "seq", Arity::AtLeast(0), |a| {
        let p = (0..a.len()).map(|i| int_arg(a, i)).collect::<Result<Vec<_>, _>>()?;
        Ok(Value::String(seq(&p)?))
    });
    reg(m, "until", Arity::Exact(1), |a| {
        let n = int_arg(a, 0)?;
        Ok(ints(until_step(0, n, if n < 0 { -1 } else { 1 })?))
    });
    reg(m, "untilStep", Arity::Exact(3), |a| Ok(ints(until_step(int_arg(a, 0)?, int_arg(a, 1)?, int_arg(a, 2)?)?)));
}

/// Go's `math.Max` (NaN wins; +0 beats -0).
fn go_max(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && y == 0.0 {
        return if x.is_sign_negative() { y } else { x };
    }
    x.max(y)
}

fn go_min(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && y == 0.0 {
        return if x.is_sign_negative() { x } else { y };
    }
    x.min(y)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{check, render_with};
    use super::*;

    #[test]
    fn integer_math_truncates_helm_floats() {
        check(
            "{{ add 1 2 3 }} {{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 3 }} {{ add1 1.9 }}",
            "6 -2 24 3 1 2",
        );
        check("{{ max 1 5 3 }} {{ min 4 2 }} {{ maxf 1.5 2 }} {{ minf 1.5 2 }}", "5 2 2 1.5");
        assert_eq!(render_with("{{ add .a 1 }}", serde_json::json!({"a": 2.9})).as_deref(), Ok("3"));
    }

    #[test]
    fn float_math_is_decimal() {
        check(
            "{{ addf 0.1 0.2 }} {{ subf 1 0.9 }} {{ mulf 1.1 3 }} {{ divf 1 3 }} {{ divf 10 4 }}",
            "0.3 0.1 3.3 0.3333333333333333 2.5",
        );
        check("{{ round 3.14159 2 }} {{ floor 1.5 }} {{ ceil 1.2 }}", "3.14 1 2");
    }

    #[test]
    fn sequences() {
        assert_eq!(seq(&[3]).ok().as_deref(), Some("1 2 3"));
        assert_eq!(seq(&[0]).ok().as_deref(), Some("1 0"));
        assert_eq!(seq(&[5, 3]).ok().as_deref(), Some("5 4 3"));
        assert_eq!(seq(&[1, 2, 6]).ok().as_deref(), Some("1 3 5"));
        assert!(seq(&[0, 1 << 40]).is_err());
        check("{{ until 3 }} {{ untilStep 0 10 4 }}", "[0 1 2] [0 4 8]");
    }
}
