//! Roster against its peers on one dataset: build each (time and heap bytes), assert
//! agreement on a sample, then time each on the same questions.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};
use roster_core::{Engine, Pack};

use crate::generate::{Dataset, NOW, Question, RECORDS_PER_ACCOUNT};
use crate::marginal::{self, Marginal};
use crate::peers::{self, Peer, casbin::Casbin, cedar::Cedar};
use crate::timing::{self, Latency};
use crate::{Args, allocated};

const DATA_SEED: u64 = 0x5eed;
const QUESTION_SEED: u64 = 0xc0ffee;

/// One engine's figures.
#[derive(Clone)]
pub(crate) struct EngineFigures {
    pub(crate) name: &'static str,
    pub(crate) build_s: f64,
    pub(crate) bytes: usize,
    pub(crate) latency: Latency,
}

/// The outcome of one comparison run.
#[derive(Clone)]
pub(crate) struct Comparison {
    pub(crate) accounts: usize,
    pub(crate) resources: usize,
    pub(crate) memberships: usize,
    pub(crate) grants: usize,
    pub(crate) agreed: usize,
    pub(crate) clock_overhead_ns: f64,
    pub(crate) roster: EngineFigures,
    pub(crate) peers: Vec<EngineFigures>,
    /// Roster's bytes per membership and per grant added.
    pub(crate) marginal: Marginal,
}

/// Builds Roster's engine from the dataset: (engine, seconds, heap bytes).
pub(crate) fn build_roster(pack: &Arc<Pack>, dataset: &Dataset) -> Result<(Engine, f64, usize)> {
    let before = allocated();
    let started = Instant::now();
    let mut engine = Engine::new([pack.clone()]);
    for change in dataset.changes() {
        engine.apply(change).map_err(|e| anyhow::anyhow!("generated change refused: {e}"))?;
    }
    // As `Store::load` leaves it.
    engine.shrink_to_fit();
    let build = started.elapsed().as_secs_f64();
    Ok((engine, build, allocated().saturating_sub(before)))
}

/// Roster's answer, string ids in as the API receives them.
pub(crate) fn roster_check(engine: &Engine, q: &Question) -> Result<bool> {
    Ok(engine.check(&q.account, &q.principal, q.permission, q.resource.as_deref(), NOW)?.allowed)
}

fn build_peer<P>(build: impl FnOnce() -> Result<P>) -> Result<(P, f64, usize)> {
    let before = allocated();
    let started = Instant::now();
    let peer = build()?;
    Ok((peer, started.elapsed().as_secs_f64(), allocated().saturating_sub(before)))
}

/// Fails unless every engine gives Roster's answer on every question of the sample.
fn assert_agreement(engine: &Engine, peers: &[&dyn Peer], sample: &[Question]) -> Result<usize> {
    let mut disagreements = Vec::new();
    for q in sample {
        let expected = roster_check(engine, q)?;
        for peer in peers {
            let answer = peer.check(q)?;
            if answer != expected && disagreements.len() < 10 {
                disagreements.push(format!(
                    "  {}: {} may {} on {}/{}? roster={expected} {}={answer}",
                    peer.name(),
                    q.principal,
                    q.permission,
                    q.account,
                    q.resource.as_deref().unwrap_or("account"),
                    peer.name()
                ));
            }
        }
    }
    if !disagreements.is_empty() {
        bail!("the engines disagree (first {}):\n{}", disagreements.len(), disagreements.join("\n"));
    }
    Ok(sample.len())
}

/// What one comparison point runs.
pub(crate) struct Plan {
    pub(crate) scale: usize,
    pub(crate) checks: usize,
    pub(crate) peer_checks: usize,
    pub(crate) agreement_sample: usize,
    /// Whether casbin and cedar are built at this point (they need several times
    /// Roster's memory and far longer to build).
    pub(crate) with_peers: bool,
}

impl Plan {
    /// The main point of a run.
    pub(crate) fn from_args(args: &Args) -> Plan {
        Plan {
            scale: args.scale,
            checks: args.checks,
            peer_checks: args.peer_checks,
            agreement_sample: args.agreement_sample,
            with_peers: !args.no_peers,
        }
    }
}

