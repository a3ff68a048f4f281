//! A bounded, drop-oldest send queue for one peer, shared by the election driver (which pushes)
//! and the peer's connection task (which pops). It remembers the last message popped so that a
//! restarted connection can send it again.

use std::collections::VecDeque;

use super::sync::Mutex;

#[derive(Debug)]
struct State {
    items: VecDeque<Vec<u8>>,
    last_sent: Option<Vec<u8>>,
    dropped: u64,
}

/// A bounded queue of encoded messages for one peer.
#[derive(Debug)]
pub struct SendQueue {
    capacity: usize,
    state: Mutex<State>,
}

impl SendQueue {
    /// A queue holding at most `capacity` messages (at least 1).
    pub fn new(capacity: usize) -> SendQueue {
        SendQueue {
            capacity: capacity.max(1),
            state: Mutex::new(State {
                items: VecDeque::new(),
                last_sent: None,
                dropped: 0,
            }),
        }
    }

    /// Queues `message`, dropping the oldest queued one when full. Returns whether one was
    /// dropped.
    pub fn push(&self, message: Vec<u8>) -> bool {
        let mut state = self.state.lock().expect("send queue lock");
        let dropped = state.items.len() >= self.capacity;
        if dropped {
            state.items.pop_front();
            state.dropped += 1;
        }
        state.items.push_back(message);
        dropped
    }

    /// Takes the oldest queued message and remembers it as the last one sent.
    pub fn pop(&self) -> Option<Vec<u8>> {
        let mut state = self.state.lock().expect("send queue lock");
        let message = state.items.pop_front()?;
        state.last_sent = Some(message.clone());
        Some(message)
    }

    /// For a connection that just (re)started: the last message sent, if nothing is queued.
    pub fn resend_on_restart(&self) -> Option<Vec<u8>> {
        let state = self.state.lock().expect("send queue lock");
        if state.items.is_empty() {
            state.last_sent.clone()
        } else {
            None
        }
    }

    /// Whether messages are waiting.
    pub fn is_empty(&self) -> bool {
        self.state.lock().expect("send queue lock").items.is_empty()
    }

    /// How many messages were dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.state.lock().expect("send queue lock").dropped
    }

    /// How many messages are waiting.
    pub fn len(&self) -> usize {
        self.state.lock().expect("send queue lock").items.len()
    }
}
