//! A map that remembers at most a fixed number of keys: inserting a new key beyond the
//! capacity forgets the oldest insertion. It keeps the simulator's memory bounded however
//! many idempotency keys, API keys and contexts a long load test sends.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Keys in insertion order beside a hash map. Each insertion gets a sequence number, so that
/// an order entry left behind by [`Bounded::remove`] is recognised as stale and skipped.
#[derive(Debug)]
pub(crate) struct Bounded<K, V> {
    map: HashMap<K, (u64, V)>,
    /// Insertion order; never longer than `cap`.
    order: VecDeque<(K, u64)>,
    next: u64,
    cap: usize,
}

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    /// An empty map keeping at most `cap` keys (at least 1).
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            next: 0,
            cap: cap.max(1),
        }
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get(key).map(|(_, v)| v)
    }

    pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.remove(key).map(|(_, v)| v)
    }

    /// Sets the value of `key`. A key already present keeps its place in the order; a new
    /// one becomes the newest and may push the oldest out.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        match self.map.get_mut(&key) {
            Some(slot) => slot.1 = value,
            None => {
                self.push_new(key, value);
            }
        }
    }

    /// The value of `key`, inserted with `make` if absent.
    pub(crate) fn get_or_insert_with(&mut self, key: &K, make: impl FnOnce() -> V) -> &mut V {
        if self.map.contains_key(key) {
            // Present: `make` is not called.
            let seq = self.next;
            &mut self
                .map
                .entry(key.clone())
                .or_insert_with(|| (seq, make()))
                .1
        } else {
            self.push_new(key.clone(), make())
        }
    }

    fn push_new(&mut self, key: K, value: V) -> &mut V {
        while self.order.len() >= self.cap {
            let Some((old, old_seq)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&old).is_some_and(|(s, _)| *s == old_seq) {
                self.map.remove(&old);
            }
        }
        // Entries left behind by `remove` are dropped before they outnumber the live ones.
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order
                .retain(|(k, seq)| map.get(k).is_some_and(|(s, _)| s == seq));
        }
        let seq = self.next;
        self.next += 1;
        self.order.push_back((key.clone(), seq));
        &mut self.map.entry(key).or_insert((seq, value)).1
    }

    /// Removes and returns the oldest entry.
    pub(crate) fn pop_oldest(&mut self) -> Option<(K, V)> {
        while let Some((k, seq)) = self.order.pop_front() {
            if self.map.get(&k).is_some_and(|(s, _)| *s == seq) {
                return self.map.remove(&k).map(|(_, v)| (k, v));
            }
        }
        None
    }

    /// Entries, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.order
            .iter()
            .filter_map(|(k, seq)| match self.map.get(k) {
                Some((s, v)) if s == seq => Some((k, v)),
                _ => None,
            })
    }

    /// Keys present.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_beyond_the_capacity() {
        let mut m = Bounded::new(3);
        for i in 0..5 {
            m.insert(i, i * 10);
        }
        assert_eq!(m.len(), 3);
        assert_eq!(m.get(&1), None);
        assert_eq!(
            m.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
            [(2, 20), (3, 30), (4, 40)]
        );
        // Updating a present key keeps its place.
        m.insert(2, 21);
        m.insert(5, 50);
        assert_eq!(m.get(&2), None);
        assert_eq!(m.get(&3), Some(&30));
    }

    #[test]
    fn removed_keys_leave_no_trace_and_order_stays_bounded() {
        let mut m = Bounded::new(2);
        for i in 0..1000 {
            m.insert(i % 7, i);
            m.remove(&(i % 7));
        }
        assert_eq!(m.len(), 0);
        assert!(m.order.len() <= 2);
        // Without a capacity to trim it, the order still stays near the live keys.
        let mut big = Bounded::new(usize::MAX);
        for i in 0..10_000 {
            big.insert(i % 3, i);
            big.remove(&(i % 3));
        }
        assert!(big.order.len() <= 64 + 1, "{}", big.order.len());
        // A key removed and inserted again is the newest, not its stale place.
        m.insert(1, 1);
        m.insert(2, 2);
        m.remove(&1);
        m.insert(1, 11);
        m.insert(3, 3);
        assert_eq!(
            m.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
            [(1, 11), (3, 3)]
        );
        *m.get_or_insert_with(&3, || 0) += 1;
        assert_eq!(*m.get_or_insert_with(&4, || 40), 40);
        assert_eq!(m.get(&3), Some(&4));
        assert_eq!(m.get(&1), None);
        assert_eq!(m.get(&4), Some(&40));
        assert_eq!(m.pop_oldest(), Some((3, 4)));
        assert_eq!(m.pop_oldest(), Some((4, 40)));
        assert_eq!(m.pop_oldest(), None);
    }
}
