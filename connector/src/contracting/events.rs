//! In-process notifications of state changes, so waiting code (the demo, the benchmark, tests) wakes on the change
//! itself instead of polling.

use tokio::sync::broadcast;

/// A process reached a new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChanged {
    /// Our local id of the process.
    pub process_id: String,
    pub state: String,
}

#[derive(Debug, Clone)]
pub struct Events(broadcast::Sender<StateChanged>);

impl Default for Events {
    fn default() -> Self {
        Events(broadcast::channel(4096).0)
    }
}

impl Events {
    pub fn publish(&self, process_id: &str, state: &str) {
        let _ = self.0.send(StateChanged {
            process_id: process_id.to_string(),
            state: state.to_string(),
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<StateChanged> {
        self.0.subscribe()
    }
}
