//! Renumbering the nodes of a built graph so that neighbours sit close together in the file.
//!
//! A search touches a few thousand records scattered over the level-0 section; on a graph
//! larger than the CPU caches each one is a cache (and TLB) miss. Numbering nodes in
//! breadth-first order over level 0, starting at the entry point, puts a node's neighbours
//! near it and near each other (the "BFS" graph ordering of Coleman et al., NeurIPS 2022).
//!
//! The order respects the level bands: nodes on level `l` or above must stay `0..count(l)`
//! (so that upper levels remain dense arrays), so each band gets its ids in the order the
//! traversal first reaches its nodes. Node 0, where the traversal starts, stays 0 (the entry
//! point). Nodes the traversal never reaches keep their relative order after the reached ones
//! of their band.

use std::collections::VecDeque;

use super::build::{BuiltGraph, NodeOrder};

/// A renumbering: `new_of[old]` and its inverse `old_of[new]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Renumbering {
    pub new_of: Vec<u32>,
    pub old_of: Vec<u32>,
}

/// Breadth-first numbering of `graph` within its level bands.
pub(super) fn breadth_first(graph: &BuiltGraph, order: &NodeOrder) -> Renumbering {
    let node_count = order.offsets.len();
    // Band b holds the nodes whose top level is b: ids count(b+1)..count(b), count(0) = N.
    let band_start = |level: usize| -> u32 { order.level_counts.get(level).copied().unwrap_or(0) };
    let mut next_in_band: Vec<u32> = (0..=order.top_level()).map(band_start).collect();
    let mut new_of = vec![u32::MAX; node_count];
    let mut assign = |node: u32, new_of: &mut Vec<u32>| {
        let band = order.level_of(node);
        new_of[node as usize] = next_in_band[band];
        next_in_band[band] += 1;
    };
    let mut queue = VecDeque::new();
    if node_count > 0 {
        assign(0, &mut new_of);
        queue.push_back(0u32);
    }
    while let Some(node) = queue.pop_front() {
        for &neighbor in graph.layer0.neighbors(node) {
            if new_of[neighbor as usize] == u32::MAX {
                assign(neighbor, &mut new_of);
                queue.push_back(neighbor);
            }
        }
    }
    for node in 0..node_count as u32 {
        if new_of[node as usize] == u32::MAX {
            assign(node, &mut new_of);
        }
    }
    let mut old_of = vec![0u32; node_count];
    for (old, &new) in new_of.iter().enumerate() {
        old_of[new as usize] = old as u32;
    }
    debug_assert!(new_of.first().is_none_or(|&entry| entry == 0));
    Renumbering { new_of, old_of }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_renumbering_is_a_permutation_within_bands_keeping_the_entry_point() {
        let offsets: Vec<u32> = (0..5_000).collect();
        let order = NodeOrder::new(&offsets, 4);
        let graph = BuiltGraph::chain(&order, 4);
        let renumbering = breadth_first(&graph, &order);
        assert_eq!(renumbering.new_of[0], 0);
        let mut sorted = renumbering.new_of.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..5_000).collect::<Vec<u32>>());
        for (old, &new) in renumbering.new_of.iter().enumerate() {
            assert_eq!(order.level_of(old as u32), order.level_of(new));
            assert_eq!(renumbering.old_of[new as usize], old as u32);
        }
    }
}
