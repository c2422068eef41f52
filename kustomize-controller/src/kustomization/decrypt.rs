//! `spec.decryption` (provider `sops`), as Flux's kustomize-controller does it:
//! - keys come from `spec.decryption.secretRef` in the Kustomization's namespace: `*.agekey`
//!   entries hold age identities, `*.asc` entries armored OpenPGP private keys; Flux's cloud
//!   entries (`sops.vault-token`, `sops.aws-kms`, `sops.azure-kv`, `sops.gcp-kms`) are not used
//!   and the error says so when no other key could decrypt;
//! - before the build, the files the kustomization tree's `secretGenerator`s (`files`, `envs`)
//!   and `patches` read are decrypted when they carry SOPS metadata. The extracted artifact is a
//!   shared cache that is never written: the build then reads a private copy;
//! - after kustomize and before postBuild substitution and commonMetadata, every object with SOPS
//!   metadata is decrypted, and so is each `data` entry of a Secret that holds a SOPS document; the
//!   annotation `kustomize.toolkit.fluxcd.io/decrypt: disabled` leaves an object as it is;
//! - without `spec.decryption`, an encrypted `v1` Secret fails the apply, naming the Secret.
//!
//! Like Flux, the MAC is not checked: kustomize sets namespaces and labels on objects before they
//! are decrypted, and Flux accepts sources edited around SOPS. Each value is still authenticated
//! with AES-GCM under its path.

use std::collections::{BTreeMap, HashSet};
use std::path::{Component, Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, ResourceExt};
use serde_json::Value;
use weir_api::kustomize::{Kustomization, KustomizationSpec};
use weir_kustomize::flux::{FluxBuildError, FluxBuildOptions};
use weir_sops::{Format, Keys, Options};

use super::build;
use super::reconcile::ReconcileError;

/// The annotation that exempts an object from decryption.
const DECRYPT_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/decrypt";
/// Flux's limit on a source file to decrypt.
const MAX_FILE_SIZE: u64 = 5 << 20;
/// Secret entries of cloud credentials Flux reads and Weir does not.
const UNSUPPORTED_ENTRIES: [&str; 4] = ["sops.vault-token", "sops.aws-kms", "sops.azure-kv", "sops.gcp-kms"];
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The keys of one Kustomization, and what they were read from.
#[derive(Debug)]
pub struct Decryption {
    keys: Keys,
    /// The Secret's `uid/resourceVersion`: a changed Secret invalidates a reused build.
    pub version: String,
    /// The Secret's entries of providers Weir does not support.
    unsupported: Vec<String>,
}

/// Why the build with decryption failed.
#[derive(Debug)]
pub enum DecryptBuildError {
    Kustomize(FluxBuildError),
    /// Sources or objects could not be decrypted.
    Decrypt(String),
    /// An encrypted Secret and no `spec.decryption`.
    Encrypted(String),
}

impl DecryptBuildError {
    /// Flux's reasons: BuildFailed, but ReconciliationFailed for an encrypted Secret (Flux finds
    /// those at the apply).
    pub fn into_reconcile(self) -> ReconcileError {
        match self {
            DecryptBuildError::Kustomize(e) => ReconcileError::Build(build::error_message(&e)),
            DecryptBuildError::Decrypt(message) => ReconcileError::Build(message),
            DecryptBuildError::Encrypted(message) => ReconcileError::Apply(message),
        }
    }
}

