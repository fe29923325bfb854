//! A read cache for server lists, used where the platform is the only writer of
//! `t_server_conf` (the embedded SQLite database): there, listing a 50-server
//! application spends most of its time decoding rows that have not changed.
//!
//! Every write to `t_server_conf` through the store bumps a generation *after* it
//! commits; an entry is served only while the generation it was read under is current
//! and it is younger than the TTL (which bounds staleness should anything else edit
//! the file). Recording the generation before the read and bumping after the commit
//! means a read racing a write can only store an entry that is already outdated,
//! never serve one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::server_conf::{ServerConfRow, ServerFilter};

/// Entries beyond this are dropped wholesale; tree nodes are few, so this is a guard
/// against unbounded growth from arbitrary filters, not an eviction policy.
const MAX_ENTRIES: usize = 4096;

#[derive(Debug)]
struct Entry {
    generation: u64,
    stored: Instant,
    rows: Arc<Vec<ServerConfRow>>,
}

/// Cached server lists by filter, and single servers by id.
#[derive(Debug)]
pub(crate) struct ServerListCache {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<ServerFilter, Entry>>,
    by_id: Mutex<HashMap<i64, Entry>>,
}

impl ServerListCache {
    pub(crate) fn new(ttl: Duration) -> ServerListCache {
        ServerListCache {
            ttl,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
            by_id: Mutex::new(HashMap::new()),
        }
    }

    /// The generation to tag a read with; take it before querying.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn get(&self, filter: &ServerFilter) -> Option<Arc<Vec<ServerConfRow>>> {
        let current = self.generation();
        let entries = self.entries.lock().expect("server cache poisoned");
        entries
            .get(filter)
            .filter(|e| e.generation == current && e.stored.elapsed() < self.ttl)
            .map(|e| e.rows.clone())
    }

    pub(crate) fn put(&self, filter: ServerFilter, generation: u64, rows: Arc<Vec<ServerConfRow>>) {
        let mut entries = self.entries.lock().expect("server cache poisoned");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            filter,
            Entry {
                generation,
                stored: Instant::now(),
                rows,
            },
        );
    }

    /// The cached server with that id (an empty list caches "no such server").
    pub(crate) fn get_by_id(&self, id: i64) -> Option<Arc<Vec<ServerConfRow>>> {
        let current = self.generation();
        let entries = self.by_id.lock().expect("server cache poisoned");
        entries
            .get(&id)
            .filter(|e| e.generation == current && e.stored.elapsed() < self.ttl)
            .map(|e| e.rows.clone())
    }

    pub(crate) fn put_by_id(&self, id: i64, generation: u64, rows: Arc<Vec<ServerConfRow>>) {
        let mut entries = self.by_id.lock().expect("server cache poisoned");
        if entries.len() >= MAX_ENTRIES * 4 {
            entries.clear();
        }
        entries.insert(
            id,
            Entry {
                generation,
                stored: Instant::now(),
                rows,
            },
        );
    }

    /// Call after every committed write to `t_server_conf`.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_after_the_read_started_is_never_hidden() {
        let cache = ServerListCache::new(Duration::from_secs(60));
        let filter = ServerFilter::default();
        let tag = cache.generation();
        cache.invalidate(); // a write commits while the read is in flight
        cache.put(filter.clone(), tag, Arc::new(Vec::new()));
        assert!(cache.get(&filter).is_none());
        let tag = cache.generation();
        cache.put(filter.clone(), tag, Arc::new(Vec::new()));
        assert!(cache.get(&filter).is_some());
        cache.invalidate();
        assert!(cache.get(&filter).is_none());
    }

    #[test]
    fn entries_expire() {
        let cache = ServerListCache::new(Duration::ZERO);
        let filter = ServerFilter::default();
        cache.put(filter.clone(), cache.generation(), Arc::new(Vec::new()));
        assert!(cache.get(&filter).is_none());
    }
}
