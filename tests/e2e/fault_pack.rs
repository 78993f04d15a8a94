//! A pack file of the repository corrupted (bytes flipped) or deleted after a good backup:
//! `cairn check --read-data` and `restic check` report it naming the pack, a RestoreSession
//! fails loudly naming the table (or, when the manifest itself is lost, the file) and
//! nothing passes as restored. With the pack put back (from a replica), check, restore,
//! backup and restore work again.

use crate::fault_support::*;
use crate::local_support::*;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// A good backup; the data pack the test damages, and its bytes.
fn backed_up() -> Result<(Env, PathBuf, Vec<u8>)> {
    let env = Env::new(Options::default())?;
    let run = env.run_once(&[])?;
    assert!(run.ok, "the backup failed:\n{}", run.stderr);
    // The data pack is the largest; the other holds the snapshot's trees.
    let data = env.component().join("data");
    let pack = files_under(&data)
        .into_iter()
        .map(|f| data.join(f))
        .max_by_key(|p| p.metadata().map(|m| m.len()).unwrap_or(0))
        .context("no pack in the repository")?;
    let bytes = std::fs::read(&pack)?;
    Ok((env, pack, bytes))
}

/// The pack's id as repository checks print it (its first 8 hex digits).
fn short_id(pack: &Path) -> String {
    pack.file_name().unwrap().to_string_lossy()[..8].to_owned()
}

/// `cairn check --read-data` fails naming the pack; so does restic's check (reading the
/// data when `read_data`; a missing pack is found without, and restic retries reading it
/// for a long time).
fn assert_checks_report(env: &Env, pack: &Path, read_data: bool) -> Result<()> {
    let component = env.component().display().to_string();
    let check = env.cairn(&["check", "--read-data", "--repo", &component])?;
    assert!(!check.ok, "cairn check must fail:\n{}", check.stdout);
    let line = check.error_line();
    assert!(
        line.contains(&short_id(pack)) && !line.contains("Backtrace"),
        "cairn check names the pack {}: {line}",
        short_id(pack)
    );
    let (restic, repo) = env.restic()?;
    assert!(
        restic
            .check(&repo, &env.local.cairn.password_file, read_data)
            .is_err(),
        "restic check must fail too"
    );
    Ok(())
}

/// A RestoreSession of the damaged repository into the dropped database: Failed, `--once`
/// says so; the status text (a readable line, not a rustic report) is returned.
fn restore_fails(env: &Env) -> Result<String> {
    env.db.sql(&format!("DROP DATABASE IF EXISTS {DB}"))?;
    let set = env.local.write(
        "restore-damaged",
        "restore.yaml",
        &restore_session("damaged", "app", REPO),
    )?;
    let run = env.run_once(&[&set])?;
    assert!(
        !run.ok && run.error_line().contains("RestoreSession demo/damaged"),
        "--once must report the failed restore:\n{}",
        run.stderr
    );
    let restore = env.local.object("state", "restoresessions", "damaged")?;
    assert_eq!(phase(&restore), "Failed", "{restore:?}");
    let text = serde_yaml::to_string(&restore["status"])?;
    assert!(
        !text.contains("Backtrace") && !text.contains("Message:"),
        "the reason is a readable line, not a rustic report: {text}"
    );
    Ok(text)
}

/// The pack comes back (from a replica): checks pass, the restore brings the source
/// back, and a new backup and restore work.
fn repair_and_recover(env: &Env, pack: &Path, original: &[u8]) -> Result<()> {
    std::fs::write(pack, original)?;
    env.assert_repository_sound()?;
    env.restore_latest()?;
    env.assert_recovered()
}

#[test]
fn fault_pack_corrupted_is_reported_and_the_restore_fails_naming_the_table() -> Result<()> {
    let (env, pack, original) = backed_up()?;
    let mut damaged = original.clone();
    // The pack header sits at the end: flip bytes in the middle, inside `big.t`'s rows.
    let mid = damaged.len() / 2;
    for b in &mut damaged[mid..mid + 64] {
        *b ^= 0xff;
    }
    std::fs::write(&pack, &damaged)?;
    assert_checks_report(&env, &pack, true)?;
    let text = restore_fails(&env)?;
    assert!(
        text.contains("into `big`.`t` failed") && text.contains(&short_id(&pack)),
        "the restore names the table whose data is damaged, and the pack: {text}"
    );
    // The table the failed load was filling is dropped, and the message says so: no
    // table is left holding part of its rows.
    assert!(
        text.contains("dropped the tables it could not load completely (`big`.`t`"),
        "the restore says which tables it dropped: {text}"
    );
    let left = env.db.sql(&format!("SHOW TABLES FROM `{DB}` LIKE 't'"))?;
    assert!(left.is_empty(), "the partly loaded table is gone: {left}");
    repair_and_recover(&env, &pack, &original)
}

#[test]
fn fault_pack_deleted_is_reported_and_the_restore_loads_nothing() -> Result<()> {
    let (env, pack, original) = backed_up()?;
    std::fs::remove_file(&pack)?;
    assert_checks_report(&env, &pack, false)?;
    let text = restore_fails(&env)?;
    // The snapshot's manifest (its list of tables) shared the lost pack: the restore
    // stops before creating anything, naming the file, the pack and what to run.
    assert!(
        text.contains("cannot read /manifest.json")
            && text.contains(&short_id(&pack))
            && text.contains("cairn check"),
        "the restore names what it cannot read and where: {text}"
    );
    let left = env.db.sql(&format!("SHOW DATABASES LIKE '{DB}'"))?;
    assert!(left.is_empty(), "nothing was loaded: {left}");
    repair_and_recover(&env, &pack, &original)
}
