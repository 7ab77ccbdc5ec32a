//! Bounded top-k selection in PostgreSQL's ORDER BY order.
//!
//! Order: smaller distance first; NaN after every number (PostgreSQL sorts float8 NaN above
//! all values); `-0.0` equals `0.0`; ties broken by the smaller row offset so that results are
//! deterministic and independent of how the scan was split across threads.
//!
//! [`TopK`] keeps at most `capacity` neighbours in a max-heap whose root is the worst one kept,
//! so each offered candidate costs one comparison unless it displaces the root.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Compares two distances as PostgreSQL's float8 ordering does (NaN greatest, `-0 == 0`).
pub fn compare_distances(left: f32, right: f32) -> Ordering {
    match (left.is_nan(), right.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => left.partial_cmp(&right).unwrap_or(Ordering::Equal),
    }
}

/// A candidate row and its distance to the query.
#[derive(Debug, Clone, Copy)]
pub struct Neighbor {
    pub distance: f32,
    pub offset: u32,
}

impl Ord for Neighbor {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_distances(self.distance, other.distance).then(self.offset.cmp(&other.offset))
    }
}

impl PartialOrd for Neighbor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Neighbor {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Neighbor {}

/// The best `capacity` neighbours offered so far.
#[derive(Debug)]
pub struct TopK {
    capacity: usize,
    worst_first: BinaryHeap<Neighbor>,
}

impl TopK {
    /// An empty selection of at most `capacity` neighbours. `expected_candidates` only bounds
    /// the initial allocation (a huge `k` over a small segment must not reserve `k` slots).
    pub fn new(capacity: usize, expected_candidates: usize) -> TopK {
        TopK {
            capacity,
            worst_first: BinaryHeap::with_capacity(capacity.min(expected_candidates)),
        }
    }

    /// Keeps `candidate` if it is among the best `capacity` seen so far.
    #[inline]
    pub fn offer(&mut self, candidate: Neighbor) {
        if self.worst_first.len() < self.capacity {
            self.worst_first.push(candidate);
        } else if let Some(mut worst) = self.worst_first.peek_mut() {
            if candidate < *worst {
                // The `PeekMut` guard sifts the replacement into place when it is dropped.
                *worst = candidate;
            }
        }
    }

    /// Folds another selection (for instance from another thread's chunk) into this one.
    pub fn merge(self, other: TopK) -> TopK {
        debug_assert_eq!(self.capacity, other.capacity);
        let (mut larger, smaller) = if self.len() >= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        for candidate in smaller.worst_first {
            larger.offer(candidate);
        }
        larger
    }

    /// Number of neighbours kept.
    pub fn len(&self) -> usize {
        self.worst_first.len()
    }

    /// The kept neighbours, nearest first.
    pub fn into_sorted(self) -> Vec<Neighbor> {
        self.worst_first.into_sorted_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neighbor(distance: f32, offset: u32) -> Neighbor {
        Neighbor { distance, offset }
    }

    #[test]
    fn nan_sorts_last_and_negative_zero_ties_with_zero() {
        assert_eq!(
            compare_distances(f32::NAN, f32::INFINITY),
            Ordering::Greater
        );
        assert_eq!(compare_distances(-f32::NAN, 1.0), Ordering::Greater);
        assert_eq!(compare_distances(-0.0, 0.0), Ordering::Equal);
        assert_eq!(compare_distances(f32::NEG_INFINITY, -1.0), Ordering::Less);
        assert!(neighbor(0.0, 1) < neighbor(-0.0, 2));
    }

    #[test]
    fn keeps_the_best_k_in_order_with_offset_tie_break() {
        let mut top = TopK::new(3, 10);
        for (distance, offset) in [
            (5.0, 0),
            (1.0, 1),
            (f32::NAN, 2),
            (1.0, 3),
            (0.5, 4),
            (9.0, 5),
        ] {
            top.offer(neighbor(distance, offset));
        }
        let offsets: Vec<u32> = top.into_sorted().iter().map(|n| n.offset).collect();
        assert_eq!(offsets, vec![4, 1, 3]);
    }

    #[test]
    fn merging_selections_equals_one_selection_over_everything() {
        let candidates: Vec<Neighbor> = (0..100u32)
            .map(|offset| neighbor(((offset * 37) % 23) as f32, offset))
            .collect();
        let mut whole = TopK::new(10, 100);
        candidates.iter().for_each(|&c| whole.offer(c));
        let mut left = TopK::new(10, 100);
        let mut right = TopK::new(10, 100);
        candidates[..30].iter().for_each(|&c| left.offer(c));
        candidates[30..].iter().for_each(|&c| right.offer(c));
        let merged = left.merge(right);
        let offsets =
            |top: TopK| -> Vec<u32> { top.into_sorted().iter().map(|n| n.offset).collect() };
        assert_eq!(offsets(merged), offsets(whole));
    }

    #[test]
    fn zero_capacity_keeps_nothing_and_huge_capacity_allocates_little() {
        let mut nothing = TopK::new(0, 5);
        nothing.offer(neighbor(1.0, 0));
        assert_eq!(nothing.len(), 0);
        let mut everything = TopK::new(usize::MAX, 2);
        everything.offer(neighbor(2.0, 0));
        everything.offer(neighbor(1.0, 1));
        assert_eq!(everything.len(), 2);
    }
}
