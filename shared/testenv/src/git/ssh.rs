//! OpenSSH's `sshd` on loopback for Git over SSH, and the `ssh-keygen` key pairs the tests use.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::must;

pub const SSHD: &str = "/usr/sbin/sshd";

/// `sshd` on a free loopback port, with its own host key, letting the current user in with one
/// client key. Killed on drop.
pub struct SshServer {
    pub port: u16,
    child: Child,
    pub dir: tempfile::TempDir,
}

impl SshServer {
    pub fn start() -> SshServer {
        assert!(
            Path::new(SSHD).is_file(),
            "this test needs {SSHD} (apt-get install openssh-server) and ssh-keygen (openssh-client)"
        );
        let dir = must(tempfile::tempdir(), "creating the sshd directory");
        let host_key = keygen(dir.path(), "host_key");
        let client_key = keygen(dir.path(), "client_key");
        must(
            std::fs::copy(client_key.with_extension("pub"), dir.path().join("authorized_keys")),
            "writing authorized_keys",
        );
        if user() == "root" {
            // sshd running as root needs its privilege separation directory.
            must(std::fs::create_dir_all("/run/sshd"), "creating /run/sshd");
        }
        let port = crate::free_addr().port();
        let config = dir.path().join("sshd_config");
        let written = std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nPidFile {dir}/sshd.pid\n\
                 AuthorizedKeysFile {dir}/authorized_keys\nStrictModes no\nUsePAM no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
                 AcceptEnv GIT_PROTOCOL\nAllowUsers {user}\n",
                host = host_key.display(),
                dir = dir.path().display(),
                user = user(),
            ),
        );
        must(written, "writing sshd_config");
        let log = must(std::fs::File::create(dir.path().join("sshd.log")), "creating sshd.log");
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {SSHD}: {e}"));
        let server = SshServer { port, child, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not start: {}", server.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    pub fn client_key(&self) -> Vec<u8> {
        must(std::fs::read(self.dir.path().join("client_key")), "reading the client key")
    }

    /// The known_hosts line ssh expects for this server: `[127.0.0.1]:<port> <type> <key>`.
    pub fn known_hosts(&self) -> String {
        let public = must(std::fs::read_to_string(self.dir.path().join("host_key.pub")), "reading the host key");
        format!("[127.0.0.1]:{} {}", self.port, public.trim())
    }

    pub fn url(&self, repo: &Path) -> String {
        format!("ssh://{}@127.0.0.1:{}{}", user(), self.port, repo.display())
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn user() -> String {
    let output = must(Command::new("id").arg("-un").output(), "running `id -un`");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A new ed25519 key pair `<dir>/<name>` and `<name>.pub`, without a passphrase.
pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    keygen_with_passphrase(dir, name, "")
}

pub fn keygen_with_passphrase(dir: &Path, name: &str, passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f"])
        .arg(&path)
        .status()
        .unwrap_or_else(|e| panic!("running ssh-keygen (apt-get install openssh-client): {e}"));
    assert!(status.success(), "ssh-keygen failed to make {}", path.display());
    path
}
