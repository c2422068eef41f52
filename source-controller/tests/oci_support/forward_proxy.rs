//! An HTTP forward proxy on loopback: `CONNECT` tunnels and absolute-form requests, each
//! recorded with its `Proxy-Authorization`, so tests can tell traffic went through it.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request the proxy handled.
#[derive(Clone, Debug)]
pub struct Proxied {
    pub request_line: String,
    pub authorization: Option<String>,
}

pub struct ForwardProxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Proxied>>>,
}

impl ForwardProxy {
    pub fn start() -> ForwardProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || {
                    if let Err(e) = relay(client, &log) {
                        eprintln!("[proxy] {e}");
                    }
                });
            }
        });
        ForwardProxy { addr, seen }
    }

    pub fn seen(&self) -> Vec<Proxied> {
        self.seen.lock().unwrap().clone()
    }
}

/// Reads one request head, opens the upstream connection it names, and relays both ways until
/// either side closes. Forwarded requests ask the upstream to close after one exchange, so
/// each request on a kept-alive client connection is read (and recorded) here.
fn relay(client: TcpStream, log: &Mutex<Vec<Proxied>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    let mut authorization = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("proxy-authorization") => {
                authorization = Some(value.trim().to_string());
            }
            Some((name, _))
                if name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("proxy-connection") => {}
            _ => headers.push(line),
        }
    }
    let request_line = request_line.trim_end().to_string();
    if request_line.is_empty() {
        return Ok(());
    }
    log.lock().unwrap().push(Proxied { request_line: request_line.clone(), authorization });
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let mut client_writer = client;
    let mut upstream = if method == "CONNECT" {
        let upstream = TcpStream::connect(target)?;
        client_writer.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        upstream
    } else {
        let rest = target.strip_prefix("http://").unwrap_or(target);
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut upstream = TcpStream::connect(authority)?;
        let version = parts.next().unwrap_or("HTTP/1.1");
        upstream.write_all(format!("{method} {path} {version}\r\n").as_bytes())?;
        for header in &headers {
            upstream.write_all(header.as_bytes())?;
        }
        upstream.write_all(b"Connection: close\r\n\r\n")?;
        upstream
    };
    let buffered = reader.buffer().to_vec();
    upstream.write_all(&buffered)?;
    let mut upstream_reader = upstream.try_clone()?;
    let mut client_reader = reader.into_inner();
    let forward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_reader, &mut upstream);
        let _ = upstream.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut upstream_reader, &mut client_writer);
    let _ = client_writer.shutdown(std::net::Shutdown::Both);
    let _ = forward.join();
    Ok(())
}
