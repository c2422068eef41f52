//! Decrypts the fixtures of `testdata/`, written by `testdata/generate.py`, an implementation of
//! SOPS's encryption independent of this crate.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;

use serde_json::Value;
use weir_sops::{Format, Keys, Options, SopsError, decrypt, decrypt_as, decrypt_object, detect, has_marker};

fn testdata(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(name: &str) -> String {
    String::from_utf8(testdata(name)).unwrap()
}

fn age_keys(file: &str) -> Keys {
    let mut keys = Keys::new();
    keys.add_age(&text(&format!("keys/{file}"))).unwrap();
    keys
}

fn plain_values() -> Value {
    serde_json::from_slice(&testdata("values.plain.json")).unwrap()
}

fn yaml(bytes: &[u8]) -> Value {
    serde_saphyr::from_slice(bytes).unwrap()
}

fn decrypt_yaml(name: &str, keys: &Keys) -> Result<Value, SopsError> {
    decrypt(&testdata(name), Format::Yaml, keys, Options::default()).map(|out| yaml(&out))
}

#[test]
fn yaml_with_every_value_type_decrypts() {
    let out = decrypt_yaml("values.age.yaml", &age_keys("age.agekey")).unwrap();
    assert_eq!(out, plain_values());
}

#[test]
fn json_decrypts_to_json() {
    let out = decrypt(&testdata("values.age.json"), Format::Json, &age_keys("age.agekey"), Options::default()).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), plain_values());
}

#[test]
fn multi_document_yaml_shares_one_mac() {
    let out = decrypt(&testdata("multi.age.yaml"), Format::Yaml, &age_keys("age.agekey"), Options::default()).unwrap();
    let text = std::str::from_utf8(&out).unwrap();
    let options = serde_saphyr::options! { strict_booleans: true };
    let documents: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options).unwrap();
    assert_eq!(documents, [serde_json::json!({"first": "one"}), serde_json::json!({"second": "two", "n": 7})]);
}

#[test]
fn dotenv_decrypts_with_escaped_newlines() {
    let out = decrypt(&testdata("app.age.env"), Format::Dotenv, &age_keys("age.agekey"), Options::default()).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "API_TOKEN=token-from-dotenv\nMULTI=line1\\nline2\n");
}

#[test]
fn binary_files_decrypt_to_their_bytes() {
    let out = decrypt(&testdata("blob.age.bin"), Format::Binary, &age_keys("age.agekey"), Options::default()).unwrap();
    assert_eq!(out, testdata("blob.plain"));
}

#[test]
fn pgp_keys_recover_the_data_key() {
    let mut keys = Keys::new();
    assert_eq!(keys.add_pgp(&testdata("keys/pgp.asc")).unwrap(), 1);
    assert_eq!(decrypt_yaml("values.pgp.yaml", &keys).unwrap(), plain_values());
}

#[test]
fn ssh_keys_are_age_identities() {
    let mut keys = Keys::new();
    keys.add_age(&text("keys/id_ed25519")).unwrap();
    assert_eq!(decrypt_yaml("values.ssh.yaml", &keys).unwrap(), plain_values());
}

#[test]
fn any_recipient_that_matches_opens_the_file() {
    assert_eq!(decrypt_yaml("values.two-recipients.yaml", &age_keys("age.agekey")).unwrap(), plain_values());
    assert_eq!(decrypt_yaml("values.two-recipients.yaml", &age_keys("wrong.agekey")).unwrap(), plain_values());
}

#[test]
fn every_encryption_rule_is_honoured() {
    let keys = age_keys("age.agekey");
    for name in ["encrypted-suffix", "unencrypted-regex", "encrypted-regex", "mac-only-encrypted"] {
        let file = format!("values.{name}.yaml");
        assert_eq!(decrypt_yaml(&file, &keys).unwrap_or_else(|e| panic!("{file}: {e}")), plain_values(), "{file}");
    }
    // What each rule left in clear text, to prove the rule was in force.
    let encrypted: Value = yaml(&testdata("values.encrypted-regex.yaml"));
    assert_eq!(encrypted["name"], "weir");
    assert!(encrypted["nested"]["password"].as_str().unwrap().starts_with("ENC["));
    let unencrypted: Value = yaml(&testdata("values.unencrypted-regex.yaml"));
    assert_eq!(unencrypted["nested"]["port"], 5432);
    assert!(unencrypted["ratio"].as_str().unwrap().starts_with("ENC["));
    let suffix: Value = yaml(&testdata("values.encrypted-suffix.yaml"));
    assert_eq!(suffix["name"], "weir");
    assert!(suffix["nested"]["password"].as_str().unwrap().starts_with("ENC["), "'password' ends with 'word'");
}

#[test]
fn one_key_file_may_hold_several_identities() {
    let mut keys = Keys::new();
    let both = format!("{}\n{}", text("keys/wrong.agekey"), text("keys/age.agekey"));
    assert_eq!(keys.add_age(&both).unwrap(), 2);
    assert_eq!(decrypt_yaml("values.age.yaml", &keys).unwrap(), plain_values());
}

