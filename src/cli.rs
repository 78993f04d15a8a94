//! Command-line arguments (clap).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Backup and restore for SingleStore and MySQL-wire databases into restic repositories.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, about, propagate_version = true)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output (-v: debug, -vv: trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log line format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Every `cairn` command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new restic repository (format v2, zstd).
    Init(RepoArgs),
    /// Dump databases into a new snapshot.
    Backup(BackupArgs),
    /// Load a snapshot back into a database.
    Restore(RestoreArgs),
    /// List the snapshots of a repository.
    Snapshots(SnapshotsArgs),
    /// Check the repository's integrity.
    Check(CheckArgs),
    /// Remove snapshots by a keep policy, optionally pruning unreferenced data.
    Forget(ForgetArgs),
    /// Remove a repository lock left by a process that is gone.
    Unlock(RepoArgs),
    /// Print the CustomResourceDefinitions of every kind (multi-document YAML).
    Crds,
    /// Run the controllers locally on manifests from files (the local control plane).
    Run(cairn_local::cli::RunArgs),
    /// Run the Kubernetes operator.
    Operator(cairn_kube::cli::OperatorArgs),
    /// Run one executor job (backup or restore): what an executor Job's container runs.
    Exec(ExecCommand),
    /// Start a backup now: a new BackupSession for a BackupConfiguration (what a trigger
    /// CronJob's container runs).
    Trigger(TriggerCommand),
    /// List stored objects of a kind (printer columns, or -o yaml|json|wide).
    Get(cairn_local::cli::GetArgs),
    /// Show one object: metadata, spec, status, conditions and recent events.
    Describe(cairn_local::cli::DescribeArgs),
    /// Record manifests in the state directory (a running `cairn run` picks them up).
    Apply(cairn_local::cli::ApplyArgs),
    /// Request deletion of an object (finalizer cleanup runs in `cairn run`).
    Delete(cairn_local::cli::DeleteArgs),
}

/// Arguments of `cairn exec backup|restore`: the flags every catalog Function passes
/// (Cairn's and KubeDB's), plus where the objects are.
#[derive(Debug, Args)]
pub struct ExecCommand {
    /// The job.
    #[command(flatten)]
    pub job: cairn_kube::exec::ExecArgs,
    /// Run the job recorded in this local state directory (`cairn run`). Without it, the
    /// API server is used inside a pod (KUBERNETES_SERVICE_HOST set), else `.cairn`.
    #[arg(long)]
    pub state: Option<PathBuf>,
}

/// Arguments of `cairn trigger`.
#[derive(Debug, Args)]
pub struct TriggerCommand {
    /// The BackupConfiguration.
    pub backupconfiguration: String,
    /// Session to trigger (repeatable; default: every session; required in a cluster).
    #[arg(long)]
    pub session: Vec<String>,
    /// Namespace of the BackupConfiguration.
    #[arg(short, long, env = "POD_NAMESPACE", default_value = "default")]
    pub namespace: String,
    /// Create the sessions in this local state directory (`cairn run`). Without it, the
    /// API server is used inside a pod (KUBERNETES_SERVICE_HOST set), else `.cairn`.
    #[arg(long)]
    pub state: Option<PathBuf>,
}

/// Where the objects of `exec` and `trigger` live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plane {
    /// A local state directory.
    Local(PathBuf),
    /// The Kubernetes API server of the pod's cluster.
    Cluster,
}

impl Plane {
    /// `--state` if given; else the cluster when running in a pod; else `.cairn`.
    pub fn choose(state: Option<&PathBuf>, in_pod: bool) -> Self {
        match state {
            Some(dir) => Self::Local(dir.clone()),
            None if in_pod => Self::Cluster,
            None => Self::Local(PathBuf::from(".cairn")),
        }
    }

    /// [`Plane::choose`] with the process environment.
    pub fn of(state: Option<&PathBuf>) -> Self {
        Self::choose(state, std::env::var_os("KUBERNETES_SERVICE_HOST").is_some())
    }
}

