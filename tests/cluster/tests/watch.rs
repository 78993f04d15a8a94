//! Watches with kube-rs: kube-runtime's watcher relists after 410 Gone, streaming lists
//! (`sendInitialEvents`), label selectors on watches.

mod support;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher::{self, Event};
use support::Cluster;

fn cm(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    let mut c = ConfigMap::default();
    c.metadata.name = Some(name.into());
    c.metadata.labels = Some(
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    c
}

async fn next_names(
    stream: &mut (impl futures::Stream<Item = Result<Event<ConfigMap>, watcher::Error>> + Unpin),
    want: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(Event::Init) => seen.push("<init>".to_string()),
                Ok(Event::InitApply(o)) | Ok(Event::Apply(o)) => {
                    let n = o.metadata.name.unwrap_or_default();
                    seen.push(n.clone());
                    if n == want {
                        return;
                    }
                }
                Ok(Event::Delete(o)) => {
                    seen.push(format!("-{}", o.metadata.name.unwrap_or_default()))
                }
                Ok(Event::InitDone) => seen.push("<done>".to_string()),
                Err(e) => seen.push(format!("<err {e}>")),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {want} within 20s; saw {seen:?}"));
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_relists_after_410() {
    let c = Cluster::start();
    let api: Api<ConfigMap> = Api::namespaced(c.client(), "default");
    api.create(&PostParams::default(), &cm("w1", &[]))
        .await
        .expect("create w1");
    let mut stream = watcher::watcher(api.clone(), watcher::Config::default()).boxed();
    let first = next_names(&mut stream, "w1").await;
    assert!(first.contains(&"<init>".to_string()), "{first:?}");

    // The next watch request gets an ERROR 410 event (fault injection), and every open
    // watch is cut: the watcher resumes, sees 410, and must relist.
    let rule = serde_json::json!({
        "method": "GET", "pathRegex": "^/api/v1/namespaces/default/configmaps\\?.*watch=(true|1)",
        "gone410": true, "count": 1, "user": "admin"
    });
    let (code, _) = c.raw("POST", "/_test/faults", Some(rule)).await;
    assert_eq!(code, 201);
    let (code, _) = c.raw("POST", "/_test/watches/drop", None).await;
    assert_eq!(code, 200);
    let after = next_names(&mut stream, "w1").await;
    assert!(
        after.contains(&"<init>".to_string()),
        "expected a relist, saw {after:?}"
    );
    api.create(&PostParams::default(), &cm("w2", &[]))
        .await
        .expect("create w2");
    next_names(&mut stream, "w2").await;

    // A real 410: once the event log is compacted, a watch from an older resourceVersion
    // gets an ERROR event with a 410 Expired Status.
    let old_rv = api
        .get("w1")
        .await
        .expect("get")
        .metadata
        .resource_version
        .expect("rv");
    api.create(&PostParams::default(), &cm("w3", &[]))
        .await
        .expect("create w3");
    let (code, _) = c.raw("POST", "/_test/compact", None).await;
    assert_eq!(code, 200);
    let mut w = api
        .watch(&WatchParams::default().timeout(10), &old_rv)
        .await
        .expect("watch")
        .boxed();
    match tokio::time::timeout(Duration::from_secs(20), w.try_next())
        .await
        .expect("in time")
    {
        Ok(Some(WatchEvent::Error(e))) => {
            assert_eq!(e.code, 410, "{e:?}");
            assert_eq!(e.reason, "Expired");
            assert!(e.message.starts_with("too old resource version"), "{e:?}");
        }
        other => panic!("expected ERROR 410, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_list_and_selectors() {
    let c = Cluster::start();
    let api: Api<ConfigMap> = Api::namespaced(c.client(), "default");
    api.create(&PostParams::default(), &cm("s1", &[("app", "x")]))
        .await
        .expect("create");
    let mut stream =
        watcher::watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    let seen = next_names(&mut stream, "s1").await;
    assert!(seen.contains(&"<init>".to_string()), "{seen:?}");

    // Metadata-only clients (PartialObjectMetadata).
    let meta = api
        .list_metadata(&Default::default())
        .await
        .expect("list_metadata");
    assert!(meta
        .items
        .iter()
        .any(|m| m.metadata.name.as_deref() == Some("s1")));
    let metadata_api: Api<kube::core::PartialObjectMeta<ConfigMap>> =
        Api::namespaced(c.client(), "default");
    let mut mw = watcher::watcher(metadata_api, watcher::Config::default()).boxed();
    let first = tokio::time::timeout(Duration::from_secs(20), mw.try_next())
        .await
        .expect("in time")
        .expect("ok");
    assert!(matches!(first, Some(Event::Init)), "{first:?}");

    // A watch with a label selector: an object leaving the selector is DELETED.
    let list = api.list(&Default::default()).await.expect("list");
    let rv = list.metadata.resource_version.expect("rv");
    let mut w = api
        .watch(&WatchParams::default().labels("app=x").timeout(20), &rv)
        .await
        .expect("watch")
        .boxed();
    api.patch(
        "s1",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(serde_json::json!({"metadata": {"labels": {"app": "y"}}})),
    )
    .await
    .expect("patch");
    let ev = tokio::time::timeout(Duration::from_secs(20), w.try_next())
        .await
        .expect("event in time")
        .expect("ok");
    match ev {
        Some(WatchEvent::Deleted(o)) => assert_eq!(o.metadata.name.as_deref(), Some("s1")),
        other => panic!("expected DELETED, got {other:?}"),
    }
}
