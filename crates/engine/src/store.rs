//! Orders and positions by id, with stable ids across compaction.
//!
//! Ids are handed out in order from 0 and never reused. While nothing was ever removed the
//! records are dense (`items[id]`), which is all a backtest ever sees: a lookup is one bounds
//! check. [`Records::retain`] (the live runner's `compact()`) removes records and switches to
//! a sorted id index beside the items, so a lookup becomes a binary search over what is left
//! (a grid's open orders, a deal's safety orders: a handful).

use std::ops::{Index, IndexMut};

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Records<T> {
    items: Vec<T>,
    /// The id of each item once something was removed; empty while `items[i]` has id `i`.
    ids: Vec<u32>,
    /// Whether something was ever removed (then `ids` is authoritative).
    sparse: bool,
    /// The id the next record gets.
    next: u32,
}

impl<T> Default for Records<T> {
    fn default() -> Self {
        Self { items: Vec::new(), ids: Vec::new(), sparse: false, next: 0 }
    }
}

impl<T> Records<T> {
    /// Adds a record; returns its id.
    pub fn push(&mut self, item: T) -> u32 {
        let id = self.next;
        self.next += 1;
        if self.sparse {
            self.ids.push(id);
        }
        self.items.push(item);
        id
    }

    /// Records kept.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    #[inline]
    fn slot(&self, id: u32) -> Option<usize> {
        if self.sparse {
            self.ids.binary_search(&id).ok()
        } else {
            ((id as usize) < self.items.len()).then_some(id as usize)
        }
    }

    #[inline]
    pub fn get(&self, id: u32) -> Option<&T> {
        self.slot(id).map(|i| &self.items[i])
    }

    /// `(id, record)` in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        let sparse = self.sparse;
        self.items.iter().enumerate().map(move |(i, t)| (if sparse { self.ids[i] } else { i as u32 }, t))
    }

    /// Keeps the records `keep` accepts; ids of the others are never handed out again.
    pub fn retain(&mut self, mut keep: impl FnMut(u32, &T) -> bool) {
        if !self.sparse {
            self.ids = (0..self.items.len() as u32).collect();
            self.sparse = true;
        }
        let mut i = 0;
        let ids = &mut self.ids;
        let mut kept_ids = Vec::with_capacity(ids.len());
        self.items.retain(|t| {
            let id = ids[i];
            i += 1;
            let k = keep(id, t);
            if k {
                kept_ids.push(id);
            }
            k
        });
        *ids = kept_ids;
    }

    /// Whether the structure is consistent (restored checkpoints are checked).
    pub fn is_consistent(&self) -> bool {
        if !self.sparse {
            return self.ids.is_empty() && self.items.len() as u64 == u64::from(self.next);
        }
        self.ids.len() == self.items.len()
            && self.ids.windows(2).all(|w| w[0] < w[1])
            && self.ids.last().is_none_or(|&l| l < self.next)
    }
}

impl<T> Index<u32> for Records<T> {
    type Output = T;
    /// Like a `Vec`'s index, out of bounds on an id that is not kept: the engine only refers
    /// to records it keeps (restored checkpoints are checked for it).
    #[inline]
    fn index(&self, id: u32) -> &T {
        &self.items[self.slot(id).unwrap_or(usize::MAX)]
    }
}

impl<T> IndexMut<u32> for Records<T> {
    #[inline]
    fn index_mut(&mut self, id: u32) -> &mut T {
        let i = self.slot(id).unwrap_or(usize::MAX);
        &mut self.items[i]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn ids_stay_stable_across_retain() {
        let mut r = Records::default();
        for v in 0..6 {
            assert_eq!(r.push(v * 10), v);
        }
        r.retain(|id, _| id % 2 == 1);
        assert_eq!(r.len(), 3);
        assert_eq!((r.get(0), r.get(3), r[5]), (None, Some(&30), 50));
        assert_eq!(r.push(60), 6, "ids are never reused");
        assert_eq!(r.iter().map(|(id, v)| (id, *v)).collect::<Vec<_>>(), vec![(1, 10), (3, 30), (5, 50), (6, 60)]);
        r.retain(|id, _| id != 3);
        assert_eq!(r.get(3), None);
        assert_eq!(r[6], 60);
        assert!(r.is_consistent());
        assert_eq!(r.push(70), 7);
    }

    #[test]
    fn dense_until_something_is_removed() {
        let mut r = Records::default();
        r.push('a');
        r.push('b');
        assert!(!r.sparse && r.is_consistent());
        assert_eq!(r.get(1), Some(&'b'));
        assert_eq!(r.get(2), None);
    }
}