/// Where the repository is and how to open it.
#[derive(Debug, Args, Clone)]
pub struct RepoArgs {
    /// Repository address: PATH, local:PATH, s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX], gs:BUCKET:/PREFIX, azure:CONTAINER:/PREFIX.
    #[arg(long, short = 'r', env = "RESTIC_REPOSITORY")]
    pub repo: String,
    /// File holding the repository password (else RESTIC_PASSWORD / RESTIC_PASSWORD_FILE).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// Accept any TLS certificate from the object store (S3 insecureTLS).
    #[arg(long)]
    pub insecure_tls: bool,
    /// PEM CA certificate(s) to trust for the object store, as restic's --cacert (else CA_CERT_DATA).
    #[arg(long, value_name = "FILE", env = "RESTIC_CACERT")]
    pub ca_file: Option<PathBuf>,
}

/// How to reach the database.
#[derive(Debug, Args, Clone)]
pub struct DbArgs {
    /// Database address: mysql://USER@HOST:PORT (password from MYSQL_PWD or --db-password-file).
    #[arg(long)]
    pub db: String,
    /// File holding the database password.
    #[arg(long)]
    pub db_password_file: Option<PathBuf>,
    /// PEM CA certificate(s) to verify the database server with; turns TLS on.
    #[arg(long, value_name = "FILE")]
    pub db_ca_file: Option<PathBuf>,
    /// PEM client certificate for accounts that REQUIRE X509 (with --db-key-file); turns TLS on.
    #[arg(long, value_name = "FILE", requires = "db_key_file")]
    pub db_cert_file: Option<PathBuf>,
    /// PEM private key of --db-cert-file.
    #[arg(long, value_name = "FILE", requires = "db_cert_file")]
    pub db_key_file: Option<PathBuf>,
    /// Name the server certificate must hold, when it differs from the host in --db; turns TLS on.
    #[arg(long, value_name = "NAME")]
    pub db_server_name: Option<String>,
    /// Encrypt but accept any server certificate (not verified: only for testing); turns TLS on.
    #[arg(long)]
    pub db_insecure_skip_verify: bool,
}

/// Snapshot data layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Cairn's parallel format: schema files, per-table data chunks, a manifest with checksums.
    Native,
    /// One `dumpfile.sql` in mysqldump syntax, as KubeStash's SingleStore addon writes it.
    Sql,
}

/// Consistency wanted across the dump's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConsistencyArg {
    /// The strongest the server allows.
    Auto,
    /// Hold a global read lock for the whole dump (SingleStore's way to a consistent dump).
    Lock,
    /// Take no lock: each table is consistent on its own.
    NoLock,
}

/// Arguments of `cairn backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
    /// The repository.
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Databases to dump, comma-separated (default: all but system databases).
    #[arg(long, value_delimiter = ',')]
    pub databases: Option<Vec<String>>,
    /// Parallel database connections (default: CPU count).
    #[arg(long)]
    pub parallel: Option<usize>,
    /// Snapshot layout.
    #[arg(long, value_enum, default_value_t = Format::Native)]
    pub format: Format,
    /// Consistency across connections.
    #[arg(long, value_enum, default_value_t = ConsistencyArg::Auto)]
    pub consistency: ConsistencyArg,
    /// Shorthand for --consistency no-lock, for servers that forbid global locks.
    #[arg(long)]
    pub no_lock: bool,
    /// Rows per data chunk when splitting big tables by primary key.
    #[arg(long, default_value_t = 500_000)]
    pub chunk_rows: u64,
    /// Hostname recorded in the snapshot.
    #[arg(long)]
    pub host: Option<String>,
    /// Tags recorded in the snapshot, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub tag: Vec<String>,
    /// Print one JSON object with the result at the end.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `cairn restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The database to restore into.
    #[command(flatten)]
    pub db: DbArgs,
    /// The repository.
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Snapshot id (or unique prefix), or `latest`.
    #[arg(long, default_value = "latest")]
    pub snapshot: String,
    /// Databases to restore, comma-separated (default: all in the snapshot).
    #[arg(long, value_delimiter = ',')]
    pub databases: Option<Vec<String>>,
    /// Tables to restore, comma-separated (`db.table` or `table`).
    #[arg(long, value_delimiter = ',')]
    pub tables: Option<Vec<String>>,
    /// Restore database OLD under the name NEW (repeatable).
    #[arg(long = "rename-database", value_name = "OLD:NEW")]
    pub rename_database: Vec<String>,
    /// Parallel database connections (default: CPU count).
    #[arg(long)]
    pub parallel: Option<usize>,
    /// Replace tables that already exist in the target.
    #[arg(long)]
    pub drop_existing: bool,
    /// Skip the row-count and checksum verification after loading.
    #[arg(long)]
    pub no_verify: bool,
    /// Print one JSON object with the result at the end.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `cairn snapshots`.