/// Reads the keys of `spec.decryption`; `None` without it. Without a `secretRef`, the age keys
/// of `--sops-age-secret` (`global_age`, in the controller's namespace) when it is set.
pub async fn load(
    client: &kube::Client,
    obj: &Kustomization,
    namespace: &str,
    global_age: Option<&str>,
) -> Result<Option<Decryption>, String> {
    let Some(decryption) = &obj.spec.decryption else { return Ok(None) };
    let (namespace, name, age_only) = match (&decryption.secret_ref, global_age) {
        (Some(secret_ref), _) => (namespace.to_string(), secret_ref.name.clone(), false),
        (None, Some(global)) => (weir_runtime::identity::runtime_namespace(), global.to_string(), true),
        (None, None) => {
            return Ok(Some(Decryption { keys: Keys::new(), version: String::new(), unsupported: Vec::new() }));
        }
    };
    let api: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let secret = match api.get_opt(&name).await {
        Ok(Some(secret)) => secret,
        // Flux's message: the API server's NotFound.
        Ok(None) => return Err(format!("secrets \"{name}\" not found")),
        Err(e) => return Err(format!("cannot get sops decryption Secret '{namespace}/{name}': {e}")),
    };
    let version = format!("{}/{}", secret.uid().unwrap_or_default(), secret.resource_version().unwrap_or_default());
    let mut keys = Keys::new();
    let mut unsupported = Vec::new();
    for (entry, value) in secret.data.unwrap_or_default() {
        let failed = |e: weir_sops::KeyError| {
            format!("failed to import '{entry}' data from sops decryption Secret '{namespace}/{name}': {e}")
        };
        if entry.ends_with(".agekey") {
            let text = String::from_utf8(value.0)
                .map_err(|_| format!("'{entry}' of Secret '{namespace}/{name}' is not UTF-8"))?;
            keys.add_age(&text).map_err(failed)?;
        } else if age_only {
            // Flux reads only age keys from the controller-wide Secret.
        } else if entry.ends_with(".asc") {
            keys.add_pgp(&value.0).map_err(failed)?;
        } else if UNSUPPORTED_ENTRIES.contains(&entry.as_str()) {
            unsupported.push(entry);
        }
    }
    Ok(Some(Decryption { keys, version, unsupported }))
}

impl Decryption {
    fn decrypt_error(&self, what: &str, error: weir_sops::SopsError) -> String {
        let mut message = format!("{what}: {error}");
        if matches!(error, weir_sops::SopsError::Key(_)) && !self.unsupported.is_empty() {
            message.push_str(&format!(
                " (the decryption Secret's {} cannot be used: Weir decrypts with age and OpenPGP keys only)",
                self.unsupported.join(", ")
            ));
        }
        message
    }
}

/// Builds `spec` from the artifact at `root`, decrypting as Flux does; blocking.
pub fn build(
    root: &Path,
    spec: &KustomizationSpec,
    variables: &BTreeMap<String, String>,
    options: FluxBuildOptions,
    decryption: Option<&Decryption>,
) -> Result<Vec<Value>, DecryptBuildError> {
    let Some(decryption) = decryption else {
        let objects = weir_kustomize::flux::build_with_options(root, spec, variables, options)
            .map_err(DecryptBuildError::Kustomize)?;
        if let Some(secret) = objects.iter().find(|o| is_encrypted_secret(o)) {
            return Err(DecryptBuildError::Encrypted(format!(
                "{} is SOPS encrypted, configuring decryption is required for this secret to be reconciled",
                describe(secret)
            )));
        }
        return Ok(objects);
    };
    let copy = decrypted_sources(root, spec.path.as_deref(), decryption)
        .map_err(|e| DecryptBuildError::Decrypt(format!("error decrypting sources: {e}")))?;
    let build_root = copy.as_ref().map_or(root, |dir| dir.path());
    // Decrypted before postBuild substitution and commonMetadata, as Flux does.
    let decrypt_all = |objects: &mut [Value]| objects.iter_mut().try_for_each(|o| decrypt_object(o, decryption));
    weir_kustomize::flux::build_with_step(build_root, spec, variables, options, &decrypt_all).map_err(|e| match e {
        FluxBuildError::BeforeSubstitution(message) => DecryptBuildError::Decrypt(message),
        other => DecryptBuildError::Kustomize(other),
    })
}

fn annotation_disables(object: &Value) -> bool {
    object["metadata"]["annotations"][DECRYPT_ANNOTATION].as_str().is_some_and(|v| v.eq_ignore_ascii_case("disabled"))
}

/// `Kind/namespace/name`, as Flux names an object in messages.
fn describe(object: &Value) -> String {
    let field = |path: &str| object.pointer(path).and_then(Value::as_str).unwrap_or_default();
    let (kind, namespace, name) = (field("/kind"), field("/metadata/namespace"), field("/metadata/name"));
    if namespace.is_empty() { format!("{kind}/{name}") } else { format!("{kind}/{namespace}/{name}") }
}

/// A `v1` Secret with a `sops` key that decryption will not touch.
fn is_encrypted_secret(object: &Value) -> bool {
    object["kind"] == "Secret"
        && object["apiVersion"] == "v1"
        && object.get("sops").is_some()
        && !annotation_disables(object)
}