/// Builds Roster (and the peers when planned) on `plan.scale` accounts, checks
/// agreement, times each.
pub(crate) fn run(pack: &Arc<Pack>, plan: &Plan) -> Result<Comparison> {
    let dataset = Dataset::new(plan.scale, DATA_SEED);
    eprintln!("[{} accounts, {} records] building roster…", plan.scale, plan.scale * RECORDS_PER_ACCOUNT);
    let (engine, build_s, bytes) = build_roster(pack, &dataset)?;
    let (accounts, resources, memberships, grants) = engine.counts();
    let questions = dataset.questions(plan.checks.max(plan.agreement_sample).max(plan.peer_checks), QUESTION_SEED);
    let overhead = timing::clock_overhead_ns();
    let mut peer_figures = Vec::new();
    let mut agreed = 0;
    if plan.with_peers {
        let roles = peers::role_rules(pack)?;
        eprintln!("  building casbin-rs…");
        let (casbin, casbin_build, casbin_bytes) = build_peer(|| Casbin::build(dataset.tenants(), &roles))?;
        eprintln!("  building cedar-policy…");
        let (cedar, cedar_build, cedar_bytes) = build_peer(|| Cedar::build(dataset.tenants(), &roles))?;
        eprintln!("  checking agreement on {} questions…", plan.agreement_sample);
        agreed = assert_agreement(&engine, &[&casbin, &cedar], &questions[..plan.agreement_sample])?;
        eprintln!("  timing the peers…");
        let peer_questions = &questions[..plan.peer_checks];
        for (peer, build_s, bytes) in
            [(&casbin as &dyn Peer, casbin_build, casbin_bytes), (&cedar, cedar_build, cedar_bytes)]
        {
            let latency = timing::measure(peer_questions, overhead, |q| peer.check(q))?;
            peer_figures.push(EngineFigures { name: peer.name(), build_s, bytes, latency });
        }
    }
    eprintln!("  timing roster…");
    let roster_latency = timing::measure(&questions[..plan.checks], overhead, |q| roster_check(&engine, q))?;
    drop(engine);
    eprintln!("  measuring the cost of one more membership or grant…");
    let marginal = marginal::measure(pack, &dataset)?;
    Ok(Comparison {
        marginal,
        accounts,
        resources,
        memberships,
        grants,
        agreed,
        clock_overhead_ns: overhead,
        roster: EngineFigures { name: "roster", build_s, bytes, latency: roster_latency },
        peers: peer_figures,
    })
}

impl Comparison {
    /// Memberships plus grants: what "per grant" divides by.
    pub(crate) fn records(&self) -> usize {
        self.memberships + self.grants
    }

    /// Bytes of engine heap per membership or grant, for one engine.
    pub(crate) fn bytes_per_record(&self, figures: &EngineFigures) -> f64 {
        figures.bytes as f64 / self.records() as f64
    }

    /// How many times faster Roster's median check is than the peer's.
    pub(crate) fn ratio(&self, peer: &EngineFigures) -> f64 {
        peer.latency.p50_ns / self.roster.latency.p50_ns
    }

    fn peer(&self, name: &str) -> Option<&EngineFigures> {
        self.peers.iter().find(|p| p.name == name)
    }

    /// The comparison as a table on stdout.
    pub(crate) fn print(&self) {
        println!(
            "dataset  accounts={} resources={} memberships={} grants={}",
            self.accounts, self.resources, self.memberships, self.grants
        );
        if !self.peers.is_empty() {
            println!("agree    all three engines gave the same answer on {} questions", self.agreed);
        }
        println!("clock    {:.0} ns per timed pair, taken off every per-check figure", self.clock_overhead_ns);
        println!(
            "memory   roster: {:.0} bytes per membership added (its principal included), {:.0} per grant added; \
             {:.0} per membership or grant with the {} resources counted in",
            self.marginal.per_membership,
            self.marginal.per_grant,
            self.bytes_per_record(&self.roster),
            self.resources
        );
        println!(
            "{:<13} {:>8} {:>10} {:>10} {:>11} {:>10} {:>12} {:>9} {:>8}",
            "engine", "checks", "p50 ns", "p99 ns", "checks/s", "allowed", "heap/(m+g)", "build s", "p50 ×"
        );
        for figures in std::iter::once(&self.roster).chain(&self.peers) {
            let l = &figures.latency;
            println!(
                "{:<13} {:>8} {:>10.0} {:>10.0} {:>11.0} {:>9.1}% {:>12.0} {:>9.2} {:>8.1}",
                figures.name,
                l.checks,
                l.p50_ns,
                l.p99_ns,
                l.checks_per_s,
                100.0 * l.allowed as f64 / l.checks as f64,
                self.bytes_per_record(figures),
                figures.build_s,
                figures.latency.p50_ns / self.roster.latency.p50_ns,
            );
        }
    }

    /// The one line scripts read.
    pub(crate) fn summary_line(&self) -> String {
        let ratio = |name: &str| self.peer(name).map_or("unmeasured".to_owned(), |p| format!("{:.0}x", self.ratio(p)));
        format!(
            "bench: check_p50_ns={:.0} vs_casbin={} vs_cedar={} bytes_per_grant={:.0}",
            self.roster.latency.p50_ns,
            ratio("casbin-rs"),
            ratio("cedar-policy"),
            self.marginal.per_grant
        )
    }
}
