//! File descriptors: every connection holds one. At start the daemon raises its soft
//! `RLIMIT_NOFILE` to the hard limit (the kernel's default soft limit, often 1,024, would
//! otherwise cap the connections far below what the machine allows), and the default
//! `server.max_connections` is what that leaves after a reserve for the database pool,
//! plugins and logs. With connections gated below the limit, `accept` never runs out of
//! descriptors in the first place (and when it does, it backs off: see `http`).

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors kept back from connections: database pool, plugin files, logs, listener.
const RESERVE: u64 = 64;
/// The fewest connections the default allows, however low the limit.
const FLOOR: u64 = 16;

/// Raises the soft limit to the hard one (as far as allowed) and returns the soft limit in
/// force afterwards; `None` when it is unlimited.
pub(crate) fn raise_to_hard_limit() -> Option<u64> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit { current: limit.maximum, maximum: limit.maximum };
        if let Err(error) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(%error, "could not raise the open-files limit; keeping the soft limit");
        }
    }
    getrlimit(Resource::Nofile).current
}

/// The default for `server.max_connections` under an open-files limit of `soft`.
pub(crate) fn default_max_connections(soft: Option<u64>) -> usize {
    let allowed = soft.map_or(65_536, |soft| soft.saturating_sub(RESERVE).max(FLOOR));
    usize::try_from(allowed.min(65_536)).unwrap_or(65_536)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_leaves_a_reserve_and_keeps_a_floor() {
        assert_eq!(default_max_connections(Some(1024)), 960);
        assert_eq!(default_max_connections(Some(20_000)), 19_936);
        assert_eq!(default_max_connections(Some(40)), 16);
        assert_eq!(default_max_connections(None), 65_536);
    }
}