fn decrypt_object(object: &mut Value, decryption: &Decryption) -> Result<(), String> {
    if annotation_disables(object) {
        return Ok(());
    }
    let options = Options { verify_mac: false };
    if weir_sops::is_encrypted_object(object) {
        *object = weir_sops::decrypt_object(object, &decryption.keys, options)
            .map_err(|e| decryption.decrypt_error(&format!("decryption failed for '{}'", describe(object)), e))?;
        return Ok(());
    }
    if object["kind"] != "Secret" {
        return Ok(());
    }
    let what = describe(object);
    let Some(data) = object.get_mut("data").and_then(Value::as_object_mut) else { return Ok(()) };
    for (key, value) in data.iter_mut() {
        // Not base64: the apply reports it.
        let Some(bytes) = value.as_str().and_then(|v| STANDARD.decode(v).ok()) else { continue };
        let Some(input) = weir_sops::detect(&bytes) else { continue };
        let plain =
            weir_sops::decrypt_as(&bytes, input, format_for_key(key), &decryption.keys, options).map_err(|e| {
                decryption.decrypt_error(&format!("decryption failed for '{what}': Secret field '{key}'"), e)
            })?;
        *value = Value::String(STANDARD.encode(plain));
    }
    Ok(())
}

/// Flux's format for a generator key or file: SOPS's by extension, `.dockerconfigjson` is JSON.
fn format_for_key(key: &str) -> Format {
    if key.ends_with(".dockerconfigjson") { Format::Json } else { Format::for_path(key) }
}

