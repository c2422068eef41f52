//! Real Git servers on loopback for the tests: bare repositories made with the `git` CLI, served
//! over `file://` or over git's smart HTTP protocol by `git http-backend` behind a tiny CGI shim.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub const HTTP_BACKEND: &str = "/usr/lib/git-core/git-http-backend";

/// Panics with a clear message when the tools the tests need are missing.
pub fn require_git() {
    let git = Command::new("git").arg("--version").output();
    assert!(git.is_ok_and(|o| o.status.success()), "these tests need the `git` CLI on PATH (apt-get install git)");
    assert!(Path::new(HTTP_BACKEND).is_file(), "these tests need {HTTP_BACKEND} (Debian's `git` package ships it)");
}

/// Runs git with a fixed identity and dates-free config; panics with its output on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=Weir Test", "-c", "user.email=test@weir.invalid", "-c", "init.defaultBranch=main"])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "protocol.file.allow=always"])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .output()
        .unwrap_or_else(|e| panic!("running git {args:?}: {e}"));
    assert!(
        output.status.success(),
        "git {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A bare repository `<root>/<name>.git` and a working clone to make commits in.
pub struct Repo {
    pub root: PathBuf,
    pub bare: PathBuf,
    pub work: PathBuf,
    _dir: tempfile::TempDir,
}

impl Repo {
    pub fn new(name: &str) -> Repo {
        require_git();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("srv");
        std::fs::create_dir_all(&root).unwrap();
        let bare = root.join(format!("{name}.git"));
        git(&root, &["init", "--bare", "-b", "main", bare.to_str().unwrap()]);
        // Serve any object by id, as hosting services do (fetching a commit by SHA).
        git(&bare, &["config", "uploadpack.allowAnySHA1InWant", "true"]);
        git(&bare, &["config", "http.receivepack", "true"]);
        let work = dir.path().join("work");
        git(dir.path(), &["init", "-b", "main", work.to_str().unwrap()]);
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        Repo { root, bare, work, _dir: dir }
    }

    pub fn file_url(&self) -> String {
        format!("file://{}", self.bare.display())
    }

    /// Writes the files (creating directories), commits all and returns the commit id.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, content) in files {
            let path = self.work.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "-q", "--allow-empty", "-m", message]);
        git(&self.work, &["rev-parse", "HEAD"])
    }

    pub fn push(&self, refspec: &str) {
        git(&self.work, &["push", "-q", "-f", "origin", refspec]);
    }

    pub fn annotated_tag(&self, tag: &str) {
        git(&self.work, &["tag", "-a", "-m", tag, tag]);
        self.push(&format!("refs/tags/{tag}"));
    }

    pub fn lightweight_tag(&self, tag: &str) {
        git(&self.work, &["tag", tag]);
        self.push(&format!("refs/tags/{tag}"));
    }
}

/// What the HTTP server asks of clients.
#[derive(Clone, Debug)]
pub enum ServerAuth {
    None,
    Basic { username: String, password: String },
    Bearer(String),
}

