//! The replica counts of one rollout step (upstream rolling.go / recreate.go, reduced):
//! RollingUpdate scales the new ReplicaSet up within `maxSurge` and old ones down while
//! `maxUnavailable` allows; Recreate empties old ReplicaSets before the new one grows.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// One ReplicaSet's replica numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `spec.replicas`.
    pub spec: i32,
    /// `status.replicas` (pods that exist).
    pub current: i32,
    /// `status.availableReplicas`.
    pub available: i32,
}

/// The strategy of a Deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `RollingUpdate` with (maxSurge, maxUnavailable) resolved to counts.
    Rolling { surge: i32, unavailable: i32 },
    /// `Recreate`.
    Recreate,
}

/// Resolves `maxSurge`/`maxUnavailable` (defaults 25%) against `desired`: surge rounds up,
/// unavailable down; both zero would deadlock, so unavailable becomes 1.
pub fn rolling(
    desired: i32,
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
) -> Strategy {
    let resolve = |v: Option<&IntOrString>, up: bool| -> i32 {
        match v {
            Some(IntOrString::Int(n)) => *n,
            Some(IntOrString::String(s)) => {
                let pct: f64 = s.trim_end_matches('%').parse().unwrap_or(25.0);
                let x = f64::from(desired) * pct / 100.0;
                (if up { x.ceil() } else { x.floor() }) as i32
            }
            None => {
                let x = f64::from(desired) * 0.25;
                (if up { x.ceil() } else { x.floor() }) as i32
            }
        }
    };
    let surge = resolve(max_surge, true);
    let mut unavailable = resolve(max_unavailable, false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Strategy::Rolling { surge, unavailable }
}

/// New `spec.replicas` for the new ReplicaSet and each old one (same order as `old`).
pub fn step(desired: i32, strategy: &Strategy, new: Counts, old: &[Counts]) -> (i32, Vec<i32>) {
    match strategy {
        Strategy::Recreate => {
            let old_left: i32 = old.iter().map(|o| o.current).sum();
            let new_target = if old_left == 0 {
                desired
            } else {
                new.spec.min(desired)
            };
            (new_target, vec![0; old.len()])
        }
        Strategy::Rolling { surge, unavailable } => {
            let total: i32 = new.spec + old.iter().map(|o| o.spec).sum::<i32>();
            let room = (desired + surge - total).max(0);
            let new_target = if new.spec >= desired {
                desired
            } else {
                (new.spec + room).min(desired)
            };
            let mut olds: Vec<i32> = old.iter().map(|o| o.spec).collect();
            // Unavailable old replicas go first: removing them costs no availability.
            for (i, o) in old.iter().enumerate() {
                let unhealthy = (o.spec - o.available).max(0);
                olds[i] -= unhealthy;
            }
            let available: i32 = new.available + old.iter().map(|o| o.available).sum::<i32>();
            let mut can_remove = (available - (desired - unavailable)).max(0);
            for o in olds.iter_mut() {
                let r = (*o).min(can_remove);
                *o -= r;
                can_remove -= r;
            }
            (new_target, olds)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(spec: i32, current: i32, available: i32) -> Counts {
        Counts {
            spec,
            current,
            available,
        }
    }

    #[test]
    fn defaults_for_one_replica_surge_one_keep_all_available() {
        assert_eq!(
            rolling(1, None, None),
            Strategy::Rolling {
                surge: 1,
                unavailable: 0
            }
        );
        assert_eq!(
            rolling(4, None, None),
            Strategy::Rolling {
                surge: 1,
                unavailable: 1
            }
        );
        assert_eq!(
            rolling(1, Some(&IntOrString::Int(0)), Some(&IntOrString::Int(0))),
            Strategy::Rolling {
                surge: 0,
                unavailable: 1
            }
        );
    }

    #[test]
    fn one_replica_rolls_new_up_then_old_down() {
        let s = rolling(1, None, None);
        // Start: the new RS grows while the old one stays.
        assert_eq!(step(1, &s, c(0, 0, 0), &[c(1, 1, 1)]), (1, vec![1]));
        // New pod not yet available: the old one stays.
        assert_eq!(step(1, &s, c(1, 1, 0), &[c(1, 1, 1)]), (1, vec![1]));
        // New pod available: the old RS goes to zero.
        assert_eq!(step(1, &s, c(1, 1, 1), &[c(1, 1, 1)]), (1, vec![0]));
    }

    #[test]
    fn a_fresh_deployment_scales_straight_up() {
        assert_eq!(
            step(3, &rolling(3, None, None), c(0, 0, 0), &[]),
            (3, vec![])
        );
    }

    #[test]
    fn recreate_waits_for_old_pods_to_go() {
        assert_eq!(
            step(2, &Strategy::Recreate, c(0, 0, 0), &[c(2, 2, 2)]),
            (0, vec![0])
        );
        assert_eq!(
            step(2, &Strategy::Recreate, c(0, 0, 0), &[c(0, 0, 0)]),
            (2, vec![0])
        );
    }
}