#[derive(Debug, Args)]
pub struct SnapshotsArgs {
    /// The repository.
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `cairn check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The repository.
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Also read and verify every pack file.
    #[arg(long)]
    pub read_data: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `cairn forget`.
#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The repository.
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Keep the N most recent snapshots.
    #[arg(long)]
    pub keep_last: Option<u32>,
    /// Keep the newest snapshot of each of the last N hours.
    #[arg(long)]
    pub keep_hourly: Option<u32>,
    /// Keep the newest snapshot of each of the last N days.
    #[arg(long)]
    pub keep_daily: Option<u32>,
    /// Keep the newest snapshot of each of the last N weeks.
    #[arg(long)]
    pub keep_weekly: Option<u32>,
    /// Keep the newest snapshot of each of the last N months.
    #[arg(long)]
    pub keep_monthly: Option<u32>,
    /// Keep the newest snapshot of each of the last N years.
    #[arg(long)]
    pub keep_yearly: Option<u32>,
    /// Remove data no snapshot references any more.
    #[arg(long)]
    pub prune: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn exec_and_trigger_use_the_state_directory_given_else_the_cluster_in_a_pod() {
        let dir = PathBuf::from("/srv/cairn");
        assert_eq!(Plane::choose(Some(&dir), true), Plane::Local(dir.clone()));
        assert_eq!(Plane::choose(None, true), Plane::Cluster);
        assert_eq!(Plane::choose(None, false), Plane::Local(".cairn".into()));
    }

    #[test]
    fn the_local_daemons_exec_form_parses() {
        let cli = Cli::try_parse_from([
            "cairn",
            "exec",
            "restore",
            "--state",
            "/srv/cairn",
            "--namespace",
            "demo",
            "--restoresession",
            "r1",
        ])
        .unwrap();
        let Command::Exec(args) = cli.command else {
            panic!("not exec")
        };
        assert_eq!(
            args.state.as_deref(),
            Some(std::path::Path::new("/srv/cairn"))
        );
        let key = args.job.key().unwrap();
        assert_eq!(
            (key.namespace.as_str(), key.session.as_str()),
            ("demo", "r1")
        );
    }

    #[test]
    fn backup_accepts_the_documented_form() {
        let cli = Cli::try_parse_from([
            "cairn",
            "backup",
            "--db",
            "mysql://root@127.0.0.1:3306",
            "--repo",
            "/tmp/r",
            "--databases",
            "a,b",
            "--parallel",
            "4",
            "--format",
            "sql",
            "--json",
        ])
        .unwrap();
        let Command::Backup(args) = cli.command else {
            panic!("not backup")
        };
        assert_eq!(args.databases, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(args.parallel, Some(4));
        assert_eq!(args.format, Format::Sql);
        assert!(args.json);
    }

    #[test]
    fn restore_accepts_the_documented_form() {
        let cli = Cli::try_parse_from([
            "cairn",
            "restore",
            "--db",
            "mysql://root@127.0.0.1:3306",
            "--repo",
            "/tmp/r",
            "--snapshot",
            "latest",
            "--databases",
            "a",
            "--rename-database",
            "a:b",
            "--parallel",
            "2",
            "--json",
        ])
        .unwrap();
        let Command::Restore(args) = cli.command else {
            panic!("not restore")
        };
        assert_eq!(args.rename_database, vec!["a:b".to_string()]);
        assert_eq!(args.snapshot, "latest");
    }
}
