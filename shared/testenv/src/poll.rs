//! Waiting on a condition in a test: poll, and fail with what the test was waiting for and
//! whatever explains it (the controllers' logs) when time runs out.

use std::future::Future;
use std::time::Duration;

/// How often [`eventually`] asks again.
const EVERY: Duration = Duration::from_millis(200);

/// Polls `check` until it gives a value; panics after `timeout` with `what` and `context()`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, context: impl Fn() -> String, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting until {what}; {}",
            context()
        );
        tokio::time::sleep(EVERY).await;
    }
}
