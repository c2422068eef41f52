//! HMAC (RFC 2104) over SHA-1, SHA-256 and SHA-512, hex encoding and a constant-time comparison:
//! what generic-hmac Providers sign with and what webhook Receivers verify.

use sha2::Digest;

/// The hash functions webhook senders sign with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    /// Parses the prefix of a `<algorithm>=<hex>` signature header.
    pub fn from_prefix(prefix: &str) -> Option<Algorithm> {
        match prefix.to_ascii_lowercase().as_str() {
            "sha1" => Some(Algorithm::Sha1),
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

/// HMAC of `message` under `key`.
pub fn hmac(algorithm: Algorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    match algorithm {
        Algorithm::Sha1 => hmac_with::<sha1::Sha1>(64, key, message),
        Algorithm::Sha256 => hmac_with::<sha2::Sha256>(64, key, message),
        Algorithm::Sha512 => hmac_with::<sha2::Sha512>(128, key, message),
    }
}

fn hmac_with<D: Digest>(block_size: usize, key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = if key.len() > block_size { D::digest(key).to_vec() } else { key.to_vec() };
    block.resize(block_size, 0);
    let inner_key: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let outer_key: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let mut inner = D::new();
    inner.update(&inner_key);
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = D::new();
    outer.update(&outer_key);
    outer.update(inner);
    outer.finalize().to_vec()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Decodes hex of either case.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    text.as_bytes().chunks(2).map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?)).collect()
}

/// Compares without an early exit, so the time taken does not tell how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a `<algorithm>=<hex>` signature header against the HMAC of `body` under `key`.
pub fn verify_prefixed(header: &str, key: &[u8], body: &[u8]) -> bool {
    let Some((prefix, digest)) = header.trim().split_once('=') else { return false };
    let (Some(algorithm), Some(given)) = (Algorithm::from_prefix(prefix), unhex(digest)) else { return false };
    constant_time_eq(&hmac(algorithm, key, body), &given)
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha2::Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_and_rfc2202_vectors() {
        // RFC 4231 test case 2.
        let mac = hmac(Algorithm::Sha256, b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let mac = hmac(Algorithm::Sha512, b"Jefe", b"what do ya want for nothing?");
        assert!(hex(&mac).starts_with("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"));
        // RFC 2202 test case 2.
        let mac = hmac(Algorithm::Sha1, b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&mac), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        // RFC 4231 test case 6: a key longer than the block is hashed first.
        let key = [0xaa; 131];
        let mac = hmac(Algorithm::Sha256, &key, b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(hex(&mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn prefixed_signatures() {
        let sig = format!("sha256={}", hex(&hmac(Algorithm::Sha256, b"k", b"body")));
        assert!(verify_prefixed(&sig, b"k", b"body"));
        assert!(verify_prefixed(&sig.to_uppercase().replace("SHA256", "sha256"), b"k", b"body"));
        assert!(!verify_prefixed(&sig, b"other", b"body"));
        assert!(!verify_prefixed(&sig, b"k", b"body!"));
        assert!(!verify_prefixed("md5=00", b"k", b"body"));
        assert!(!verify_prefixed("sha256", b"k", b"body"));
        assert!(!verify_prefixed("sha256=zz", b"k", b"body"));
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])).unwrap(), vec![0, 1, 254, 255]);
        assert!(unhex("abc").is_none());
        assert!(constant_time_eq(b"ab", b"ab"));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }
}
