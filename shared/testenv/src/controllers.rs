//! Weir's controller binaries as processes against the test control plane, each watching only
//! the test's namespace, with its log in a file that failing tests print.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::{TestEnv, binary_path, free_addr};

/// Running controllers; killed when dropped.
pub struct Controllers {
    children: Vec<Child>,
    logs: Vec<PathBuf>,
    storage: tempfile::TempDir,
    /// Where the source-controller serves artifacts, when it runs.
    pub storage_addr: SocketAddr,
}

impl Controllers {
    /// Starts the named controllers (e.g. `source-controller`, `kustomize-controller`) for
    /// `namespace`, building their binaries first when needed. `extra` args go to every one.
    pub fn start(env: &TestEnv, namespace: &str, names: &[&str], extra: &[String]) -> std::io::Result<Controllers> {
        let storage = tempfile::tempdir()?;
        let storage_addr = free_addr();
        let mut controllers = Controllers { children: Vec::new(), logs: Vec::new(), storage, storage_addr };
        for name in names {
            let log = std::env::temp_dir().join(format!("weir-{name}-{namespace}.log"));
            let mut command = Command::new(binary_path(name));
            command
                .arg(format!("--kubeconfig={}", env.kubeconfig_path().display()))
                .arg(format!("--health-addr={}", free_addr()))
                .arg(format!("--metrics-addr={}", free_addr()))
                .arg("--watch-all-namespaces=false")
                .arg("--log-level=debug")
                .args(extra)
                .env("RUNTIME_NAMESPACE", namespace)
                // Artifact caches and temporary checkouts go away with the test.
                .env("TMPDIR", controllers.storage.path())
                .env_remove("KUBECONFIG")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log)?);
            if *name == "source-controller" {
                let path = controllers.storage.path().join("artifacts");
                command
                    .arg(format!("--storage-path={}", path.display()))
                    .arg(format!("--storage-addr={storage_addr}"))
                    .arg(format!("--storage-adv-addr={storage_addr}"));
            }
            controllers.children.push(command.spawn()?);
            controllers.logs.push(log);
        }
        Ok(controllers)
    }

    /// The process ids, in the order the controllers were named.
    pub fn pids(&self) -> Vec<u32> {
        self.children.iter().map(Child::id).collect()
    }

    /// Every controller's log so far, for a failure message.
    pub fn logs(&self) -> String {
        self.logs
            .iter()
            .map(|p| format!("== {}\n{}", p.display(), std::fs::read_to_string(p).unwrap_or_default()))
            .collect()
    }
}

impl Drop for Controllers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