/// The artifact copied to a private directory with its encrypted generator and patch sources
/// decrypted, or `None` when none is encrypted.
fn decrypted_sources(
    root: &Path,
    path: Option<&str>,
    decryption: &Decryption,
) -> Result<Option<tempfile::TempDir>, String> {
    let start = confine(Path::new(""), path.unwrap_or_default())
        .ok_or_else(|| "path points outside the artifact".to_string())?;
    let mut sources = BTreeMap::new();
    let mut visited = HashSet::new();
    collect_sources(root, &start, &mut sources, &mut visited)?;
    let real_root = std::fs::canonicalize(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut decrypted = Vec::new();
    for (file, format) in sources {
        let full = root.join(&file);
        // Missing files are the build's to report.
        let Ok(real) = std::fs::canonicalize(&full) else { continue };
        if !real.starts_with(&real_root) {
            return Err(format!("{}: points outside the artifact", file.display()));
        }
        let meta = std::fs::symlink_metadata(&full).map_err(|e| format!("{}: {e}", file.display()))?;
        if !meta.file_type().is_file() {
            return Err(format!("{}: cannot decrypt irregular file", file.display()));
        }
        if meta.len() > MAX_FILE_SIZE {
            return Err(format!(
                "{}: cannot decrypt file with size ({} bytes) exceeding limit ({MAX_FILE_SIZE})",
                file.display(),
                meta.len()
            ));
        }
        let data = std::fs::read(&full).map_err(|e| format!("{}: {e}", file.display()))?;
        if !weir_sops::has_marker(&data, format) {
            continue;
        }
        let plain = weir_sops::decrypt(&data, format, &decryption.keys, Options { verify_mac: false })
            .map_err(|e| decryption.decrypt_error(&format!("{}", file.display()), e))?;
        decrypted.push((file, plain));
    }
    if decrypted.is_empty() {
        return Ok(None);
    }
    let copy = tempfile::Builder::new()
        .prefix("weir-decrypted-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    link_tree(root, copy.path()).map_err(|e| format!("copying the artifact: {e}"))?;
    for (file, plain) in decrypted {
        let target = copy.path().join(&file);
        // A new file, not a write through the link into the shared cache.
        std::fs::remove_file(&target).map_err(|e| format!("{}: {e}", file.display()))?;
        std::fs::write(&target, plain).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(Some(copy))
}

/// `base` joined with `relative`, normalised, if it stays inside the root (`None` otherwise).
fn confine(base: &Path, relative: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in base.join(relative.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Visits the kustomization in `dir` (relative to `root`) and the local directories it builds
/// on, collecting the files its secret generators and patches read, with their formats.
fn collect_sources(
    root: &Path,
    dir: &Path,
    sources: &mut BTreeMap<PathBuf, Format>,
    visited: &mut HashSet<PathBuf>,
) -> Result<(), String> {
    if !visited.insert(dir.to_path_buf()) || !root.join(dir).is_dir() {
        return Ok(());
    }
    let Some(file) = KUSTOMIZATION_FILES.iter().map(|f| dir.join(f)).find(|f| root.join(f).is_file()) else {
        return Ok(());
    };
    let text = std::fs::read_to_string(root.join(&file)).map_err(|e| format!("{}: {e}", file.display()))?;
    let Ok(Some(kustomization)) = weir_kustomize::parse_documents(&text).map(|d| d.into_iter().next()) else {
        // The build reports a kustomization it cannot read.
        return Ok(());
    };
    let strings = |value: &Value| -> Vec<String> {
        match value {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => Vec::new(),
        }
    };
    let mut add = |relative: &str, format: Format| -> Result<(), String> {
        if relative.contains("://") {
            return Ok(());
        }
        let file = confine(dir, relative).ok_or_else(|| format!("'{relative}' points outside the artifact"))?;
        sources.entry(file).or_insert(format);
        Ok(())
    };
    for generator in kustomization["secretGenerator"].as_array().into_iter().flatten() {
        for source in strings(&generator["files"]) {
            let (key, file) = source.split_once('=').unwrap_or((&source, &source));
            add(file, format_for_key(key))?;
        }
        for env in strings(&generator["envs"]).into_iter().chain(strings(&generator["env"])) {
            let format = match Format::for_path(&env) {
                Format::Binary => Format::Dotenv,
                other => other,
            };
            add(&env, format)?;
        }
    }
    for patch in kustomization["patches"].as_array().into_iter().flatten() {
        if let Some(path) = patch["path"].as_str() {
            add(path, Format::for_path(path))?;
        }
    }
    for entry in strings(&kustomization["resources"]).into_iter().chain(strings(&kustomization["components"])) {
        if let Some(next) = confine(dir, &entry) {
            collect_sources(root, &next, sources, visited)?;
        }
    }
    Ok(())
}

/// Mirrors `from` into `to` with hard links (a copy where linking fails), symlinks as symlinks.
fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            std::fs::create_dir(&target)?;
            link_tree(&source, &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&source)?, &target)?;
        } else if std::fs::hard_link(&source, &target).is_err() {
            std::fs::copy(&source, &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/sops/testdata");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{TESTDATA}/{name}")).unwrap()
    }

    fn decryption(key_file: &str) -> Decryption {
        let mut keys = Keys::new();
        keys.add_age(&String::from_utf8(fixture(&format!("keys/{key_file}"))).unwrap()).unwrap();
        Decryption { keys, version: "1".into(), unsupported: vec!["sops.aws-kms".into()] }
    }

    /// An artifact with an encrypted Secret and a secretGenerator over an encrypted .env.
    fn artifact() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("apps");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("secret.yaml"), fixture("e2e/secret.yaml")).unwrap();
        std::fs::write(dir.join("app.env"), fixture("e2e/app.env")).unwrap();
        std::fs::write(
            dir.join("kustomization.yaml"),
            "resources: [secret.yaml]\nsecretGenerator:\n- name: app\n  envs: [app.env]\n",
        )
        .unwrap();
        root
    }

    fn spec(path: &str) -> KustomizationSpec {
        serde_json::from_value(serde_json::json!({
            "interval": "1m", "prune": true, "path": path,
            "sourceRef": {"kind": "GitRepository", "name": "app"}
        }))
        .unwrap()
    }

    #[test]
    fn decrypted_values_are_substituted_and_labelled_after_decryption() {
        let root = artifact();
        let mut spec = spec("./apps");
        spec.post_build =
            Some(serde_json::from_value(serde_json::json!({"substitute": {"DB_HOST": "db.local"}})).unwrap());
        spec.common_metadata = Some(serde_json::from_value(serde_json::json!({"labels": {"team": "a"}})).unwrap());
        let variables = BTreeMap::from([("DB_HOST".to_string(), "db.local".to_string())]);
        let objects =
            build(root.path(), &spec, &variables, FluxBuildOptions::default(), Some(&decryption("age.agekey")))
                .unwrap();
        let secret = named(&objects, "db");
        assert_eq!(secret["stringData"]["url"], "postgres://db.local/app");
        assert_eq!(secret["metadata"]["labels"]["team"], "a");
    }

    fn run(root: &Path, decryption: Option<&Decryption>) -> Result<Vec<Value>, DecryptBuildError> {
        build(root, &spec("./apps"), &BTreeMap::new(), FluxBuildOptions::default(), decryption)
    }

    fn named<'a>(objects: &'a [Value], prefix: &str) -> &'a Value {
        objects.iter().find(|o| o["metadata"]["name"].as_str().is_some_and(|n| n.starts_with(prefix))).unwrap()
    }

    #[test]
    fn secrets_and_generator_sources_are_decrypted_without_touching_the_artifact() {
        let root = artifact();
        let before = std::fs::read(root.path().join("apps/app.env")).unwrap();
        let objects = run(root.path(), Some(&decryption("age.agekey"))).unwrap();
        let secret = named(&objects, "db");
        assert_eq!(secret["stringData"]["password"], "s3cr3t-from-sops");
        assert!(secret.get("sops").is_none());
        let generated = named(&objects, "app-");
        assert_eq!(generated["data"]["API_TOKEN"], STANDARD.encode("token-from-dotenv"));
        assert_eq!(generated["data"]["MODE"], STANDARD.encode("production"));
        assert_eq!(std::fs::read(root.path().join("apps/app.env")).unwrap(), before, "the shared artifact was written");
    }

    #[test]
    fn a_wrong_key_fails_the_build_naming_recipients() {
        let root = artifact();
        let error = run(root.path(), Some(&decryption("wrong.agekey"))).unwrap_err();
        let DecryptBuildError::Decrypt(message) = error else { panic!("{error:?}") };
        assert!(
            message.starts_with("error decrypting sources: apps/app.env: none of the decryption keys"),
            "{message}"
        );
        assert!(message.contains("encrypted for age age1"), "{message}");
        assert!(message.contains("sops.aws-kms cannot be used"), "{message}");
    }

    #[test]
    fn encrypted_secrets_without_decryption_are_refused() {
        let root = artifact();
        std::fs::write(root.path().join("apps/kustomization.yaml"), "resources: [secret.yaml]\n").unwrap();
        let error = run(root.path(), None).unwrap_err();
        let DecryptBuildError::Encrypted(message) = error else { panic!("{error:?}") };
        assert_eq!(
            message,
            "Secret/db is SOPS encrypted, configuring decryption is required for this secret to be reconciled"
        );
    }

    #[test]
    fn the_decrypt_annotation_and_plain_objects_are_left_alone() {
        let keys = decryption("age.agekey");
        let mut secret: Value =
            weir_kustomize::parse_documents(&String::from_utf8(fixture("e2e/secret.yaml")).unwrap()).unwrap().remove(0);
        secret["metadata"]["annotations"] = serde_json::json!({DECRYPT_ANNOTATION: "Disabled"});
        let before = secret.clone();
        decrypt_object(&mut secret, &keys).unwrap();
        assert_eq!(secret, before);
        assert!(!is_encrypted_secret(&secret));
        let mut plain = serde_json::json!({"kind": "ConfigMap", "data": {"a": "b"}});
        decrypt_object(&mut plain, &keys).unwrap();
        assert_eq!(plain["data"]["a"], "b");
    }

    #[test]
    fn secret_data_entries_holding_sops_documents_are_decrypted() {
        let mut secret = serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"app.env": STANDARD.encode(fixture("e2e/app.env")), "plain": STANDARD.encode("x")}
        });
        decrypt_object(&mut secret, &decryption("age.agekey")).unwrap();
        let env = STANDARD.decode(secret["data"]["app.env"].as_str().unwrap()).unwrap();
        assert_eq!(String::from_utf8(env).unwrap(), "API_TOKEN=token-from-dotenv\nMODE=production\n");
        assert_eq!(secret["data"]["plain"], STANDARD.encode("x"));
    }

    #[test]
    fn sources_outside_the_artifact_are_refused() {
        assert_eq!(confine(Path::new("a"), "../b/c"), Some(PathBuf::from("b/c")));
        assert_eq!(confine(Path::new("a"), "../../etc/passwd"), None);
        let root = artifact();
        std::fs::write(
            root.path().join("apps/kustomization.yaml"),
            "secretGenerator:\n- name: x\n  files: [../../outside.env]\n",
        )
        .unwrap();
        let error = decrypted_sources(root.path(), Some("./apps"), &decryption("age.agekey")).unwrap_err();
        assert!(error.contains("outside the artifact"), "{error}");
    }
}
