//! The objects the operator writes parse as Kubernetes types; `cairn trigger` names the
//! session exactly as the core does.

use cairn_core::api::BackupConfiguration;
use cairn_core::reconcile::trigger_command::cron_fired_session;
use cairn_kube::objects::Config;
use k8s_openapi::api::batch::v1::{CronJob, Job};

use super::support::*;

#[tokio::test]
async fn written_jobs_and_cronjobs_are_valid_kubernetes_objects() {
    let (client, fake) = Fake::start();
    seed(&fake);
    fake.put(yaml(CONFIG));
    let mut d = cairn_kube::driver::Driver::new(Config::default());
    let backend = cairn_kube::backend::FixedBackend(cairn_core::world::Outcome::Ok);
    super::support::settle(&mut d, &client, &backend, &fake, at("2024-08-19T10:58:20Z"))
        .await
        .unwrap();
    let log = fake.take_log();
    let jobs: Vec<_> = log.iter().filter(|l| l.path.contains("/jobs/")).collect();
    let crons: Vec<_> = log
        .iter()
        .filter(|l| l.path.contains("/cronjobs/"))
        .collect();
    assert_eq!((jobs.len(), crons.len()), (1, 1));
    let job: Job = serde_json::from_value(jobs[0].body.clone()).unwrap();
    let pod = job.spec.unwrap().template.spec.unwrap();
    assert_eq!(
        pod.containers[0].command.as_deref().unwrap(),
        ["cairn", "exec", "backup"]
    );
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    let cron: CronJob = serde_json::from_value(crons[0].body.clone()).unwrap();
    let spec = cron.spec;
    assert_eq!(spec.successful_jobs_history_limit, Some(2));
    assert_eq!(spec.job_template.spec.unwrap().backoff_limit, Some(1));
    insta::assert_yaml_snapshot!("executor_job", jobs[0].body);
    insta::assert_yaml_snapshot!("trigger_cronjob", crons[0].body);
}

#[test]
fn trigger_names_the_session_after_the_slot() {
    let bc: BackupConfiguration = serde_yaml::from_str(CONFIG).unwrap();
    let s = cron_fired_session(&bc, "frequent-backup", at("2024-08-19T11:00:07Z")).unwrap();
    assert_eq!(
        s.metadata.name.as_deref(),
        Some("sample-sdb-backup-frequent-backup-1724065200")
    );
    assert_eq!(
        s.metadata.finalizers.as_deref(),
        Some(&["kubestash.com/cleanup".to_owned()][..])
    );
    assert!(cron_fired_session(&bc, "nope", at("2024-08-19T11:00:07Z")).is_err());
}
