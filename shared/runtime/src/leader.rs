//! Leader election on a `coordination.k8s.io/v1` Lease, with client-go's algorithm, so that Weir
//! and Flux instances of the same controller exclude each other through the same Lease.
//!
//! - Candidates read the Lease and take it when it has no holder or when its record has not
//!   changed for `leaseDurationSeconds` of *their own* clock (no trust in other nodes' clocks).
//!   Every write is an update carrying the read `resourceVersion`, so of two racing candidates
//!   exactly one wins. Candidates retry every retry period (with jitter) and also watch the Lease,
//!   so a released Lease is taken over at once.
//! - The leader renews every retry period. When it cannot renew within the renew deadline, or
//!   finds another holder, it has lost leadership: the caller stops the process.
//! - On a clean shutdown the leader releases the Lease (empty holder, duration 1s).

use std::pin::pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ObjectMeta, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::identity::random_u64;

/// The field manager of the Lease's fields.
const FIELD_MANAGER: &str = "weir-leader-election";

/// client-go's jitter factor for candidates' retries.
const JITTER: f64 = 1.2;

/// Why leader election cannot start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("invalid leader election timing: {0}")]
    InvalidTiming(&'static str),
    #[error("leader election lost: the lease {lease} is now held by {holder}")]
    TakenOver { lease: String, holder: String },
    #[error("leader election lost: the lease {lease} could not be renewed within {deadline:?}: {last_error}")]
    NotRenewed { lease: String, deadline: Duration, last_error: String },
}

/// The three timings of `--leader-election-*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderTiming {
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

impl LeaderTiming {
    /// Checks the same rules as client-go.
    pub fn new(
        lease_duration: Duration,
        renew_deadline: Duration,
        retry_period: Duration,
    ) -> Result<Self, LeaderError> {
        if retry_period.is_zero() {
            return Err(LeaderError::InvalidTiming("the retry period must be greater than zero"));
        }
        if lease_duration <= renew_deadline {
            return Err(LeaderError::InvalidTiming("the lease duration must be greater than the renew deadline"));
        }
        if renew_deadline <= retry_period.mul_f64(JITTER) {
            return Err(LeaderError::InvalidTiming("the renew deadline must be greater than 1.2 × the retry period"));
        }
        Ok(LeaderTiming { lease_duration, renew_deadline, retry_period })
    }

    fn lease_duration_seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs_f64().ceil() as u64).unwrap_or(i32::MAX).max(1)
    }
}

/// What one attempt to take or renew the Lease found.
#[derive(Debug, PartialEq, Eq)]
enum Attempt {
    /// We hold the Lease now.
    Held,
    /// Another instance holds a valid Lease.
    HeldBy(String),
    /// Someone wrote the Lease between our read and our write.
    Conflict,
}

/// One instance's side of the election.
pub struct LeaderElector {
    api: Api<Lease>,
    lease_name: String,
    lease_ref: String,
    identity: String,
    timing: LeaderTiming,
    /// The Lease spec last seen, and when it was first seen: the Lease's age by our own clock.
    observed: Option<(LeaseSpec, Instant)>,
    /// When the last successful write of our record was sent.
    renewed_at: Instant,
}

