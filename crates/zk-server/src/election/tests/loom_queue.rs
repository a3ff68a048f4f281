//! Loom model of the per-peer send queue: the election driver pushing while the connection
//! task pops never loses, duplicates or reorders a message beyond drop-oldest, and never holds
//! more than its capacity.

use loom::sync::Arc;
use loom::thread;

use crate::election::queue::SendQueue;

#[test]
fn loom_concurrent_push_and_pop_keep_order_and_bound() {
    loom::model(|| {
        let queue = Arc::new(SendQueue::new(2));
        let producer = {
            let queue = queue.clone();
            thread::spawn(move || {
                for message in 1..=3u8 {
                    queue.push(vec![message]);
                    assert!(queue.len() <= 2);
                }
            })
        };
        let mut popped = Vec::new();
        for _ in 0..2 {
            if let Some(message) = queue.pop() {
                popped.push(message[0]);
            }
        }
        producer.join().unwrap();
        while let Some(message) = queue.pop() {
            popped.push(message[0]);
        }
        assert!(
            popped.windows(2).all(|pair| pair[0] < pair[1]),
            "FIFO: {popped:?}"
        );
        assert_eq!(
            popped.len() as u64 + queue.dropped(),
            3,
            "every message popped or dropped"
        );
        assert_eq!(
            popped.last(),
            Some(&3),
            "the newest message is never dropped"
        );
        assert_eq!(queue.resend_on_restart(), Some(vec![3]));
    });
}
