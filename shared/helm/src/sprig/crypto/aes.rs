//! sprig's `encryptAES` / `decryptAES`: AES-256-CBC with the password zero-padded or cut
//! to 32 bytes as the key, a random IV before the ciphertext, PKCS#7-style padding, base64.
//! Go panics on malformed input (short or ragged ciphertext, a padding byte beyond the
//! text); those panics are errors here, worded as Go's runtime words them.

use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};

use super::super::encoding::{b64, decode64};
use super::keys::random_bytes;

const BLOCK: usize = 16;

fn cipher(password: &str) -> aes::Aes256 {
    let mut key = [0u8; 32];
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password.as_bytes()[..n]);
    aes::Aes256::new(&GenericArray::from(key))
}

pub(crate) fn encrypt(password: &str, plaintext: &str) -> Result<String, String> {
    if plaintext.is_empty() {
        return Ok(String::new());
    }
    let aes = cipher(password);
    let mut content = plaintext.as_bytes().to_vec();
    let pad = BLOCK - content.len() % BLOCK;
    content.extend(std::iter::repeat_n(pad as u8, pad));
    let mut out = random_bytes(BLOCK)?;
    let mut prev: [u8; BLOCK] = [0; BLOCK];
    prev.copy_from_slice(&out);
    for chunk in content.chunks(BLOCK) {
        let mut block = GenericArray::from([0u8; BLOCK]);
        for (i, b) in chunk.iter().enumerate() {
            block[i] = b ^ prev[i];
        }
        aes.encrypt_block(&mut block);
        prev.copy_from_slice(&block);
        out.extend_from_slice(&block);
    }
    Ok(b64(&out))
}

pub(crate) fn decrypt(password: &str, crypt64: &str) -> Result<String, String> {
    if crypt64.is_empty() {
        return Ok(String::new());
    }
    let crypt = decode64(crypt64)?;
    if crypt.len() < BLOCK {
        return Err(format!("runtime error: slice bounds out of range [:16] with capacity {}", crypt.len()));
    }
    let (iv, body) = crypt.split_at(BLOCK);
    if !body.len().is_multiple_of(BLOCK) {
        return Err("crypto/cipher: input not full blocks".into());
    }
    let aes = cipher(password);
    let mut prev = iv;
    let mut plain = Vec::with_capacity(body.len());
    for chunk in body.chunks(BLOCK) {
        let mut block = GenericArray::clone_from_slice(chunk);
        aes.decrypt_block(&mut block);
        plain.extend(block.iter().zip(prev).map(|(b, p)| b ^ p));
        prev = chunk;
    }
    let Some(&pad) = plain.last() else { return Err("runtime error: index out of range [-1]".into()) };
    let keep = plain.len() as i64 - i64::from(pad);
    if keep < 0 {
        return Err(format!("runtime error: slice bounds out of range [:{keep}]"));
    }
    plain.truncate(keep as usize);
    Ok(String::from_utf8_lossy(&plain).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for text in ["a", "exactly sixteen!", "a longer text spanning several blocks of AES"] {
            let c = encrypt("pw", text).unwrap();
            assert_eq!(decrypt("pw", &c).unwrap(), text);
        }
        assert_eq!(encrypt("pw", "").unwrap(), "");
        assert_eq!(decrypt("pw", "").unwrap(), "");
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(decrypt("pw", &b64(b"short")).unwrap_err().contains("slice bounds"));
        assert_eq!(decrypt("pw", &b64(&[0u8; 20])).unwrap_err(), "crypto/cipher: input not full blocks");
        assert_eq!(decrypt("pw", &b64(&[0u8; 16])).unwrap_err(), "runtime error: index out of range [-1]");
    }
}
