//! Work the operator runs off the reconcile (hooks): each task's fact is kept until the
//! next reconcile observes it, and its end wakes a reconcile, so a ten-minute hook never
//! holds the driver's lock while other objects wait.

use std::future::Future;
use std::sync::{Arc, Mutex};

use cairn_core::world::Fact;
use futures::stream::BoxStream;
use futures::StreamExt;
use tokio::sync::mpsc;

/// Facts of finished tasks, and the wake-up their end sends.
#[derive(Clone, Debug, Default)]
pub struct Tasks {
    done: Arc<Mutex<Vec<Fact>>>,
    wake: Option<mpsc::UnboundedSender<()>>,
}

impl Tasks {
    /// Tasks whose ends are announced on the returned stream (one `()` per task).
    pub fn with_wake_ups() -> (Self, BoxStream<'static, ()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let stream =
            futures::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|()| ((), rx)) },
            )
            .boxed();
        (
            Self {
                done: Arc::default(),
                wake: Some(tx),
            },
            stream,
        )
    }

    /// Runs `work` in the background; its fact is handed to the next [`Tasks::take`].
    pub fn spawn(&self, work: impl Future<Output = Fact> + Send + 'static) {
        let done = self.done.clone();
        let wake = self.wake.clone();
        tokio::spawn(async move {
            let fact = work.await;
            if let Ok(mut done) = done.lock() {
                done.push(fact);
            }
            if let Some(wake) = wake {
                let _ = wake.send(());
            }
        });
    }

    /// The facts of the tasks finished since the last call, in the order they finished.
    pub fn take(&self) -> Vec<Fact> {
        self.done
            .lock()
            .map(|mut d| std::mem::take(&mut *d))
            .unwrap_or_default()
    }
}
