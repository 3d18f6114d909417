//! The buckets of one family, kept for governor: one timestamp per client, bounded in number.

use super::Client;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::ShrinkableKeyedStateStore;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// One family's buckets: each client's theoretical arrival time (GCRA's whole state), with
/// the clients in the order they arrived so that the oldest goes first when the table is full.
///
/// Invariant: `order` holds exactly the keys of `arrival`, each once.
pub struct BoundedStore {
    buckets: Mutex<Buckets>,
    capacity: usize,
}

#[derive(Default)]
struct Buckets {
    arrival: HashMap<Client, Nanos>,
    order: VecDeque<Client>,
}

impl BoundedStore {
    /// An empty store that keeps at most `capacity` buckets (at least one).
    pub fn new(capacity: usize) -> Self {
        Self { buckets: Mutex::new(Buckets::default()), capacity: capacity.max(1) }
    }

    fn lock(&self) -> MutexGuard<'_, Buckets> {
        // Nothing panics while the lock is held (governor's closure is arithmetic), and the
        // table stays consistent between statements, so a poisoned lock is still usable.
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StateStore for BoundedStore {
    type Key = Client;

    fn measure_and_replace<T, F, E>(&self, key: &Client, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut buckets = self.lock();
        let previous = buckets.arrival.get(key).copied();
        let (outcome, next) = f(previous)?;
        if previous.is_none() {
            while buckets.arrival.len() >= self.capacity {
                let Some(oldest) = buckets.order.pop_front() else { break };
                buckets.arrival.remove(&oldest);
            }
            buckets.order.push_back(*key);
        }
        buckets.arrival.insert(*key, next);
        Ok(outcome)
    }
}

impl ShrinkableKeyedStateStore<Client> for BoundedStore {
    fn retain_recent(&self, drop_below: Nanos) {
        let mut buckets = self.lock();
        let Buckets { arrival, order } = &mut *buckets;
        arrival.retain(|_, tat| *tat > drop_below);
        order.retain(|client| arrival.contains_key(client));
        // Give memory back after a flood, but not on every sweep.
        if arrival.capacity() > 4 * arrival.len().max(1024) {
            arrival.shrink_to_fit();
            order.shrink_to_fit();
        }
    }

    fn len(&self) -> usize {
        self.lock().arrival.len()
    }

    fn is_empty(&self) -> bool {
        self.lock().arrival.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn client(n: u8) -> Client {
        Client::Ip(IpAddr::from([10, 0, 0, n]))
    }

    /// Stores `tat` for `client` as governor would.
    fn put(store: &BoundedStore, client: Client, tat: u64) {
        store.measure_and_replace(&client, |_| Ok::<_, ()>(((), Nanos::new(tat)))).unwrap();
    }

    fn get(store: &BoundedStore, client: Client) -> Option<Nanos> {
        store.measure_and_replace(&client, Err::<((), Nanos), _>).unwrap_err()
    }

    #[test]
    fn a_full_store_drops_the_oldest_client_to_make_room() {
        let store = BoundedStore::new(2);
        put(&store, client(1), 10);
        put(&store, client(2), 20);
        put(&store, client(1), 11);
        put(&store, client(3), 30);
        assert_eq!(store.len(), 2);
        assert_eq!(get(&store, client(1)), None, "the first to arrive goes first, even when used since");
        assert_eq!(get(&store, client(2)), Some(Nanos::new(20)));
        assert_eq!(get(&store, client(3)), Some(Nanos::new(30)));
    }

    #[test]
    fn a_refused_request_stores_nothing() {
        let store = BoundedStore::new(2);
        assert_eq!(get(&store, client(1)), None);
        assert!(store.is_empty());
    }

    #[test]
    fn retain_recent_keeps_only_later_arrivals_and_the_order_follows() {
        let store = BoundedStore::new(3);
        put(&store, client(1), 10);
        put(&store, client(2), 20);
        put(&store, client(3), 30);
        store.retain_recent(Nanos::new(20));
        assert_eq!(store.len(), 1);
        assert_eq!(get(&store, client(3)), Some(Nanos::new(30)));
        // The order lost the dropped clients too: two new ones fit before client 3 goes.
        put(&store, client(4), 40);
        put(&store, client(5), 50);
        assert_eq!(get(&store, client(3)), Some(Nanos::new(30)));
        put(&store, client(6), 60);
        assert_eq!(get(&store, client(3)), None);
    }
}
