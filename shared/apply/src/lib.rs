//! Weir's server-side-apply engine, the counterpart of Flux's `pkg/ssa`.
//!
//! A [`ResourceManager`] applies a set of objects in Flux's staged order, detects drift with a
//! server-side dry-run and only writes what drifted, takes over fields edited by hand so that
//! they are reverted, keeps an inventory of what it applied, prunes what left the set (only when
//! it carries the caller's owner labels) and waits for the applied objects to become healthy.

mod changeset;
mod defaults;
mod discovery;
mod drift;
mod error;
mod health;
mod inventory;
mod manager;
mod object;
mod object_apply;
mod policy;
mod prune;
mod sort;
mod takeover;

pub use changeset::{Action, ChangeSet, ChangeSetEntry};
pub use discovery::{DiscoveryCache, ResolvedKind};
pub use drift::has_drifted;
pub use error::{ApplyError, SetError};
pub use health::{Health, HealthOverride, WaitOptions, object_health, pending_after_apply};
pub use inventory::{inventory_diff, inventory_from, object_refs};
pub use manager::{ApplyOptions, ResourceManager};
pub use object::{ObjMeta, Object};
pub use policy::{Policy, SsaPolicy};
pub use prune::{DeleteOptions, DeleteResult};
pub use sort::{Stage, sort_objects, stage_of};
