//! An OCI registry on loopback (Debian's `docker-registry`, as the source-controller's tests
//! use) and Flux-format artifacts pushed to it with the source-controller's own registry client,
//! as `flux push artifact` lays them out: a `{}` config and one tar+gzip content layer.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use source_controller::oci::manifest::{FLUX_CONFIG, FLUX_CONTENT, OCI_MANIFEST};
use source_controller::oci::{ClientOptions, Descriptor, Manifest, RegistryClient, Repository};

const BINARY: &str = "/usr/bin/docker-registry";

/// A running `docker-registry`, anonymous and plain HTTP; stopped on drop.
pub struct Registry {
    child: Child,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts the registry and waits until it listens.
    pub fn start() -> anyhow::Result<Registry> {
        if !std::path::Path::new(BINARY).exists() {
            bail!("{BINARY} is missing: install Debian's docker-registry package (hack/test.sh does)");
        }
        let dir = tempfile::tempdir()?;
        let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config)?;
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("registry.log"))?)
            .spawn()
            .with_context(|| format!("starting {BINARY}"))?;
        let registry = Registry { child, addr, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                bail!("docker-registry did not listen on {addr}: {}", registry.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(registry)
    }

    /// `oci://127.0.0.1:<port>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.addr)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Pushes `files` (name, content) as a Flux artifact to `path:tag`.
    pub async fn push_artifact(&self, path: &str, tag: &str, files: &[(&str, &str)]) -> anyhow::Result<()> {
        let url = self.url(path);
        let repository = Repository::parse(&url).with_context(|| format!("parsing {url}"))?;
        let client = RegistryClient::new(repository, ClientOptions::default())?;
        let layer = tar_gz(files)?;
        let layer_len = layer.len();
        let config = client.push_blob(b"{}".to_vec()).await.with_context(|| format!("pushing to {url}"))?;
        let content = client.push_blob(layer).await.with_context(|| format!("pushing to {url}"))?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.into()),
            config: Some(descriptor(FLUX_CONFIG, config, 2)),
            layers: vec![descriptor(FLUX_CONTENT, content, layer_len)],
            ..Default::default()
        };
        client
            .push_manifest(tag, OCI_MANIFEST, serde_json::to_vec(&manifest)?)
            .await
            .with_context(|| format!("pushing the manifest {url}:{tag}"))?;
        Ok(())
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn descriptor(media_type: &str, digest: String, size: usize) -> Descriptor {
    Descriptor { media_type: media_type.into(), digest, size: size as i64, annotations: None }
}

/// A gzipped tarball of `files`, as `flux push artifact` builds its layer.
fn tar_gz(files: &[(&str, &str)]) -> anyhow::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    for (name, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, content.as_bytes())?;
    }
    Ok(tar.into_inner()?.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layer_holds_the_files() {
        let bytes = tar_gz(&[("app.yaml", "kind: Service\n")]).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let names: Vec<String> =
            archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
        assert_eq!(names, ["app.yaml"]);
    }
}
