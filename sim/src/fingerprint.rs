//! Stable hashing of core values through their serde form.
//!
//! The core's world holds Kubernetes types that implement neither `Hash` nor `Eq`; their
//! JSON form is canonical (every map in the world is a `BTreeMap`), so hashing that text
//! identifies a state. FNV-1a keeps the hash stable across builds and machines, which a
//! replayable output hash needs (std's `DefaultHasher` promises no such thing).

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::io;

use cairn_core::world::World;
use serde::Serialize;

/// FNV-1a, 64 bits: tiny and stable.
#[derive(Clone, Debug)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Feeds whatever serde writes straight into a hasher (no intermediate string).
struct HashWriter<'h, H: Hasher>(&'h mut H);

impl<H: Hasher> io::Write for HashWriter<'_, H> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Hashes the JSON form of `value`.
pub fn hash_json<T: Serialize + ?Sized, H: Hasher>(value: &T, hasher: &mut H) {
    // Serializing our own in-memory values cannot fail except on non-string map keys,
    // which `hash_map` avoids; a failure would only weaken the hash, never break a run.
    let _ = serde_json::to_writer(HashWriter(hasher), value);
    hasher.write_u8(0xff);
}

/// Hashes a map as its sequence of `(key, value)` pairs (JSON maps need string keys).
fn hash_map<K: Serialize, V: Serialize, H: Hasher>(map: &BTreeMap<K, V>, hasher: &mut H) {
    hasher.write_usize(map.len());
    for pair in map {
        hash_json(&pair, hasher);
    }
}

/// Hashes everything in a world.
pub fn hash_world<H: Hasher>(w: &World, h: &mut H) {
    hash_map(&w.backup_storages, h);
    hash_map(&w.repositories, h);
    hash_map(&w.snapshots, h);
    hash_map(&w.retention_policies, h);
    hash_map(&w.backup_configurations, h);
    hash_map(&w.backup_sessions, h);
    hash_map(&w.restore_sessions, h);
    hash_map(&w.hook_templates, h);
    hash_map(&w.addons, h);
    hash_map(&w.functions, h);
    hash_map(&w.app_bindings, h);
    hash_map(&w.secrets, h);
    hash_map(&w.namespaces, h);
    hash_map(&w.jobs, h);
    hash_map(&w.hooks, h);
    hash_map(&w.backends, h);
    hash_map(&w.triggers, h);
    hash_json(&w.inflight, h);
    hash_json(&w.events, h);
}

/// A stable 64-bit digest of a world.
pub fn world_digest(w: &World) -> u64 {
    let mut h = Fnv64::default();
    hash_world(w, &mut h);
    h.finish()
}
