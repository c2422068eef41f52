//! Starts and stops the local control plane through `hack/controlplane.sh`, the same script the
//! README's demo uses, so tests and people run the same thing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, bail};

/// The control plane of this test process; stopped on drop, and by the script's watchdog when
/// the process exits without dropping it (statics are never dropped).
pub struct ControlPlane {
    dir: PathBuf,
    kubeconfig: PathBuf,
}

impl ControlPlane {
    pub fn start() -> anyhow::Result<ControlPlane> {
        let root = workspace_root();
        let script = root.join("hack/controlplane.sh");
        // One directory per control plane: a process may run several, one after the other.
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let pid = std::process::id();
        let dir = match STARTED.fetch_add(1, Ordering::Relaxed) {
            0 => root.join("target/weir-testenv").join(format!("cp-{pid}")),
            n => root.join("target/weir-testenv").join(format!("cp-{pid}-{n}")),
        };
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
        eprintln!(
            "[weir-testenv] starting a control plane in {} (the first run on a machine builds it)",
            dir.display()
        );
        // stderr is inherited, so the build's progress shows while it runs.
        let out = Command::new(&script)
            .arg("up")
            .arg(&dir)
            .arg(std::process::id().to_string())
            .stderr(std::process::Stdio::inherit())
            .output()
            .with_context(|| format!("running {}", script.display()))?;
        if !out.status.success() {
            bail!("{} up failed ({}); its logs are in {}", script.display(), out.status, dir.display());
        }
        let kubeconfig = dir.join("kubeconfig");
        if !kubeconfig.exists() {
            bail!("{} up did not write {}", script.display(), kubeconfig.display());
        }
        Ok(ControlPlane { dir, kubeconfig })
    }

    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let script = workspace_root().join("hack/controlplane.sh");
        let _ = Command::new(script).arg("down").arg(&self.dir).status();
    }
}

/// The root of the Weir workspace (where the top Cargo.toml is).
pub fn workspace_root() -> PathBuf {
    // This crate sits at <root>/shared/testenv.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Path of one of the workspace's binaries (`weir`, `source-controller`, …), built once per test
/// process with the same profile as the tests, so a test never runs a stale binary.
pub fn binary_path(name: &str) -> PathBuf {
    // Benchmarks run release binaries they built themselves.
    if let Some(dir) = std::env::var_os("WEIR_BINARY_DIR") {
        return PathBuf::from(dir).join(name);
    }
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let path = target.join("debug").join(name);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == name) {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--bin", name])
            .current_dir(&root)
            .status()
            .unwrap_or_else(|e| panic!("running cargo build --bin {name}: {e}"));
        assert!(status.success(), "cargo build --bin {name} failed");
        built.push(name.to_string());
    }
    path
}