impl LeaderElector {
    pub fn new(
        client: kube::Client,
        namespace: &str,
        lease_name: &str,
        identity: String,
        timing: LeaderTiming,
    ) -> Self {
        LeaderElector {
            api: Api::namespaced(client, namespace),
            lease_name: lease_name.to_string(),
            lease_ref: format!("{namespace}/{lease_name}"),
            identity,
            timing,
            observed: None,
            renewed_at: Instant::now(),
        }
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Waits until this instance holds the Lease (true), or `stop` is cancelled first (false;
    /// call [`release`](Self::release) then, in case an interrupted write took the Lease).
    pub async fn acquire(&mut self, stop: &CancellationToken) -> bool {
        tracing::info!(lease = %self.lease_ref, identity = %self.identity, "attempting to acquire leader lease");
        let mut released = pin!(released(self.api.clone(), &self.lease_name));
        let mut last_holder = String::new();
        loop {
            let attempt = tokio::select! {
                // The write may have landed: the caller's release() undoes it.
                _ = stop.cancelled() => return false,
                attempt = tokio::time::timeout(self.timing.renew_deadline, self.try_acquire_or_renew()) => attempt,
            };
            match attempt {
                Ok(Ok(Attempt::Held)) => {
                    tracing::info!(lease = %self.lease_ref, identity = %self.identity, "successfully acquired lease");
                    return true;
                }
                Ok(Ok(Attempt::HeldBy(holder))) if holder != last_holder => {
                    let lease = &self.lease_ref;
                    tracing::info!(%lease, %holder, "the lease is held by another instance, waiting for it");
                    last_holder = holder;
                }
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    let (lease, error) = (&self.lease_ref, crate::logging::chain(&error));
                    tracing::warn!(%lease, %error, "error retrieving or updating the leader lease")
                }
                Err(_) => {
                    tracing::warn!(lease = %self.lease_ref, "no answer from the API server about the leader lease")
                }
            }
            let jitter = self.timing.retry_period.mul_f64(JITTER * (random_u64() as f64 / u64::MAX as f64));
            tokio::select! {
                _ = stop.cancelled() => return false,
                _ = tokio::time::sleep(self.timing.retry_period + jitter) => {}
                Some(()) = released.next() => tracing::debug!(lease = %self.lease_ref, "the lease is free, trying now"),
            }
        }
    }

    /// Renews the Lease every retry period for as long as this instance keeps it. Returns only
    /// when leadership is lost.
    ///
    /// The renew deadline counts from the start of the last successful renewal, not (as in
    /// client-go) from the first failed retry: so the leader gives up at least `lease duration -
    /// renew deadline` before any candidate may take the Lease over.
    pub async fn hold(&mut self) -> LeaderError {
        let mut last_error = String::from("no answer from the API server");
        loop {
            let deadline = self.renewed_at + self.timing.renew_deadline;
            tokio::time::sleep_until((Instant::now() + self.timing.retry_period).min(deadline)).await;
            let attempt = tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await;
            match attempt {
                Ok(Ok(Attempt::Held)) => last_error = String::from("no answer from the API server"),
                Ok(Ok(Attempt::HeldBy(holder))) => {
                    return LeaderError::TakenOver { lease: self.lease_ref.clone(), holder };
                }
                Ok(Ok(Attempt::Conflict)) => last_error = "the lease was changed by someone else".to_string(),
                Ok(Err(error)) => {
                    last_error = crate::logging::chain(&error);
                    let lease = &self.lease_ref;
                    tracing::warn!(%lease, error = %last_error, "failed to renew the leader lease, retrying");
                }
                Err(_) => {}
            }
            if Instant::now() >= self.renewed_at + self.timing.renew_deadline {
                let lease = self.lease_ref.clone();
                return LeaderError::NotRenewed { lease, deadline: self.timing.renew_deadline, last_error };
            }
        }
    }

    /// Gives the Lease up so that a waiting instance takes over at once. Best effort: the Lease
    /// expires by itself anyway.
    pub async fn release(&mut self) {
        for _ in 0..3 {
            match tokio::time::timeout(Duration::from_secs(5), self.try_release()).await {
                Ok(Ok(Attempt::Conflict)) => continue,
                Ok(Ok(Attempt::Held)) => tracing::info!(lease = %self.lease_ref, "released the leader lease"),
                Ok(Ok(Attempt::HeldBy(holder))) => {
                    tracing::debug!(lease = %self.lease_ref, %holder, "not releasing the leader lease: not ours")
                }
                Ok(Err(error)) => {
                    let (lease, error) = (&self.lease_ref, crate::logging::chain(&error));
                    tracing::warn!(%lease, %error, "failed to release the leader lease")
                }
                Err(_) => tracing::warn!(lease = %self.lease_ref, "failed to release the leader lease: no answer"),
            }
            return;
        }
    }

    async fn try_acquire_or_renew(&mut self) -> Result<Attempt, kube::Error> {
        let started = Instant::now();
        let attempt = self.write_record().await?;
        if attempt == Attempt::Held {
            self.renewed_at = started;
        }
        Ok(attempt)
    }

    /// Takes or renews the Lease if it is free, expired or ours.
    async fn write_record(&mut self) -> Result<Attempt, kube::Error> {
        let now = MicroTime(Timestamp::now());
        let Some(mut lease) = self.api.get_opt(&self.lease_name).await? else {
            let spec = LeaseSpec { lease_transitions: Some(0), ..self.record(LeaseSpec::default(), &now, false) };
            let lease = Lease {
                metadata: ObjectMeta { name: Some(self.lease_name.clone()), ..ObjectMeta::default() },
                spec: Some(spec),
            };
            return self.write(self.api.create(&post_params(), &lease).await);
        };
        let spec = lease.spec.clone().unwrap_or_default();
        self.observe(&spec);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let leading = holder == self.identity;
        if !holder.is_empty() && !leading && self.observed_is_valid() {
            return Ok(Attempt::HeldBy(holder));
        }
        lease.spec = Some(self.record(spec, &now, leading));
        self.write(self.api.replace(&self.lease_name, &post_params(), &lease).await)
    }

    async fn try_release(&mut self) -> Result<Attempt, kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.lease_name).await? else {
            return Ok(Attempt::HeldBy("nobody".to_string()));
        };
        let spec = lease.spec.take().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        if holder != self.identity {
            return Ok(Attempt::HeldBy(holder));
        }
        let now = MicroTime(Timestamp::now());
        lease.spec = Some(LeaseSpec {
            holder_identity: Some(String::new()),
            lease_duration_seconds: Some(1),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            ..spec
        });
        self.write(self.api.replace(&self.lease_name, &post_params(), &lease).await)
    }

    /// Our record on top of the current spec: a renewal keeps the acquire time and the transition
    /// count, a takeover starts a new term.
    fn record(&self, current: LeaseSpec, now: &MicroTime, renewal: bool) -> LeaseSpec {
        let transitions = current.lease_transitions.unwrap_or(0);
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(self.timing.lease_duration_seconds()),
            acquire_time: if renewal { current.acquire_time.clone() } else { Some(now.clone()) },
            renew_time: Some(now.clone()),
            lease_transitions: Some(if renewal { transitions } else { transitions.saturating_add(1) }),
            ..current
        }
    }

    fn write(&mut self, result: Result<Lease, kube::Error>) -> Result<Attempt, kube::Error> {
        match result {
            Ok(written) => {
                self.observe(&written.spec.unwrap_or_default());
                Ok(Attempt::Held)
            }
            // 409: a newer resourceVersion (update) or an existing Lease (create).
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Attempt::Conflict),
            Err(error) => Err(error),
        }
    }

    fn observe(&mut self, spec: &LeaseSpec) {
        if self.observed.as_ref().is_none_or(|(seen, _)| seen != spec) {
            self.observed = Some((spec.clone(), Instant::now()));
        }
    }

    /// Whether the observed holder may still be alive: its record changed less than its lease
    /// duration ago, by our clock.
    fn observed_is_valid(&self) -> bool {
        self.observed.as_ref().is_some_and(|(spec, since)| {
            let seconds = spec
                .lease_duration_seconds
                .map_or(self.timing.lease_duration, |s| Duration::from_secs(u64::try_from(s).unwrap_or(0)));
            since.elapsed() < seconds
        })
    }
}