/// `git http-backend` behind a CGI shim on 127.0.0.1, one thread per connection, one request
/// per connection. Stops accepting when dropped.
pub struct GitHttpServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl GitHttpServer {
    pub fn start(project_root: &Path, auth: ServerAuth) -> GitHttpServer {
        require_git();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (root, flag) = (project_root.to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (root, auth) = (root.clone(), auth.clone());
                std::thread::spawn(move || {
                    if let Err(e) = serve(stream, &root, &auth) {
                        eprintln!("[git-http] {e}");
                    }
                });
            }
        });
        GitHttpServer { addr, stop }
    }

    /// `http://127.0.0.1:<port>/<name>.git`
    pub fn url(&self, repo: &str) -> String {
        format!("http://{}/{repo}.git", self.addr)
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Answers one request on `stream` (plain TCP, or TLS in tests that wrap it) with git
/// http-backend serving the repositories under `root`.
pub fn serve<S: Read + Write>(stream: S, root: &Path, auth: &ServerAuth) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("GET").to_string(), parts.next().unwrap_or("/").to_string());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let body = if let Some(length) = header("content-length") {
        let mut body = vec![0; length.parse().unwrap_or(0)];
        reader.read_exact(&mut body)?;
        body
    } else if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        read_chunked(&mut reader)?
    } else {
        Vec::new()
    };
    let stream = reader.get_mut();

    let authorized = match auth {
        ServerAuth::None => true,
        ServerAuth::Basic { username, password } => {
            let expected = format!("Basic {}", base64(format!("{username}:{password}").as_bytes()));
            header("authorization").is_some_and(|v| v == expected)
        }
        ServerAuth::Bearer(token) => header("authorization").is_some_and(|v| v == format!("Bearer {token}")),
    };
    if !authorized {
        let challenge = match auth {
            ServerAuth::Bearer(_) => "Bearer",
            _ => "Basic realm=\"git\"",
        };
        let response = format!(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {challenge}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return stream.write_all(response.as_bytes());
    }

    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut command = Command::new(HTTP_BACKEND);
    command
        .env_clear()
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REMOTE_USER", "weir")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(protocol) = header("git-protocol") {
        command.env("GIT_PROTOCOL", protocol);
    }
    if let Some(encoding) = header("content-encoding") {
        command.env("HTTP_CONTENT_ENCODING", encoding);
    }
    let mut child = command.spawn()?;
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let output = child.wait_with_output()?;
    let _ = writer.join();
    let (head, content) = split_cgi(&output.stdout);
    let mut status = "200 OK".to_string();
    let mut response_headers = String::new();
    for line in head.lines() {
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("status") => status = value.trim().to_string(),
            Some(_) => {
                response_headers.push_str(line);
                response_headers.push_str("\r\n");
            }
            None => {}
        }
    }
    let head = format!(
        "HTTP/1.1 {status}\r\n{response_headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        content.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(content)?;
    stream.flush()
}

fn split_cgi(output: &[u8]) -> (String, &[u8]) {
    for (separator, len) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(at) = output.windows(len).position(|w| w == separator) {
            return (String::from_utf8_lossy(&output[..at]).into_owned(), &output[at + len..]);
        }
    }
    (String::new(), output)
}

fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if size == 0 {
            let mut trailer = String::new();
            reader.read_line(&mut trailer)?;
            return Ok(body);
        }
        let mut chunk = vec![0; size];
        reader.read_exact(&mut chunk)?;
        body.extend_from_slice(&chunk);
        let mut crlf = String::new();
        reader.read_line(&mut crlf)?;
    }
}

fn base64(input: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---- OpenSSH server for Git over SSH ----

pub const SSHD: &str = "/usr/sbin/sshd";

/// `sshd` on a free loopback port, with its own host key, letting the current user in with one
/// client key. Killed on drop.
pub struct SshServer {
    pub port: u16,
    child: std::process::Child,
    pub dir: tempfile::TempDir,
}

impl SshServer {
    pub fn start() -> SshServer {
        assert!(
            Path::new(SSHD).is_file(),
            "this test needs {SSHD} (apt-get install openssh-server) and ssh-keygen (openssh-client)"
        );
        let dir = tempfile::tempdir().unwrap();
        let host_key = keygen(dir.path(), "host_key");
        let client_key = keygen(dir.path(), "client_key");
        std::fs::copy(client_key.with_extension("pub"), dir.path().join("authorized_keys")).unwrap();
        if user() == "root" {
            // sshd running as root needs its privilege separation directory.
            std::fs::create_dir_all("/run/sshd").unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = dir.path().join("sshd_config");
        std::fs::write(
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
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("sshd.log")).unwrap();
        let child = std::process::Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = SshServer { port, child, dir };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "sshd did not start: {}", server.log());
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        server
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    pub fn client_key(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("client_key")).unwrap()
    }

    /// The known_hosts line ssh expects for this server: `[127.0.0.1]:<port> <type> <key>`.
    pub fn known_hosts(&self) -> String {
        let public = std::fs::read_to_string(self.dir.path().join("host_key.pub")).unwrap();
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
    let output = std::process::Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A new ed25519 key pair `<dir>/<name>` and `<name>.pub`, without a passphrase.
pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    keygen_with_passphrase(dir, name, "")
}

pub fn keygen_with_passphrase(dir: &Path, name: &str, passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f"])
        .arg(&path)
        .status()
        .expect("running ssh-keygen (apt-get install openssh-client)");
    assert!(status.success());
    path
}

#[test]
fn base64_matches_rfc4648() {
    assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    assert_eq!(base64(b"a"), "YQ==");
    assert_eq!(base64(b"ab"), "YWI=");
}
