//! What one more membership or grant costs: the engine is built in phases (accounts and
//! resources, then every membership, then groups, then every grant), spare capacity
//! given back at each boundary, and the live-heap growth of a phase divided by its count.
//! A membership's cost includes its principal's record (each generated member is a new
//! principal), so it is the cost of adding a new member.

use std::sync::Arc;

use anyhow::Result;
use roster_core::{Change, Engine, Pack};

use crate::allocated;
use crate::generate::Dataset;

/// Bytes per membership and per grant added.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Marginal {
    pub(crate) per_membership: f64,
    pub(crate) per_grant: f64,
}

fn phase(change: &Change) -> u8 {
    match change {
        Change::CreateAccount { .. } | Change::AddResource { .. } => 0,
        Change::PutMembership { .. } => 1,
        Change::AddGroup { .. } | Change::AddGroupMember { .. } => 2,
        _ => 3,
    }
}

/// Builds a second engine on `dataset` phase by phase and measures each phase's growth.
pub(crate) fn measure(pack: &Arc<Pack>, dataset: &Dataset) -> Result<Marginal> {
    let mut phases: [Vec<Change>; 4] = Default::default();
    for change in dataset.changes() {
        phases[usize::from(phase(&change))].push(change);
    }
    let mut engine = Engine::new([pack.clone()]);
    let mut growth = [0f64; 4];
    let mut counts = [0usize; 4];
    for (index, changes) in phases.into_iter().enumerate() {
        counts[index] = changes.len();
        // Each change is applied as a clone made on the spot: the clone's strings are
        // allocated and freed within the phase, the list stays alive, so the growth
        // measured is the engine's alone.
        let before = allocated();
        for change in &changes {
            engine.apply(change.clone()).map_err(|e| anyhow::anyhow!("generated change refused: {e}"))?;
        }
        engine.shrink_to_fit();
        growth[index] = allocated() as f64 - before as f64;
    }
    Ok(Marginal { per_membership: growth[1] / counts[1] as f64, per_grant: growth[3] / counts[3] as f64 })
}