fn post_params() -> PostParams {
    PostParams { field_manager: Some(FIELD_MANAGER.to_string()), ..PostParams::default() }
}

/// Yields whenever the Lease is seen without a holder, or deleted.
fn released(api: Api<Lease>, name: &str) -> impl Stream<Item = ()> + Send + use<> {
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    watcher(api, config).default_backoff().filter_map(|event| async move {
        match event {
            Ok(watcher::Event::Apply(lease) | watcher::Event::InitApply(lease)) => {
                let holder = lease.spec.and_then(|spec| spec.holder_identity).unwrap_or_default();
                holder.is_empty().then_some(())
            }
            Ok(watcher::Event::Delete(_)) => Some(()),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn timing_rules_are_client_gos() {
        assert!(LeaderTiming::new(secs(35), secs(30), secs(5)).is_ok());
        assert!(LeaderTiming::new(secs(30), secs(30), secs(5)).is_err());
        assert!(LeaderTiming::new(secs(35), secs(6), secs(5)).is_err());
        assert!(LeaderTiming::new(secs(35), secs(30), Duration::ZERO).is_err());
        let t = LeaderTiming::new(Duration::from_millis(2500), secs(2), Duration::from_millis(500)).unwrap();
        assert_eq!(t.lease_duration_seconds(), 3);
    }
}
