//! Certificates as sprig's `genCA`, `genSelfSignedCert` and `genSignedCert` make them, with
//! Go's x509 template: a random 128-bit serial, subject CN only, valid from now for
//! `days` days, key usage digital signature + key encipherment (+ cert sign for a CA),
//! extended key usage server + client auth, basic constraints, SANs (DNS then IP).

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyIdMethod, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};

use super::keys::{PrivateKey, pem_decode, random_bytes};
use crate::template::{Object, Value};

/// sprig's `certificate` struct: `.Cert` and `.Key`, PEM strings.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Certificate {
    pub cert: String,
    pub key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> String {
        "sprig.certificate".into()
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::String(self.cert.clone())),
            "Key" => Some(Value::String(self.key.clone())),
            _ => None,
        }
    }

    fn format(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }
}

impl Certificate {
    pub(crate) fn into_value(self) -> Value {
        Value::Object(Arc::new(self))
    }
}

/// What the certificate is for: sprig's three shapes.
pub(crate) enum Signer<'a> {
    /// Self-signed CA (`genCA`).
    SelfCa,
    /// Self-signed leaf (`genSelfSignedCert`).
    SelfLeaf,
    /// Leaf signed by a CA (`genSignedCert`).
    Ca(&'a Certificate),
}

/// The names in a certificate request.
pub(crate) struct Names<'a> {
    pub cn: &'a str,
    pub ips: &'a [Value],
    pub dns: &'a [Value],
}

pub(crate) fn generate(
    names: &Names<'_>,
    days: i64,
    key: &PrivateKey,
    signer: Signer<'_>,
) -> Result<Certificate, String> {
    let mut params = base_params(names, days)?;
    let key_pair = rcgen_key(key)?;
    params.key_identifier_method = KeyIdMethod::PreSpecified(go_key_id(&key_pair));
    let cert = match signer {
        Signer::SelfCa => {
            params.key_usages.push(KeyUsagePurpose::KeyCertSign);
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.self_signed(&key_pair)
        }
        Signer::SelfLeaf => params.self_signed(&key_pair),
        Signer::Ca(ca) => {
            let Some((_, ca_der)) = pem_decode(&ca.cert) else { return Err("unable to decode certificate".into()) };
            let ca_key = PrivateKey::from_pem(&ca.key).map_err(|e| format!("error parsing private key: {e}"))?;
            let ca_key = rcgen_key(&ca_key)?;
            let issuer = Issuer::from_ca_cert_der(&ca_der.into(), ca_key)
                .map_err(|e| format!("error parsing certificate: decodedSignerCert.Bytes: {e}"))?;
            params.use_authority_key_identifier_extension = true;
            params.signed_by(&key_pair, &issuer)
        }
    }
    .map_err(|e| format!("error creating certificate: {e}"))?;
    Ok(Certificate { cert: cert.pem().replace("\r\n", "\n"), key: key.to_go_pem()? })
}

fn rcgen_key(key: &PrivateKey) -> Result<KeyPair, String> {
    let der = key.to_pkcs8_der()?;
    KeyPair::try_from(der.as_slice()).map_err(|e| format!("unusable private key: {e}"))
}

/// Go's subject key identifier: SHA-1 of the subject public key's bits.
fn go_key_id(key: &KeyPair) -> Vec<u8> {
    use rcgen::PublicKeyData;
    use sha1::Digest;
    sha1::Sha1::digest(key.der_bytes()).to_vec()
}

fn base_params(names: &Names<'_>, days: i64) -> Result<CertificateParams, String> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    if !names.cn.is_empty() {
        params.distinguished_name.push(DnType::CommonName, dn_value(names.cn));
    }
    // Go writes DNS names before IP addresses whatever the template's order.
    for dns in names.dns {
        let Value::String(name) = dns else {
            return Err(format!("error processing alternate dns name: {dns} is not a string"));
        };
        let name =
            name.clone().try_into().map_err(|_| format!("error processing alternate dns name: {name} is not ASCII"))?;
        params.subject_alt_names.push(SanType::DnsName(name));
    }
    for ip in names.ips {
        let Value::String(text) = ip else { return Err(format!("error parsing ip: {ip} is not a string")) };
        let addr: IpAddr = text.parse().map_err(|_| format!("error parsing ip: {text}"))?;
        // Go stores IPv4-mapped IPv6 addresses in 4 bytes.
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        params.subject_alt_names.push(SanType::IpAddress(addr));
    }
    let serial = random_bytes(16)?;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let now = time::OffsetDateTime::now_utc();
    let valid = days
        .checked_mul(86_400)
        .and_then(|s| now.checked_add(time::Duration::seconds(s)))
        .ok_or_else(|| format!("validity of {days} days is out of range"))?;
    params.not_before = now;
    params.not_after = valid;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    params.is_ca = IsCa::ExplicitNoCa;
    Ok(params)
}

/// Go's choice of string type for a name: PrintableString when every character fits,
/// UTF8String otherwise. (Go also allows `*` in a PrintableString; rcgen does not, so such
/// names are UTF8String here.)
fn dn_value(s: &str) -> DnValue {
    match rcgen::string::PrintableString::try_from(s) {
        Ok(p) => DnValue::PrintableString(p),
        Err(_) => DnValue::Utf8String(s.to_string()),
    }
}

/// sprig's `buildCustomCert`: checks base64 PEM certificate and key and returns them decoded.
pub(crate) fn build_custom(b64cert: &str, b64key: &str) -> Result<Certificate, String> {
    use super::super::encoding::decode64;
    let cert = decode64(b64cert).map_err(|_| "unable to decode base64 certificate".to_string())?;
    let key = decode64(b64key).map_err(|_| "unable to decode base64 private key".to_string())?;
    let cert = String::from_utf8_lossy(&cert).into_owned();
    let key = String::from_utf8_lossy(&key).into_owned();
    let Some((_, der)) = pem_decode(&cert) else { return Err("unable to decode certificate".into()) };
    x509_parser::parse_x509_certificate(&der)
        .map_err(|e| format!("error parsing certificate: decodedCert.Bytes: {e}"))?;
    PrivateKey::from_pem(&key).map_err(|e| format!("error parsing private key: {e}"))?;
    Ok(Certificate { cert, key })
}
