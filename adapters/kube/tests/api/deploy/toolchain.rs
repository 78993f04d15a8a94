//! The image builder's Rust is new enough for every locked dependency: `docker build`
//! runs `cargo build --locked`, which fails on a toolchain older than a crate's
//! `rust-version`, and nothing else would notice before a release.

use std::process::Command;
use std::time::Duration;

use cairn_testkit::process::run_ok;
use serde_json::Value;

use super::repo;

/// A Rust release as `(major, minor, patch)`; "1.89" is 1.89.0.
type RustVersion = (u64, u64, u64);

fn parse_version(text: &str) -> Option<RustVersion> {
    let mut parts = text.trim().split('.').map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().unwrap_or(Some(0))?;
    let patch = parts.next().unwrap_or(Some(0))?;
    Some((major, minor, patch))
}

fn show((major, minor, patch): RustVersion) -> String {
    format!("{major}.{minor}.{patch}")
}

/// The `rust-version` of each locked package built for Linux, from `cargo metadata`
/// (exact: what cargo itself checks), as `(version, "name@version")`.
fn locked_rust_versions() -> Vec<(RustVersion, String)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(repo("")).args([
        "metadata",
        "--format-version",
        "1",
        "--locked",
        "--filter-platform",
        "x86_64-unknown-linux-gnu",
    ]);
    let out = run_ok(&mut cmd, None, Duration::from_secs(300)).unwrap();
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    assert!(
        packages.len() > 100,
        "cargo metadata listed too few packages"
    );
    packages
        .iter()
        .filter_map(|p| {
            let version = parse_version(p["rust_version"].as_str()?)?;
            Some((
                version,
                format!("{}@{}", p["name"].as_str()?, p["version"].as_str()?),
            ))
        })
        .collect()
}

/// The Rust version of the `FROM rust:<version>-…` builder stage of `dockerfile`.
fn builder_rust_version(dockerfile: &str) -> Option<RustVersion> {
    dockerfile.lines().find_map(|line| {
        let image = line
            .trim()
            .strip_prefix("FROM ")?
            .split_whitespace()
            .next()?;
        let tag = image.strip_prefix("rust:")?;
        parse_version(tag.split('-').next()?)
    })
}

/// `rust-version` of `[workspace.package]` in the top-level Cargo.toml.
fn workspace_rust_version(manifest: &str) -> Option<RustVersion> {
    let section = manifest.split("[workspace.package]").nth(1)?;
    let section = section.split("\n[").next()?;
    section.lines().find_map(|line| {
        let value = line
            .trim()
            .strip_prefix("rust-version")?
            .trim()
            .strip_prefix('=')?;
        parse_version(value.trim().trim_matches('"'))
    })
}

fn neediest(versions: &[(RustVersion, String)]) -> (RustVersion, String) {
    versions
        .iter()
        .max()
        .cloned()
        .expect("some locked package declares a rust-version")
}

#[test]
fn versions_parse_as_cargo_and_docker_write_them() {
    assert_eq!(parse_version("1.89"), Some((1, 89, 0)));
    assert_eq!(parse_version("1.91.1"), Some((1, 91, 1)));
    assert_eq!(parse_version("latest"), None);
    let dockerfile = "# x\nFROM rust:1.91.1-slim-bookworm AS build\nFROM gcr.io/distroless/cc\n";
    assert_eq!(builder_rust_version(dockerfile), Some((1, 91, 1)));
    assert_eq!(builder_rust_version("FROM rust:latest AS build\n"), None);
    let manifest =
        "[workspace]\n[workspace.package]\nrust-version = \"1.91\"\n[x]\nrust-version = \"1.2\"\n";
    assert_eq!(workspace_rust_version(manifest), Some((1, 91, 0)));
}

#[test]
fn the_image_builder_has_the_rust_every_locked_crate_needs() {
    let versions = locked_rust_versions();
    let (needed, package) = neediest(&versions);
    let dockerfile = std::fs::read_to_string(repo("deploy/Dockerfile")).unwrap();
    let builder = builder_rust_version(&dockerfile)
        .expect("deploy/Dockerfile builds FROM rust:<pinned version>-…");
    assert!(
        builder >= needed,
        "deploy/Dockerfile builds with Rust {} but {package} (in Cargo.lock) needs {}: \
         raise `FROM rust:` to at least {}",
        show(builder),
        show(needed),
        show(needed),
    );
}

#[test]
fn the_workspace_rust_version_covers_the_lockfile() {
    let versions = locked_rust_versions();
    let (needed, package) = neediest(&versions);
    let manifest = std::fs::read_to_string(repo("Cargo.toml")).unwrap();
    let declared = workspace_rust_version(&manifest)
        .expect("Cargo.toml declares [workspace.package] rust-version");
    assert!(
        declared >= needed,
        "Cargo.toml declares rust-version {} but {package} (in Cargo.lock) needs {}",
        show(declared),
        show(needed),
    );
}
