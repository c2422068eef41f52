//! git's smart HTTP protocol: `git http-backend` behind a CGI shim, with optional Basic or Bearer
//! authentication.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{must, require_git};

pub const HTTP_BACKEND: &str = "/usr/lib/git-core/git-http-backend";

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
        let listener = must(TcpListener::bind("127.0.0.1:0"), "binding the Git HTTP server to 127.0.0.1");
        let addr = must(listener.local_addr(), "reading the Git HTTP server's address");
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
    let mut stdin = child.stdin.take().ok_or_else(|| std::io::Error::other("git http-backend has no stdin"))?;
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
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
    }
}
