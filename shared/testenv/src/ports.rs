//! Free loopback ports for servers a test starts in another process.

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener};
use std::sync::Mutex;

/// Ports this process has already handed out. The kernel may give a released port to the next
/// `bind(:0)` at once, so two picks in a row (a controller's metrics and storage addresses, say)
/// could otherwise collide before either process has bound it.
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A loopback address no other caller in this process has been given, bound and then released
/// for the server that will listen on it. Another process could still take it in between; the
/// ephemeral range is wide enough that this is rare, and the server's log says so when it happens.
pub fn free_addr() -> SocketAddr {
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    loop {
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap_or_else(|e| panic!("binding a free loopback port: {e}"));
        if handed_out.insert(addr.port()) {
            return addr;
        }
    }
}
