//! Random values: `randAlpha`, `randNumeric`, `randAlphaNum`, `randAscii`, `randInt`,
//! `randBytes`, `uuidv4`, and `getHostByName` (a random address of the name, as sprig). Not cryptographic: a xorshift generator seeded from the OS's per-process
//! hash randomness and the clock.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use super::{call_err, int_arg, reg};
use crate::template::{Arity, FuncMap, Value};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    h.write_u128(nanos);
    h.finish() | 1
}

pub(crate) fn next_u64() -> u64 {
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

fn random_string(n: i64, alphabet: &[u8]) -> Result<String, crate::template::FuncError> {
    super::check_len(n.max(0) as u128, "random string")?;
    Ok((0..n.max(0)).map(|_| char::from(alphabet[(next_u64() % alphabet.len() as u64) as usize])).collect())
}

const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const NUM: &[u8] = b"0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub(super) fn register(m: &mut FuncMap) {
    reg(m, "randAlpha", Arity::Exact(1), |a| Ok(Value::String(random_string(int_arg(a, 0)?, ALPHA)?)));
    reg(m, "randNumeric", Arity::Exact(1), |a| Ok(Value::String(random_string(int_arg(a, 0)?, NUM)?)));
    reg(m, "randAlphaNum", Arity::Exact(1), |a| Ok(Value::String(random_string(int_arg(a, 0)?, ALNUM)?)));
    reg(m, "randAscii", Arity::Exact(1), |a| {
        let printable: Vec<u8> = (32u8..=126).collect();
        Ok(Value::String(random_string(int_arg(a, 0)?, &printable)?))
    });
    reg(m, "randInt", Arity::Exact(2), |a| {
        let (lo, hi) = (int_arg(a, 0)?, int_arg(a, 1)?);
        let span = hi.wrapping_sub(lo);
        if span <= 0 {
            return Err(call_err("invalid argument to Intn"));
        }
        Ok(Value::Int(lo + (next_u64() % span as u64) as i64))
    });
    reg(m, "randBytes", Arity::Exact(1), |a| {
        let n = int_arg(a, 0)?;
        super::check_len(n.max(0) as u128, "randBytes")?;
        let bytes: Vec<u8> = (0..n.max(0)).map(|_| next_u64() as u8).collect();
        Ok(Value::String(super::encoding::b64(&bytes)))
    });
    reg(m, "getHostByName", Arity::Exact(1), |a| {
        use std::net::ToSocketAddrs;
        let name = super::str_arg(a, 0)?;
        let addrs: Vec<String> =
            (name, 0).to_socket_addrs().map(|it| it.map(|s| s.ip().to_string()).collect()).unwrap_or_default();
        if addrs.is_empty() {
            return Err(call_err("invalid argument to Intn"));
        }
        Ok(Value::String(addrs[(next_u64() % addrs.len() as u64) as usize].clone()))
    });
    reg(m, "uuidv4", Arity::Exact(0), |_| {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&next_u64().to_le_bytes());
        b[8..].copy_from_slice(&next_u64().to_le_bytes());
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        Ok(Value::String(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])))
    });
}

#[cfg(test)]
mod tests {
    use super::super::test_util::render;

    #[test]
    fn shapes() {
        let out = render(r#"{{ randAlphaNum 8 }}|{{ randNumeric 4 }}|{{ uuidv4 }}|{{ randInt 3 5 }}"#).unwrap();
        let parts: Vec<&str> = out.split('|').collect();
        assert_eq!(parts[0].len(), 8);
        assert!(parts[1].bytes().all(|b| b.is_ascii_digit()) && parts[1].len() == 4);
        assert_eq!(parts[2].len(), 36);
        assert_eq!(&parts[2][14..15], "4");
        assert!(parts[3] == "3" || parts[3] == "4");
    }
}
