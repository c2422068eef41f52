//! Encodings and hashes: `b64enc`, `b64dec`, `b32enc`, `b32dec`, `sha1sum`, `sha256sum`,
//! `adler32sum`.

use super::{reg, str_arg};
use crate::template::{Arity, FuncMap, Value};

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Encodes with a power-of-two alphabet, padded with `=` (Go's `StdEncoding`s).
fn encode(data: &[u8], alphabet: &[u8], bits: u32, group: usize) -> String {
    let mut out = String::new();
    let (mut buf, mut n) = (0u64, 0u32);
    for &b in data {
        buf = (buf << 8) | u64::from(b);
        n += 8;
        while n >= bits {
            n -= bits;
            out.push(char::from(alphabet[((buf >> n) & ((1 << bits) - 1)) as usize]));
        }
    }
    if n > 0 {
        out.push(char::from(alphabet[((buf << (bits - n)) & ((1 << bits) - 1)) as usize]));
    }
    while !out.len().is_multiple_of(group) {
        out.push('=');
    }
    out
}

fn corrupt(bits: u32, at: usize) -> String {
    format!("illegal base{} data at input byte {at}", 1u32 << bits)
}

fn lookup(alphabet: &[u8], b: u8) -> Option<u64> {
    alphabet.iter().position(|&a| a == b).map(|v| v as u64)
}

/// Go's `base64.StdEncoding.DecodeString`; the error is Go's `CorruptInputError` message.
pub(crate) fn decode64(s: &str) -> Result<Vec<u8>, String> {
    let src = s.as_bytes();
    let mut out = Vec::new();
    let mut si = 0;
    let skip_newlines = |mut i: usize| {
        while i < src.len() && (src[i] == b'\n' || src[i] == b'\r') {
            i += 1;
        }
        i
    };
    loop {
        let mut dbuf = [0u64; 4];
        let mut dlen = 4;
        let mut j = 0;
        let mut end = false;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(corrupt(6, si - j));
            }
            let c = src[si];
            si += 1;
            if let Some(v) = lookup(B64, c) {
                dbuf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' {
                return Err(corrupt(6, si - 1));
            }
            match j {
                0 | 1 => return Err(corrupt(6, si - 1)),
                2 => {
                    si = skip_newlines(si);
                    if si == src.len() {
                        return Err(corrupt(6, src.len()));
                    }
                    if src[si] != b'=' {
                        return Err(corrupt(6, si - 1));
                    }
                    si += 1;
                }
                _ => {}
            }
            si = skip_newlines(si);
            if si < src.len() {
                return Err(corrupt(6, si));
            }
            dlen = j;
            end = true;
            break;
        }
        let v = (dbuf[0] << 18) | (dbuf[1] << 12) | (dbuf[2] << 6) | dbuf[3];
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..dlen - 1]);
        if end {
            return Ok(out);
        }
    }
}

/// Go's `base32.StdEncoding.DecodeString` (newlines are stripped first).
fn decode32(s: &str) -> Result<Vec<u8>, String> {
    let stripped: Vec<u8> = s.bytes().filter(|b| *b != b'\n' && *b != b'\r').collect();
    let olen = stripped.len();
    let mut src: &[u8] = &stripped;
    let mut out = Vec::new();
    let mut end = false;
    while !src.is_empty() && !end {
        let mut dbuf = [0u64; 8];
        let mut dlen = 8;
        let mut j = 0;
        while j < 8 {
            if src.is_empty() {
                return Err(corrupt(5, olen - src.len() - j));
            }
            let c = src[0];
            src = &src[1..];
            if c == b'=' && j >= 2 && src.len() < 8 {
                if src.len() + j < 7 {
                    return Err(corrupt(5, olen));
                }
                for k in 0..7 - j {
                    if src.len() > k && src[k] != b'=' {
                        return Err(corrupt(5, olen - src.len() + k - 1));
                    }
                }
                dlen = j;
                end = true;
                if matches!(dlen, 1 | 3 | 6) {
                    return Err(corrupt(5, olen - src.len() - 1));
                }
                break;
            }
            match lookup(B32, c) {
                Some(v) => dbuf[j] = v,
                None => return Err(corrupt(5, olen - src.len() - 1)),
            }
            j += 1;
        }
        let v = dbuf.iter().fold(0u64, |acc, d| (acc << 5) | d);
        let bytes = v.to_be_bytes();
        let n = match dlen {
            2 => 1,
            4 => 2,
            5 => 3,
            7 => 4,
            _ => 5,
        };
        out.extend_from_slice(&bytes[3..3 + n]);
    }
    Ok(out)
}

fn sha1(data: &[u8]) -> [u8; 20] {
    use sha1::Digest;
    sha1::Sha1::digest(data).into()
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// Standard padded base64.
pub(crate) fn b64(data: &[u8]) -> String {
    encode(data, B64, 6, 4)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn register(m: &mut FuncMap) {
    reg(m, "b64enc", Arity::Exact(1), |a| Ok(Value::String(encode(str_arg(a, 0)?.as_bytes(), B64, 6, 4))));
    reg(m, "b32enc", Arity::Exact(1), |a| Ok(Value::String(encode(str_arg(a, 0)?.as_bytes(), B32, 5, 8))));
    reg(m, "b64dec", Arity::Exact(1), |a| {
        let r = decode64(str_arg(a, 0)?);
        Ok(Value::String(r.map(|d| String::from_utf8_lossy(&d).into_owned()).unwrap_or_else(|e| e)))
    });
    reg(m, "b32dec", Arity::Exact(1), |a| {
        let r = decode32(str_arg(a, 0)?);
        Ok(Value::String(r.map(|d| String::from_utf8_lossy(&d).into_owned()).unwrap_or_else(|e| e)))
    });
    reg(m, "sha1sum", Arity::Exact(1), |a| Ok(Value::String(hex(&sha1(str_arg(a, 0)?.as_bytes())))));
    reg(m, "sha256sum", Arity::Exact(1), |a| {
        use sha2::Digest;
        Ok(Value::String(hex(&sha2::Sha256::digest(str_arg(a, 0)?.as_bytes()))))
    });
    reg(m, "adler32sum", Arity::Exact(1), |a| Ok(Value::String(adler32(str_arg(a, 0)?.as_bytes()).to_string())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(encode(b"hello", B64, 6, 4), "aGVsbG8=");
        assert_eq!(decode64("aGVsbG8=").as_deref(), Ok(&b"hello"[..]));
        assert_eq!(encode(b"hello", B32, 5, 8), "NBSWY3DP");
        assert_eq!(decode32("NBSWY3DP").as_deref(), Ok(&b"hello"[..]));
        assert_eq!(decode32("ME======").as_deref(), Ok(&b"a"[..]));
        assert!(decode64("a").is_err());
    }

    #[test]
    fn hashes() {
        assert_eq!(hex(&sha1(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(adler32(b"Wikipedia"), 0x11E60398);
    }
}
