//! Git over SSH: gitoxide spawns the `ssh` program, so each connection gets its own command line
//! (gix's `core.sshCommand`, set in memory on the repository, never in the process environment)
//! pointing at a private key file and a known_hosts file written for that one operation.
//!
//! Host keys are always checked: an SSH remote without `known_hosts` is refused before `ssh`
//! runs, and `StrictHostKeyChecking=yes` with no global or user files makes `ssh` trust only the
//! Secret's keys. `BatchMode` stops it from ever prompting (with a passphrase, the askpass program
//! answers the only prompt left); `-F /dev/null` ignores any user config.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// SSH credentials from the GitRepository's `secretRef`: `identity` (a private key, optionally
/// encrypted with `password`) and `known_hosts`. Never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SshAuth {
    pub identity: Option<Vec<u8>>,
    pub password: Option<String>,
    pub known_hosts: Option<String>,
}

impl std::fmt::Debug for SshAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshAuth")
            .field("identity", &self.identity.as_ref().map(|_| "<redacted>"))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("known_hosts", &self.known_hosts.is_some())
            .finish()
    }
}

/// Why an SSH connection cannot be prepared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshError {
    #[error(
        "'known_hosts' is required for SSH: add the server's host keys to the secretRef (ssh-keyscan -p <port> <host>)"
    )]
    MissingKnownHosts,
    #[error("'identity' is required for SSH: add a private key to the secretRef")]
    MissingIdentity,
    #[error("the 'identity' private key is encrypted: {0}")]
    EncryptedIdentity(String),
    #[error("writing the SSH key files: {0}")]
    Io(String),
}

/// The files of one SSH operation, removed on drop, and the gix configuration that uses them.
pub struct SshSession {
    dir: tempfile::TempDir,
    key: PathBuf,
    known_hosts: PathBuf,
    stderr: PathBuf,
    /// The program that hands ssh the key's passphrase, if it has one.
    askpass: Option<PathBuf>,
}

impl SshSession {
    /// Writes the key (mode 0600) and known_hosts into a fresh private directory.
    pub fn prepare(auth: &SshAuth) -> Result<SshSession, SshError> {
        let known_hosts = auth.known_hosts.as_deref().filter(|k| !k.trim().is_empty());
        let known_hosts = known_hosts.ok_or(SshError::MissingKnownHosts)?;
        let identity = auth.identity.as_deref().filter(|k| !k.is_empty()).ok_or(SshError::MissingIdentity)?;
        let passphrase = auth.password.as_deref().filter(|p| !p.is_empty());
        if passphrase.is_none() && is_encrypted_pem(identity) {
            return Err(SshError::EncryptedIdentity("add its passphrase to the secretRef as 'password'".to_string()));
        }
        let io = |e: std::io::Error| SshError::Io(e.to_string());
        let dir = tempfile::Builder::new().prefix("weir-ssh-").tempdir().map_err(io)?;
        let key = dir.path().join("identity");
        let mut identity = identity.to_vec();
        // ssh refuses a key file whose last line has no newline.
        if !identity.ends_with(b"\n") {
            identity.push(b'\n');
        }
        write_private(&key, &identity).map_err(io)?;
        let known_hosts_path = dir.path().join("known_hosts");
        write_private(&known_hosts_path, known_hosts.as_bytes()).map_err(io)?;
        let stderr = dir.path().join("stderr");
        write_private(&stderr, b"").map_err(io)?;
        let askpass = match passphrase {
            Some(passphrase) => Some(write_askpass(dir.path(), passphrase).map_err(io)?),
            None => None,
        };
        Ok(SshSession { key, known_hosts: known_hosts_path, stderr, askpass, dir })
    }

    /// The `ssh` command line gix runs through `sh -c`, with gix's own arguments at `"$@"` and
    /// ssh's messages kept for the error.
    pub fn command(&self) -> String {
        let options = [
            "IdentitiesOnly=yes",
            "IdentityAgent=none",
            "PasswordAuthentication=no",
            "KbdInteractiveAuthentication=no",
            "StrictHostKeyChecking=yes",
            "GlobalKnownHostsFile=/dev/null",
            "LogLevel=ERROR",
            "ConnectTimeout=30",
        ];
        let mut command = String::new();
        match &self.askpass {
            // The passphrase comes from the askpass program, only prompt left: BatchMode would
            // forbid it, and every other prompt is already off (host keys strict, no passwords).
            Some(askpass) => {
                command.push_str(&format!("SSH_ASKPASS={} SSH_ASKPASS_REQUIRE=force ", shell_quote(askpass)));
                command.push_str(&format!("ssh -F /dev/null -i {}", shell_quote(&self.key)));
                command.push_str(" -o NumberOfPasswordPrompts=1");
            }
            None => {
                command.push_str(&format!("ssh -F /dev/null -i {}", shell_quote(&self.key)));
                command.push_str(" -o BatchMode=yes");
            }
        }
        command.push_str(&format!(" -o UserKnownHostsFile={}", shell_quote(&self.known_hosts)));
        for option in options {
            command.push_str(" -o ");
            command.push_str(option);
        }
        command.push_str(&format!(" \"$@\" 2>>{}", shell_quote(&self.stderr)));
        command
    }

