//! Rows the data plane reads on every request (the transfer behind a token, the agreed resource, the recorded duty
//! states), kept in memory for as long as the store's write generation shows they cannot have changed. Any
//! committed write to transfers, resources or duty states moves the generation on, so a suspension, a
//! termination, a revoked token, an edited resource or a duty recorded as violated takes effect on the very next
//! request. On PostgreSQL, which other replicas may write, the generation is read from the database (one query per
//! request instead of one per row); if that read fails nothing is kept and the rows are read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A bounded map of values tagged with the generation they were read at.
pub struct FreshCache<V>(Mutex<HashMap<String, (u64, Arc<V>)>>);

impl<V> Default for FreshCache<V> {
    fn default() -> Self {
        FreshCache(Mutex::new(HashMap::new()))
    }
}

impl<V> FreshCache<V> {
    /// Cleared whole when it grows past this, which only costs re-reads.
    const MAX: usize = 10_000;

    /// The value for `key` if it was read at `generation` (the current one).
    pub fn hit(&self, key: &str, generation: Option<u64>) -> Option<Arc<V>> {
        let generation = generation?;
        let map = self.0.lock().ok()?;
        map.get(key)
            .filter(|(at, _)| *at == generation)
            .map(|(_, v)| v.clone())
    }

    /// The value for `key`: the kept one while `generation` (taken before calling) is current, otherwise what
    /// `load` reads, which is then kept.
    pub async fn get_or_load<E>(
        &self,
        key: &str,
        generation: Option<u64>,
        load: impl std::future::Future<Output = Result<V, E>>,
    ) -> Result<Arc<V>, E> {
        if let Some(v) = self.hit(key, generation) {
            return Ok(v);
        }
        let v = Arc::new(load.await?);
        self.fill(key, generation, v.clone());
        Ok(v)
    }

    /// Keeps `value`, read after `generation` was taken; a write since then has moved the generation on, so an
    /// entry filled from a read racing that write is never served.
    pub fn fill(&self, key: &str, generation: Option<u64>, value: Arc<V>) {
        let Some(generation) = generation else {
            return;
        };
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= Self::MAX {
                map.clear();
            }
            map.insert(key.to_string(), (generation, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_served_only_at_the_generation_it_was_read_at() {
        let cache = FreshCache::default();
        cache.fill("k", Some(3), Arc::new("v"));
        assert_eq!(cache.hit("k", Some(3)).as_deref(), Some(&"v"));
        assert!(cache.hit("k", Some(4)).is_none());
        assert!(cache.hit("other", Some(3)).is_none());
    }

    #[test]
    fn nothing_is_kept_without_a_generation() {
        let cache = FreshCache::default();
        cache.fill("k", None, Arc::new(1));
        assert!(cache.hit("k", Some(0)).is_none());
        assert!(cache.hit("k", None).is_none());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = FreshCache::default();
        for i in 0..=FreshCache::<u32>::MAX {
            cache.fill(&i.to_string(), Some(1), Arc::new(i as u32));
        }
        assert!(cache.0.lock().expect("lock").len() <= FreshCache::<u32>::MAX);
    }
}
