//! sprig's crypto family: `genPrivateKey`, `genCA`, `genCAWithKey`, `genSelfSignedCert`,
//! `genSelfSignedCertWithKey`, `genSignedCert`, `genSignedCertWithKey`, `buildCustomCert`,
//! `derivePassword`, `bcrypt`, `htpasswd`, `encryptAES`, `decryptAES`.
//!
//! Pure Rust: RSA keys from the `rsa` crate, P-256 from `p256`, Ed25519 seeds from ring's
//! system RNG, certificates built by rcgen and signed by ring.
//! Certificate results are sprig's `certificate` struct (`.Cert`, `.Key`).

mod aes;
mod certs;
mod keys;
mod password;

use super::{call_err, int_arg, reg, str_arg};
use crate::template::{Arity, FuncError, FuncMap, Value};
use certs::{Certificate, Names, Signer};
use keys::PrivateKey;

/// An argument Go declares as `[]interface{}` (nil is empty).
fn list_arg(args: &[Value], i: usize) -> Result<Vec<Value>, FuncError> {
    match args.get(i) {
        Some(Value::List(l)) => Ok(l.to_vec()),
        Some(Value::Nil) | None => Ok(Vec::new()),
        Some(v) => {
            Err(FuncError::Exec(format!("wrong type for value; expected []interface {{}}; got {}", v.type_name())))
        }
    }
}

/// An argument Go declares as sprig's `certificate` (what `genCA` returns).
fn cert_arg(args: &[Value], i: usize) -> Result<Certificate, FuncError> {
    match args.get(i) {
        Some(Value::Object(o)) if o.type_name() == "sprig.certificate" => {
            let text = |f: &str| o.field(f).and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            Ok(Certificate { cert: text("Cert"), key: text("Key") })
        }
        Some(v) => {
            Err(FuncError::Exec(format!("wrong type for value; expected sprig.certificate; got {}", v.type_name())))
        }
        None => Err(FuncError::Exec("invalid value; expected sprig.certificate".into())),
    }
}

/// An argument Go declares as `uint32`.
fn u32_arg(args: &[Value], i: usize) -> Result<u32, FuncError> {
    match args.get(i) {
        Some(Value::Int(n)) => u32::try_from(*n).map_err(|_| FuncError::Exec(format!("{n} overflows uint32"))),
        Some(v) => Err(FuncError::Exec(format!("wrong type for value; expected uint32; got {}", v.type_name()))),
        None => Ok(0),
    }
}

fn generate_private_key(kind: &str) -> Result<String, FuncError> {
    let key = match kind {
        "" | "rsa" => PrivateKey::generate_rsa(4096),
        "ecdsa" => Ok(PrivateKey::generate_ecdsa()),
        "ed25519" => PrivateKey::generate_ed25519(),
        // sprig 3.2.3 still makes DSA keys (L2048N256); Go deprecated DSA and no pure-Rust
        // signer here could use one for a certificate.
        "dsa" => return Err(call_err("DSA keys are not supported (deprecated in Go and sprig)")),
        other => return Ok(format!("Unknown type {other}")),
    };
    key.and_then(|k| k.to_go_pem()).map_err(call_err)
}

/// A certificate with a fresh 2048-bit RSA key (sprig's non-`WithKey` functions) or the
/// given PEM key.
fn certificate(names: &Names<'_>, days: i64, key_pem: Option<&str>, signer: Signer<'_>) -> Result<Value, FuncError> {
    let key = match key_pem {
        Some(pem) => PrivateKey::from_pem(pem).map_err(|e| call_err(format!("parsing private key: {e}")))?,
        None => PrivateKey::generate_rsa(2048).map_err(|e| call_err(format!("error generating rsa key: {e}")))?,
    };
    certs::generate(names, days, &key, signer).map(Certificate::into_value).map_err(call_err)
}