    /// The in-memory configuration for gitoxide to connect with this session.
    pub fn config_overrides(&self) -> Vec<String> {
        vec![format!("core.sshCommand={}", self.command()), "ssh.variant=ssh".to_string()]
    }

    /// What ssh printed, for the error message of a failed operation.
    pub fn messages(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
    }

    /// The directory holding the session's files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Whether ssh's messages say the server's host key was not trusted.
pub fn is_host_key_failure(messages: &str) -> bool {
    messages.contains("Host key verification failed") || messages.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
}

/// Whether ssh's messages say the server refused the key.
pub fn is_auth_failure(messages: &str) -> bool {
    messages.contains("Permission denied")
}

fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    write_with_mode(path, content, 0o600)
}

fn write_with_mode(path: &Path, content: &[u8], mode: u32) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
    file.write_all(content)
}

/// A passphrase file (0600) and a script (0700) that prints it, in the session's directory:
/// the passphrase never appears on a command line or in the environment.
fn write_askpass(dir: &Path, passphrase: &str) -> std::io::Result<PathBuf> {
    let file = dir.join("passphrase");
    write_private(&file, passphrase.as_bytes())?;
    let script = dir.join("askpass");
    write_with_mode(&script, format!("#!/bin/sh\ncat {}\necho\n", shell_quote(&file)).as_bytes(), 0o700)?;
    Ok(script)
}

/// A legacy PEM key encrypted with a passphrase (`Proc-Type: 4,ENCRYPTED`, or PKCS#8's
/// `ENCRYPTED PRIVATE KEY`), or an OpenSSH key whose cipher is not `none`.
fn is_encrypted_pem(identity: &[u8]) -> bool {
    let text = String::from_utf8_lossy(identity);
    if text.contains("ENCRYPTED") {
        return true;
    }
    openssh_cipher(&text).is_some_and(|cipher| cipher != "none")
}

/// The cipher name of an `openssh-key-v1` private key.
fn openssh_cipher(text: &str) -> Option<String> {
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(body.trim()).ok()?;
    let rest = bytes.strip_prefix(b"openssh-key-v1\0")?;
    let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    let name = rest.get(4..4 + len)?;
    Some(String::from_utf8_lossy(name).into_owned())
}

/// Single-quotes a path for `sh`.
fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    fn auth(identity: &str, known_hosts: Option<&str>) -> SshAuth {
        SshAuth {
            identity: Some(identity.as_bytes().to_vec()),
            password: None,
            known_hosts: known_hosts.map(str::to_string),
        }
    }

    #[test]
    fn known_hosts_is_required() {
        let error = SshSession::prepare(&auth("key", None)).err().unwrap();
        assert_eq!(error, SshError::MissingKnownHosts);
        let error = SshSession::prepare(&auth("key", Some("  \n"))).err().unwrap();
        assert_eq!(error, SshError::MissingKnownHosts);
    }

    #[test]
    fn files_are_private_and_checking_is_strict() {
        use std::os::unix::fs::PermissionsExt as _;
        let session = SshSession::prepare(&auth("-----BEGIN KEY-----", Some("host ssh-ed25519 AAAA"))).unwrap();
        let mode = std::fs::metadata(session.dir().join("identity")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read(session.dir().join("identity")).unwrap(), b"-----BEGIN KEY-----\n");
        let command = session.command();
        for option in
            ["StrictHostKeyChecking=yes", "BatchMode=yes", "IdentitiesOnly=yes", "GlobalKnownHostsFile=/dev/null"]
        {
            assert!(command.contains(option), "{command} lacks {option}");
        }
        assert!(command.contains("\"$@\""));
        let dir = session.dir().to_path_buf();
        drop(session);
        assert!(!dir.exists(), "the key files are removed with the session");
    }

    #[test]
    fn encrypted_keys_are_recognised() {
        assert!(is_encrypted_pem(b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"));
        // "openssh-key-v1\0" + string "aes256-ctr"
        let mut blob = b"openssh-key-v1\0".to_vec();
        blob.extend_from_slice(&10u32.to_be_bytes());
        blob.extend_from_slice(b"aes256-ctr");
        let pem = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
            STANDARD.encode(&blob)
        );
        assert!(is_encrypted_pem(pem.as_bytes()));
        let mut plain = b"openssh-key-v1\0".to_vec();
        plain.extend_from_slice(&4u32.to_be_bytes());
        plain.extend_from_slice(b"none");
        let pem = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
            STANDARD.encode(&plain)
        );
        assert!(!is_encrypted_pem(pem.as_bytes()));
    }
}
