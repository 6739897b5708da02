//! The runs the lost-run check ended or reported itself (src/operator/lost_runs.rs), so that a
//! result an executor sends for one of them later changes nothing: the run was settled once,
//! its `active` entry freed once. Shared by the check and the results consumer; bounded, the
//! oldest forgotten first (a result that late cannot come: the store refuses it, see
//! `Store::finish_runs`).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

/// How many settled run ids are remembered.
const REMEMBERED: usize = 10_000;

/// Run ids settled by the operator itself; cheap to clone, shared.
#[derive(Clone, Default)]
pub struct SettledRuns(Arc<Mutex<Remembered>>);

#[derive(Default)]
struct Remembered {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl SettledRuns {
    /// Remembers `run_id` as settled.
    pub fn insert(&self, run_id: &str) {
        let mut remembered = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !remembered.ids.insert(run_id.to_string()) {
            return;
        }
        remembered.order.push_back(run_id.to_string());
        if remembered.order.len() > REMEMBERED
            && let Some(oldest) = remembered.order.pop_front()
        {
            remembered.ids.remove(&oldest);
        }
    }

    pub fn contains(&self, run_id: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .ids
            .contains(run_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settled_run_is_remembered_and_the_oldest_forgotten_past_the_bound() {
        let settled = SettledRuns::default();
        settled.insert("first");
        settled.insert("first");
        assert!(settled.contains("first"));
        assert!(!settled.contains("other"));
        for n in 0..REMEMBERED {
            settled.insert(&format!("run-{n}"));
        }
        assert!(!settled.contains("first"));
        assert!(settled.contains("run-0"));
        assert!(settled.contains(&format!("run-{}", REMEMBERED - 1)));
    }
}