pub(super) fn register(m: &mut FuncMap) {
    reg(m, "genPrivateKey", Arity::Exact(1), |a| generate_private_key(str_arg(a, 0)?).map(Value::String));
    reg(m, "genCA", Arity::Exact(2), |a| {
        let names = Names { cn: str_arg(a, 0)?, ips: &[], dns: &[] };
        certificate(&names, int_arg(a, 1)?, None, Signer::SelfCa)
    });
    reg(m, "genCAWithKey", Arity::Exact(3), |a| {
        let names = Names { cn: str_arg(a, 0)?, ips: &[], dns: &[] };
        certificate(&names, int_arg(a, 1)?, Some(str_arg(a, 2)?), Signer::SelfCa)
    });
    reg(m, "genSelfSignedCert", Arity::Exact(4), |a| {
        let (ips, dns) = (list_arg(a, 1)?, list_arg(a, 2)?);
        let names = Names { cn: str_arg(a, 0)?, ips: &ips, dns: &dns };
        certificate(&names, int_arg(a, 3)?, None, Signer::SelfLeaf)
    });
    reg(m, "genSelfSignedCertWithKey", Arity::Exact(5), |a| {
        let (ips, dns) = (list_arg(a, 1)?, list_arg(a, 2)?);
        let names = Names { cn: str_arg(a, 0)?, ips: &ips, dns: &dns };
        certificate(&names, int_arg(a, 3)?, Some(str_arg(a, 4)?), Signer::SelfLeaf)
    });
    reg(m, "genSignedCert", Arity::Exact(5), |a| {
        let (ips, dns, ca) = (list_arg(a, 1)?, list_arg(a, 2)?, cert_arg(a, 4)?);
        let names = Names { cn: str_arg(a, 0)?, ips: &ips, dns: &dns };
        certificate(&names, int_arg(a, 3)?, None, Signer::Ca(&ca))
    });
    reg(m, "genSignedCertWithKey", Arity::Exact(6), |a| {
        let (ips, dns, ca) = (list_arg(a, 1)?, list_arg(a, 2)?, cert_arg(a, 4)?);
        let names = Names { cn: str_arg(a, 0)?, ips: &ips, dns: &dns };
        certificate(&names, int_arg(a, 3)?, Some(str_arg(a, 5)?), Signer::Ca(&ca))
    });
    reg(m, "buildCustomCert", Arity::Exact(2), |a| {
        certs::build_custom(str_arg(a, 0)?, str_arg(a, 1)?).map(Certificate::into_value).map_err(call_err)
    });
    reg(m, "derivePassword", Arity::Exact(5), |a| {
        let counter = u32_arg(a, 0)?;
        let (kind, password, user, site) = (str_arg(a, 1)?, str_arg(a, 2)?, str_arg(a, 3)?, str_arg(a, 4)?);
        Ok(Value::String(password::derive_password(counter, kind, password, user, site)))
    });
    reg(m, "bcrypt", Arity::Exact(1), |a| Ok(Value::String(password::bcrypt(str_arg(a, 0)?))));
    reg(m, "htpasswd", Arity::Exact(2), |a| Ok(Value::String(password::htpasswd(str_arg(a, 0)?, str_arg(a, 1)?))));
    reg(m, "encryptAES", Arity::Exact(2), |a| {
        aes::encrypt(str_arg(a, 0)?, str_arg(a, 1)?).map(Value::String).map_err(call_err)
    });
    reg(m, "decryptAES", Arity::Exact(2), |a| {
        aes::decrypt(str_arg(a, 0)?, str_arg(a, 1)?).map(Value::String).map_err(call_err)
    });
}

#[cfg(test)]
mod tests {
    use super::super::test_util::render;

    #[test]
    fn self_signed_ca_has_cert_and_key() {
        let out = render(r#"{{ $ca := genCAWithKey "my-ca" 30 (genPrivateKey "ecdsa") }}{{ $ca.Cert }}{{ $ca.Key }}"#)
            .unwrap();
        assert!(out.starts_with("-----BEGIN CERTIFICATE-----\n"), "{out}");
        assert!(out.contains("-----BEGIN EC PRIVATE KEY-----\n"), "{out}");
    }

    #[test]
    fn signed_cert_needs_a_certificate() {
        let e = render(r#"{{ genSignedCertWithKey "x" nil nil 1 (dict) "" }}"#).unwrap_err();
        assert!(e.contains("expected sprig.certificate; got map[string]interface {}"), "{e}");
    }

    #[test]
    fn aes_round_trip_in_templates() {
        assert_eq!(render(r#"{{ encryptAES "k" "hello" | decryptAES "k" }}"#).unwrap(), "hello");
    }
}
