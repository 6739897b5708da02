//! Leader election on a `coordination.k8s.io/v1` Lease. The holder renews the lease; another
//! replica takes it only once it has expired. Every write carries the resourceVersion it read,
//! so two replicas racing for the lease cannot both win. A leader that cannot renew before its
//! lease runs out reports the loss; the operator then exits and Kubernetes restarts it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;

/// The lease lost, or never reachable.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("lost the lease {name}: not renewed within {seconds}s")]
    Lost { name: String, seconds: u64 },
}

/// One replica's handle on the lease.
#[derive(Clone)]
pub struct LeaseLock {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
}

impl LeaseLock {
    pub fn new(api: Api<Lease>, name: &str, identity: &str, duration: Duration) -> Self {
        Self {
            api,
            name: name.to_string(),
            identity: identity.to_string(),
            duration,
        }
    }

    /// Takes the lease if it is free or expired, renews it if held by us. True when we hold it.
    pub async fn try_acquire_or_renew(&self, now: DateTime<Utc>) -> Result<bool, kube::Error> {
        let seconds = i32::try_from(self.duration.as_secs()).unwrap_or(i32::MAX);
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(seconds),
                    acquire_time: Some(micro(now)),
                    renew_time: Some(micro(now)),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return conflict_is_false(self.api.create(&PostParams::default(), &lease).await);
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let ours = spec.holder_identity.as_deref() == Some(self.identity.as_str());
        if !ours {
            let held_for = spec
                .lease_duration_seconds
                .map_or(self.duration.as_secs() as i64, i64::from);
            let renewed = spec
                .renew_time
                .as_ref()
                .map(|t| t.0.as_millisecond())
                .unwrap_or(0);
            let expired = renewed + held_for * 1000 < now.timestamp_millis();
            if spec.holder_identity.is_some() && !expired {
                return Ok(false);
            }
            spec.holder_identity = Some(self.identity.clone());
            spec.acquire_time = Some(micro(now));
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.lease_duration_seconds = Some(seconds);
        spec.renew_time = Some(micro(now));
        conflict_is_false(
            self.api
                .replace(&self.name, &PostParams::default(), &lease)
                .await,
        )
    }

    /// Waits until this replica holds the lease, trying every `retry`.
    pub async fn acquire(&self, retry: Duration) {
        loop {
            match self.try_acquire_or_renew(Utc::now()).await {
                Ok(true) => return,
                Ok(false) => {}
                Err(err) => {
                    tracing::warn!(lease = %self.name, error = %err, "cannot read the lease")
                }
            }
            tokio::time::sleep(retry).await;
        }
    }

    /// Renews the lease every third of its duration; returns when it is lost (another holder,
    /// or no successful renewal for a whole duration).
    pub async fn hold(&self) -> LeaderError {
        let period = self.duration / 3;
        let mut last_renewal = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(period).await;
            match self.try_acquire_or_renew(Utc::now()).await {
                Ok(true) => last_renewal = tokio::time::Instant::now(),
                Ok(false) => break,
                Err(err) => {
                    tracing::warn!(lease = %self.name, error = %err, "cannot renew the lease");
                    if last_renewal.elapsed() >= self.duration {
                        break;
                    }
                }
            }
        }
        LeaderError::Lost {
            name: self.name.clone(),
            seconds: self.duration.as_secs(),
        }
    }
}

fn micro(time: DateTime<Utc>) -> MicroTime {
    MicroTime(
        k8s_openapi::jiff::Timestamp::from_microsecond(time.timestamp_micros())
            .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    )
}

/// A 409 Conflict means another replica wrote first: not an error, just not ours.
fn conflict_is_false(result: Result<Lease, kube::Error>) -> Result<bool, kube::Error> {
    match result {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(err) => Err(err),
    }
}
