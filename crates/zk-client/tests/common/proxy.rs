//! A frame-aware TCP proxy between a client and the server under test, for fault injection:
//! cut every connection, black-hole traffic (a silent partition), or lose the reply to one
//! create request and then cut the connection.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Default)]
struct Control {
    /// Lose the reply to the next create whose path contains this text.
    lose_create_reply: Option<String>,
    /// Xids (per connection id) whose replies must be lost.
    doomed: HashSet<(u64, i32)>,
    /// How many replies were lost.
    lost: usize,
}

/// A running proxy; dropping it stops accepting.
pub struct Proxy {
    addr: String,
    cut: watch::Sender<u64>,
    blackhole: watch::Sender<bool>,
    control: Arc<Mutex<Control>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        let _ = self.cut.send(u64::MAX);
    }
}

impl Proxy {
    /// Starts a proxy to `target` on an ephemeral local port.
    pub async fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (cut, _) = watch::channel(0u64);
        let (blackhole, _) = watch::channel(false);
        let control = Arc::new(Mutex::new(Control::default()));
        let target = target.to_owned();
        let (cut2, blackhole2, control2) = (cut.clone(), blackhole.clone(), control.clone());
        let accept = tokio::spawn(async move {
            let mut next_id = 0u64;
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let Ok(server) = TcpStream::connect(&target).await else {
                    continue;
                };
                next_id += 1;
                let id = next_id;
                let mut cut_rx = cut2.subscribe();
                cut_rx.mark_unchanged();
                let blackhole_rx = blackhole2.subscribe();
                let control = control2.clone();
                tokio::spawn(async move {
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let up = pump(id, cr, sw, true, blackhole_rx.clone(), control.clone());
                    let down = pump(id, sr, cw, false, blackhole_rx, control);
                    tokio::select! {
                        _ = up => {}
                        _ = down => {}
                        _ = cut_rx.changed() => {}
                    }
                });
            }
        });
        Proxy {
            addr,
            cut,
            blackhole,
            control,
            accept,
        }
    }

    /// The address clients connect to.
    pub fn addr(&self) -> String {
        self.addr.clone()
    }

    /// Closes every open connection (new ones are still accepted).
    pub fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }

    /// Stops (true) or resumes (false) forwarding bytes without closing anything.
    pub fn set_blackhole(&self, on: bool) {
        self.blackhole.send_replace(on);
    }

    /// Loses the reply to the next create whose path contains `marker`, then cuts.
    pub fn lose_next_create_reply(&self, marker: &str) {
        self.control.lock().unwrap().lose_create_reply = Some(marker.to_owned());
    }

    /// How many replies were lost so far.
    pub fn lost_replies(&self) -> usize {
        self.control.lock().unwrap().lost
    }
}

async fn read_frame(r: &mut OwnedReadHalf) -> Option<Vec<u8>> {
    let mut prefix = [0u8; 4];
    r.read_exact(&mut prefix).await.ok()?;
    let len = i32::from_be_bytes(prefix);
    let mut frame = prefix.to_vec();
    frame.resize(4 + usize::try_from(len).ok()?, 0);
    r.read_exact(&mut frame[4..]).await.ok()?;
    Some(frame)
}

async fn pump(
    id: u64,
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    upstream: bool,
    mut blackhole: watch::Receiver<bool>,
    control: Arc<Mutex<Control>>,
) {
    let mut first = true;
    while let Some(frame) = read_frame(&mut from).await {
        while *blackhole.borrow_and_update() {
            if blackhole.changed().await.is_err() {
                return;
            }
        }
        let handshake = std::mem::replace(&mut first, false);
        if !handshake && frame.len() >= 12 {
            let xid = i32::from_be_bytes(frame[4..8].try_into().unwrap());
            if upstream {
                let op = i32::from_be_bytes(frame[8..12].try_into().unwrap());
                // create (1), create2 (15): the path follows the header.
                if op == 1 || op == 15 {
                    let path = String::from_utf8_lossy(&frame[16..]).into_owned();
                    let mut control = control.lock().unwrap();
                    if let Some(marker) = control.lose_create_reply.clone() {
                        if path.contains(&marker) {
                            control.lose_create_reply = None;
                            control.doomed.insert((id, xid));
                        }
                    }
                }
            } else {
                let doomed = control.lock().unwrap().doomed.remove(&(id, xid));
                if doomed {
                    control.lock().unwrap().lost += 1;
                    return; // drop the reply and end the connection
                }
            }
        }
        if to.write_all(&frame).await.is_err() {
            return;
        }
    }
}