#[test]
fn a_tampered_file_is_refused() {
    let error = decrypt_yaml("values.tampered.yaml", &age_keys("age.agekey")).unwrap_err();
    assert!(matches!(error, SopsError::MacMismatch), "{error}");
    assert!(error.to_string().contains("MAC mismatch"), "{error}");
    // Without the check (as for resources kustomize has changed) the values still decrypt.
    let out = decrypt(
        &testdata("values.tampered.yaml"),
        Format::Yaml,
        &age_keys("age.agekey"),
        Options { verify_mac: false },
    )
    .unwrap();
    assert_eq!(yaml(&out)["note_unencrypted"], "edited by hand");
}

#[test]
fn a_wrong_key_names_the_recipients_and_the_keys_given() {
    let wrong = age_keys("wrong.agekey");
    let error = decrypt_yaml("values.age.yaml", &wrong).unwrap_err().to_string();
    let recipient = text("keys/age.agekey").lines().next().unwrap().trim_start_matches("# public key: ").to_string();
    let given = text("keys/wrong.agekey").lines().next().unwrap().trim_start_matches("# public key: ").to_string();
    assert!(error.contains(&format!("encrypted for age {recipient}")), "{error}");
    assert!(error.contains(&format!("keys given are age {given}")), "{error}");
    assert!(!error.contains("AGE-SECRET-KEY"), "{error}");

    let mut pgp = Keys::new();
    pgp.add_pgp(&testdata("keys/pgp.asc")).unwrap();
    let error = decrypt_yaml("values.age.yaml", &pgp).unwrap_err().to_string();
    assert!(error.contains("keys given are pgp "), "{error}");
    let error = decrypt_yaml("values.pgp.yaml", &Keys::new()).unwrap_err().to_string();
    assert!(error.contains("encrypted for pgp ") && error.contains("keys given are none"), "{error}");
}

#[test]
fn kms_only_files_say_weir_does_not_support_them() {
    let error = decrypt_yaml("values.kms.yaml", &age_keys("age.agekey")).unwrap_err().to_string();
    assert!(error.contains("hc_vault, kms, which Weir does not support"), "{error}");
}

#[test]
fn resources_decrypt_without_their_sops_key() {
    let secret: Value = yaml(&testdata("secret.age.yaml"));
    assert!(weir_sops::is_encrypted_object(&secret));
    // kustomize adds a namespace: the MAC no longer matches, values still decrypt.
    let mut built = secret.clone();
    built["metadata"]["namespace"] = "apps".into();
    let out = decrypt_object(&built, &age_keys("age.agekey"), Options { verify_mac: false }).unwrap();
    assert_eq!(out["stringData"]["password"], "s3cr3t-from-sops");
    assert_eq!(out["metadata"]["namespace"], "apps");
    assert!(out.get("sops").is_none());
    let mismatch = decrypt_object(&built, &age_keys("age.agekey"), Options::default()).unwrap_err();
    assert!(matches!(mismatch, SopsError::MacMismatch), "{mismatch}");

    let mut keys = Keys::new();
    keys.add_pgp(&testdata("keys/pgp.asc")).unwrap();
    let pgp: Value = yaml(&testdata("secret.pgp.yaml"));
    // serde_json sorts keys, so the MAC over document order cannot be checked on a Value.
    let out = decrypt_object(&pgp, &keys, Options { verify_mac: false }).unwrap();
    assert_eq!(out["data"]["token"], "dG9rZW4tYnl0ZXM=");
}

#[test]
fn markers_tell_encrypted_documents_apart() {
    assert_eq!(detect(&testdata("values.age.yaml")), Some(Format::Yaml));
    assert_eq!(detect(&testdata("values.age.json")), Some(Format::Json));
    assert_eq!(detect(&testdata("app.age.env")), Some(Format::Dotenv));
    assert_eq!(detect(&testdata("values.plain.json")), None);
    assert!(!has_marker(b"API_TOKEN=plain\n", Format::Dotenv));
    assert!(!weir_sops::is_encrypted_object(&plain_values()));
}

#[test]
fn a_yaml_document_can_be_written_as_json() {
    let out = decrypt_as(
        &testdata("values.age.yaml"),
        Format::Yaml,
        Format::Json,
        &age_keys("age.agekey"),
        Options::default(),
    )
    .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), plain_values());
}

#[test]
fn bad_input_says_what_is_wrong_without_plaintext() {
    let keys = age_keys("age.agekey");
    let error = decrypt(b"a: [unclosed", Format::Yaml, &keys, Options::default()).unwrap_err();
    assert!(error.to_string().starts_with("not valid YAML"), "{error}");
    let error = decrypt(b"plain: value\n", Format::Yaml, &keys, Options::default()).unwrap_err();
    assert!(matches!(error, SopsError::NoMetadata), "{error}");
    // A value that should be encrypted but was written in clear text.
    let edited = text("values.age.yaml").replacen("name: ENC[", "name: plaintext-secret #ENC[", 1);
    let error = decrypt(edited.as_bytes(), Format::Yaml, &keys, Options::default()).unwrap_err().to_string();
    assert!(error.contains("cannot decrypt the value at 'name'"), "{error}");
    assert!(!error.contains("plaintext-secret"), "{error}");
    assert!(Keys::new().add_age("not a key").unwrap_err().to_string().contains("line 1"));
    assert!(Keys::new().add_pgp(b"junk").is_err());
}
