//! Exhaustive check of the bounded model: every property on every reachable state.

use cairn_sim::model::{
    CairnModel, ModelConfig, P_BACKUP_SUCCEEDED, P_RESTORE_SUCCEEDED, P_RETRIED,
};
use stateright::{Checker, Model};

#[test]
fn bounded_model_holds_every_property() {
    let started = std::time::Instant::now();
    let checker = CairnModel::new(ModelConfig::default())
        .checker()
        .threads(2)
        .spawn_bfs()
        .join();
    let elapsed = started.elapsed();
    println!(
        "explored {} unique states ({} total) in {elapsed:?}",
        checker.unique_state_count(),
        checker.state_count()
    );
    for (name, path) in checker.discoveries() {
        println!("discovery {name}:");
        for (i, action) in path.into_actions().iter().enumerate() {
            println!("  {}. {action:?}", i + 1);
        }
    }
    checker.assert_properties();
}
