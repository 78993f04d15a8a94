//! Work the operator runs off the reconcile (hooks, backend IO): each task's fact is
//! kept until the next reconcile observes it, and its end wakes a reconcile, so a
//! ten-minute hook or prune never holds the driver's lock while other objects wait.

use std::future::Future;
use std::sync::{Arc, Mutex};

use cairn_core::world::Fact;
use futures::stream::BoxStream;
use futures::StreamExt;
use tokio::sync::{mpsc, watch};

/// Facts of finished tasks, and the wake-up their end sends.
#[derive(Clone, Debug)]
pub struct Tasks {
    done: Arc<Mutex<Vec<Fact>>>,
    wake: Option<mpsc::UnboundedSender<()>>,
    /// How many tasks run now.
    running: Arc<watch::Sender<usize>>,
}

impl Default for Tasks {
    fn default() -> Self {
        Self {
            done: Arc::default(),
            wake: None,
            running: Arc::new(watch::Sender::new(0)),
        }
    }
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
                wake: Some(tx),
                ..Self::default()
            },
            stream,
        )
    }

    /// Runs `work` in the background; its fact, if any, is handed to the next
    /// [`Tasks::take`].
    pub fn spawn(&self, work: impl Future<Output = Option<Fact>> + Send + 'static) {
        let done = self.done.clone();
        let wake = self.wake.clone();
        let running = self.running.clone();
        running.send_modify(|n| *n += 1);
        tokio::spawn(async move {
            let fact = work.await;
            if let (Some(fact), Ok(mut done)) = (fact, done.lock()) {
                done.push(fact);
            }
            running.send_modify(|n| *n -= 1);
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

    /// Whether finished tasks' facts wait for a reconcile.
    pub fn has_finished(&self) -> bool {
        self.done.lock().map(|d| !d.is_empty()).unwrap_or(false)
    }

    /// Waits until no task runs (tests drive reconciles one by one and want each one's
    /// background work observed by the next).
    pub async fn idle(&self) {
        let mut running = self.running.subscribe();
        let _ = running.wait_for(|n| *n == 0).await;
    }
}
