//! glibc's allocator, capped at process start. glibc gives each thread that meets a locked
//! arena a new one, up to eight per core, and memory freed in one arena is not reused by
//! another. The controllers run many short-lived threads (source-controller a blocking task per
//! Git operation, and gix's HTTP transport adds a thread and a reqwest runtime per connection),
//! so at `--concurrent=20` the arenas held 2–3 times the live memory. Two arenas keep peak RSS near
//! the live set; allocation here is a small part of the time (network and disk dominate).

/// The arena limit: one for the async runtime's threads, one more to spread the blocking ones.
const ARENA_MAX: i32 = 2;

/// Caps glibc's malloc arenas; call first thing in `main`, before any thread starts (arenas
/// already made stay). A no-op elsewhere than glibc; `MALLOC_ARENA_MAX` in the environment
/// wins, so that an operator can still tune it.
pub fn limit_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    set_arena_max(ARENA_MAX);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // the one FFI call: mallopt has no safe wrapper
fn set_arena_max(arenas: i32) {
    // SAFETY: mallopt only sets a tunable of the allocator; M_ARENA_MAX accepts any positive value.
    let changed = unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) };
    if changed != 1 {
        // Not fatal: the default arenas work, with more memory.
        eprintln!("glibc refused M_ARENA_MAX={arenas}; using its default arenas");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_arena_max(_: i32) {}

/// Runs a controller's `main`: caps the allocator's arenas before any thread exists, then runs
/// `run` on a multi-threaded tokio runtime (what `#[tokio::main]` builds).
pub fn run_main<F>(name: &str, run: F) -> std::process::ExitCode
where
    F: std::future::Future<Output = std::process::ExitCode>,
{
    limit_arenas();
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(run),
        Err(error) => {
            eprintln!("{name}: starting the async runtime: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
