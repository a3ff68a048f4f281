//! Support for the multi-process ensemble tests: real `zk-server` processes on 127.0.0.1 with a
//! zoo.cfg of `server.N` lines each (kill -9, SIGSTOP/SIGCONT, restart), the four-letter words
//! `srvr` and `mntr`, and a small synchronous jute client whose every call is bounded and reports
//! a lost connection as an error instead of panicking (servers die under it on purpose).
//!
//! Every wait is generous (two slow, shared cores); nothing asserts a duration.

#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use zk_proto::request::{ExistsRequest, GetDataRequest, SetDataRequest, SyncRequest};
use zk_proto::{
    decode_frame, encode_frame, Acl, ConnectRequest, ConnectResponse, CreateMode, CreateRequest,
    ErrorCode, Reader, Record, ReplyHeader, Request, RequestHeader, Response, SessionId, Xid, Zxid,
};
use zk_storage::rng::SplitMix64;

/// How long an ensemble may take to elect a leader and have every listed server serve.
pub const ELECTION_WAIT: Duration = Duration::from_secs(90);
/// How long one client call may take before it counts as failed.
pub const CALL_WAIT: Duration = Duration::from_secs(20);

// ---- running at most two ensembles at a time ---------------------------------------------------

/// Ensembles running at once in this test binary: the tests run in parallel threads, and more
/// than a couple of ensembles on two cores only make every election slower.
const MAX_CONCURRENT_ENSEMBLES: usize = 2;
static RUNNING: Mutex<usize> = Mutex::new(0);
static RUNNING_CHANGED: Condvar = Condvar::new();

/// A slot among [`MAX_CONCURRENT_ENSEMBLES`], released on drop.
pub struct Slot(());

impl Slot {
    /// Waits for a free slot.
    pub fn take() -> Slot {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= MAX_CONCURRENT_ENSEMBLES {
            running = RUNNING_CHANGED
                .wait(running)
                .unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        Slot(())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        RUNNING_CHANGED.notify_all();
    }
}

// ---- the seed ------------------------------------------------------------------------------------

/// The seed of a test's random choices: `ZK_ENSEMBLE_SEED` or the clock; printed either way.
pub fn seed(test: &str) -> u64 {
    let seed = std::env::var("ZK_ENSEMBLE_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!("{test}: seed {seed} (replay with ZK_ENSEMBLE_SEED={seed})");
    seed
}

// ---- four-letter words ---------------------------------------------------------------------------

/// What `srvr` said about a server's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `Mode: leader`.
    Leader,
    /// `Mode: follower`.
    Follower,
    /// `Mode: observer`.
    Observer,
    /// `Mode: standalone` (wrong in an ensemble).
    Standalone,
    /// It answered "This ZooKeeper instance is not currently serving requests".
    NotServing,
    /// Nothing answered, or the answer had no mode.
    Down,
}

impl Mode {
    /// Leader, follower or observer.
    pub fn serving(self) -> bool {
        matches!(self, Mode::Leader | Mode::Follower | Mode::Observer)
    }
}

/// Sends a four-letter word and returns the whole answer (`None` when nothing answered).
pub fn four_letter(port: u16, word: &str) -> Option<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(word.as_bytes()).ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (!answer.is_empty()).then(|| String::from_utf8_lossy(&answer).into_owned())
}

/// `srvr`'s mode and zxid.
pub fn srvr(port: u16) -> (Mode, Option<u64>) {
    let Some(text) = four_letter(port, "srvr") else {
        return (Mode::Down, None);
    };
    if text.contains("not currently serving") {
        return (Mode::NotServing, None);
    }
    let mode = match text
        .lines()
        .find_map(|line| line.strip_prefix("Mode:"))
        .map(str::trim)
    {
        Some("leader") => Mode::Leader,
        Some("follower") => Mode::Follower,
        Some("observer") => Mode::Observer,
        Some("standalone") => Mode::Standalone,
        _ => Mode::Down,
    };
    let zxid = text
        .lines()
        .find_map(|line| line.strip_prefix("Zxid:"))
        .and_then(|z| u64::from_str_radix(z.trim().trim_start_matches("0x"), 16).ok());
    (mode, zxid)
}

/// `mntr` as key -> value (empty when nothing answered).
pub fn mntr(port: u16) -> BTreeMap<String, String> {
    four_letter(port, "mntr")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// A counter of `mntr` (0 when missing).
pub fn mntr_count(port: u16, key: &str) -> u64 {
    mntr(port)
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

// ---- the ensemble --------------------------------------------------------------------------------

/// How to configure an ensemble.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Number of servers (sids 1..=size).
    pub size: usize,
    /// `electionAlg`: 1, 2 or 3.
    pub election_alg: u8,
    /// `tickTime`.
    pub tick_time_ms: u32,
    /// `snapCount`, when not the default.
    pub snap_count: Option<u32>,
}

impl Spec {
    /// `size` servers with FastLeaderElection, tickTime 200 ms.
    pub fn new(size: usize) -> Spec {
        Spec {
            size,
            election_alg: 3,
            tick_time_ms: 200,
            snap_count: None,
        }
    }
}

/// One server of the ensemble.
pub struct Member {
    /// Its `myid`.
    pub sid: u64,
    /// Its client port.
    pub client_port: u16,
    /// Its quorum (Zab) port.
    pub quorum_port: u16,
    /// Its election port.
    pub election_port: u16,
    /// Its directory (zoo.cfg, data/, server.log).
    pub dir: PathBuf,
    child: Option<Child>,
    stopped: bool,
}

impl Member {
    /// Its client address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.client_port))
    }
}

/// `size` zk-server processes forming one ensemble; all are killed on drop (and their logs'
/// tails printed when the test failed).
pub struct Ensemble {
    /// The servers, `members[i].sid == i + 1`.
    pub members: Vec<Member>,
    name: String,
    dir: PathBuf,
    _slot: Slot,
}

/// Ports are drawn from here: below Linux's ephemeral range (32768..), so that the outgoing
/// connections the tests make cannot hold a server's port while it is down between a kill and
/// a restart, and away from the fixed ports of `cargo xtask` (12181.., 22181.., 25181..).
const PORT_RANGE: std::ops::Range<u16> = 15_000..20_000;
/// Ports handed out by this test binary, never handed out twice.
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// `count` distinct ports on which nothing listens now (TCP and UDP: the election transports
/// of LeaderElection and AuthFastLeaderElection are UDP).
fn free_ports(count: usize) -> Vec<u16> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut rng = SplitMix64::new(nanos ^ (u64::from(std::process::id()) << 32));
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let mut ports = Vec::new();
    let span = u64::from(PORT_RANGE.end - PORT_RANGE.start);
    for _ in 0..100_000 {
        if ports.len() == count {
            break;
        }
        let port = PORT_RANGE.start + rng.below(span) as u16;
        if handed_out.contains(&port) {
            continue;
        }
        let free = TcpListener::bind(("127.0.0.1", port)).is_ok()
            && UdpSocket::bind(("127.0.0.1", port)).is_ok();
        if free {
            handed_out.insert(port);
            ports.push(port);
        }
    }
    assert_eq!(
        ports.len(),
        count,
        "not enough free ports in {PORT_RANGE:?}"
    );
    ports
}

impl Ensemble {
    /// Writes every server's zoo.cfg and myid, starts them all and waits for a leader with
    /// every server serving.
    pub fn start(name: &str, spec: &Spec) -> Ensemble {
        let slot = Slot::take();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("ensemble")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ports = free_ports(spec.size * 3);
        let mut members = Vec::new();
        for i in 0..spec.size {
            members.push(Member {
                sid: i as u64 + 1,
                client_port: ports[3 * i],
                quorum_port: ports[3 * i + 1],
                election_port: ports[3 * i + 2],
                dir: dir.join(format!("s{}", i + 1)),
                child: None,
                stopped: false,
            });
        }
        let mut servers = String::new();
        for m in &members {
            servers.push_str(&format!(
                "server.{}=127.0.0.1:{}:{};{}\n",
                m.sid, m.quorum_port, m.election_port, m.client_port
            ));
        }
        for m in &members {
            let data = m.dir.join("data");
            std::fs::create_dir_all(&data).expect("create the data directory");
            std::fs::write(data.join("myid"), format!("{}\n", m.sid)).expect("write myid");
            let mut cfg = format!(
                "tickTime={}\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\n\
                 clientPortAddress=127.0.0.1\nmaxClientCnxns=0\n4lw.commands.whitelist=*\n\
                 minSessionTimeout=1000\nmaxSessionTimeout=60000\nelectionAlg={}\n",
                spec.tick_time_ms,
                data.display(),
                m.client_port,
                spec.election_alg
            );
            if spec.election_alg == 2 {
                cfg.push_str("authFleSecret=ensemble-test-secret-0123456789\n");
            }
            if let Some(snap_count) = spec.snap_count {
                cfg.push_str(&format!("snapCount={snap_count}\n"));
            }
            cfg.push_str(&servers);
            std::fs::write(m.dir.join("zoo.cfg"), cfg).expect("write zoo.cfg");
        }
        let mut ensemble = Ensemble {
            members,
            name: name.to_owned(),
            dir,
            _slot: slot,
        };
        for sid in 1..=spec.size as u64 {
            ensemble.spawn(sid);
        }
        let all: Vec<u64> = (1..=spec.size as u64).collect();
        let leader = ensemble.wait_leader(&all);
        println!("{name}: ensemble of {} up, leader {leader}", spec.size);
        ensemble
    }

    /// The member with this sid.
    pub fn member(&self, sid: u64) -> &Member {
        &self.members[(sid - 1) as usize]
    }

    fn member_mut(&mut self, sid: u64) -> &mut Member {
        &mut self.members[(sid - 1) as usize]
    }

    /// A server's client address.
    pub fn addr(&self, sid: u64) -> SocketAddr {
        self.member(sid).addr()
    }

    /// A server's client port.
    pub fn port(&self, sid: u64) -> u16 {
        self.member(sid).client_port
    }

    /// Every sid.
    pub fn sids(&self) -> Vec<u64> {
        self.members.iter().map(|m| m.sid).collect()
    }

    /// Starts (or restarts) a server's process on its existing directory.
    pub fn spawn(&mut self, sid: u64) {
        let member = self.member_mut(sid);
        assert!(member.child.is_none(), "server {sid} is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(member.dir.join("server.log"))
            .expect("open server.log");
        let child = Command::new(env!("CARGO_BIN_EXE_zk-server"))
            .arg(member.dir.join("zoo.cfg"))
            .env(
                "RUST_LOG",
                std::env::var("ZK_ENSEMBLE_LOG").unwrap_or_else(|_| "info".to_owned()),
            )
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn zk-server");
        member.child = Some(child);
        member.stopped = false;
    }

    /// kill -9 of a server (waits for the process to be gone).
    pub fn kill(&mut self, sid: u64) {
        let member = self.member_mut(sid);
        if let Some(mut child) = member.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        member.stopped = false;
    }

    /// Restarts a killed server.
    pub fn restart(&mut self, sid: u64) {
        self.spawn(sid);
    }

    fn signal(&self, sid: u64, signal: &str) {
        let Some(child) = &self.member(sid).child else {
            panic!("server {sid} is not running");
        };
        let status = Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} of server {sid} failed");
    }

    /// SIGSTOP: the process freezes with its sockets open.
    pub fn pause(&mut self, sid: u64) {
        self.signal(sid, "-STOP");
        self.member_mut(sid).stopped = true;
    }

    /// SIGCONT after [`Ensemble::pause`].
    pub fn resume(&mut self, sid: u64) {
        self.signal(sid, "-CONT");
        self.member_mut(sid).stopped = false;
    }

    /// Fails the test if a server process exited by itself.
    pub fn assert_running(&mut self, sid: u64) {
        let name = self.name.clone();
        let member = self.member_mut(sid);
        if let Some(child) = &mut member.child {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{name}: server {sid} exited by itself with {status}");
            }
        }
    }

    /// Every server's `srvr` mode.
    pub fn modes(&self) -> Vec<(u64, Mode)> {
        self.members
            .iter()
            .map(|m| (m.sid, srvr(m.client_port).0))
            .collect()
    }

    /// Waits until exactly one of the servers answers `srvr` as leader and every server in
    /// `serving` answers as leader or follower; returns the leader's sid.
    pub fn wait_leader(&mut self, serving: &[u64]) -> u64 {
        let deadline = Instant::now() + ELECTION_WAIT;
        loop {
            for &sid in serving {
                self.assert_running(sid);
            }
            let modes: Vec<(u64, Mode)> = self
                .members
                .iter()
                .filter(|m| m.child.is_some() && !m.stopped)
                .map(|m| (m.sid, srvr(m.client_port).0))
                .collect();
            let leaders: Vec<u64> = modes
                .iter()
                .filter(|(_, mode)| *mode == Mode::Leader)
                .map(|(sid, _)| *sid)
                .collect();
            let all_serving = serving
                .iter()
                .all(|sid| modes.iter().any(|(s, mode)| s == sid && mode.serving()));
            if leaders.len() == 1 && all_serving {
                return leaders[0];
            }
            assert!(
                Instant::now() < deadline,
                "{}: no single leader with {serving:?} serving within {ELECTION_WAIT:?}: {modes:?}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until `sid` answers `srvr` with `mode`.
    pub fn wait_mode(&mut self, sid: u64, mode: Mode) {
        let deadline = Instant::now() + ELECTION_WAIT;
        loop {
            if mode.serving() {
                self.assert_running(sid);
            }
            let now = srvr(self.port(sid)).0;
            if now == mode {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: server {sid} is {now:?}, not {mode:?}, after {ELECTION_WAIT:?}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The last lines of a server's log.
    pub fn log_tail(&self, sid: u64, lines: usize) -> String {
        let text =
            std::fs::read_to_string(self.member(sid).dir.join("server.log")).unwrap_or_default();
        // The polling of srvr/mntr would fill the tail otherwise.
        let all: Vec<&str> = text
            .lines()
            .filter(|line| !line.contains("four-letter word"))
            .collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Ensemble {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        for member in &mut self.members {
            if let Some(mut child) = member.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if failed {
            for member in &self.members {
                eprintln!(
                    "---- {}: last lines of server {} ({}):\n{}",
                    self.name,
                    member.sid,
                    member.dir.join("server.log").display(),
                    self.log_tail(member.sid, 40)
                );
            }
            eprintln!("{}: directories kept in {}", self.name, self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

// ---- a synchronous client ------------------------------------------------------------------------

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The connection closed, failed or timed out (the outcome of a write is unknown).
    Lost(String),
    /// The server answered with an error code.
    Code(ErrorCode),
}

/// `call` on a new session to `server`, retried every 200 ms while the server is not serving
/// yet; fails the test (naming `what`) after `wait`.
pub fn call_when_serving<T>(
    server: SocketAddr,
    wait: Duration,
    what: &str,
    mut call: impl FnMut(Session) -> Result<T, CallError>,
) -> T {
    let deadline = Instant::now() + wait;
    loop {
        match Session::connect(server).and_then(&mut call) {
            Ok(answer) => return answer,
            Err(error) => {
                assert!(
                    Instant::now() < deadline,
                    "{what}: no answer within {wait:?}: {error:?}"
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// One session on one server; any failure of the connection makes it useless (reconnect with a
/// new [`Session`]).
pub struct Session {
    stream: TcpStream,
    buf: Vec<u8>,
    next_xid: i32,
    /// The session id the server gave.
    pub session_id: SessionId,
    /// The server it is connected to.
    pub server: SocketAddr,
}

fn lost(error: impl std::fmt::Display) -> CallError {
    CallError::Lost(error.to_string())
}

impl Session {
    /// Opens a session (30 s timeout); fails when the server refuses or closes.
    pub fn connect(server: SocketAddr) -> Result<Session, CallError> {
        let stream = TcpStream::connect_timeout(&server, Duration::from_secs(5)).map_err(lost)?;
        stream.set_nodelay(true).map_err(lost)?;
        stream.set_read_timeout(Some(CALL_WAIT)).map_err(lost)?;
        let mut session = Session {
            stream,
            buf: Vec::new(),
            next_xid: 1,
            session_id: SessionId(0),
            server,
        };
        let request = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: Zxid::ZERO,
            timeout_ms: 30_000,
            session_id: SessionId(0),
            password: vec![0; 16],
            read_only: Some(false),
        };
        session.send_frame(&request.to_bytes())?;
        let payload = session.read_frame()?;
        let response = ConnectResponse::from_bytes(&payload).map_err(lost)?;
        if response.timeout_ms <= 0 {
            return Err(lost("session refused"));
        }
        session.session_id = response.session_id;
        Ok(session)
    }

    /// Opens a session on the first of `servers` that accepts one, trying them in turn until
    /// `wait` has passed.
    pub fn connect_any(servers: &[SocketAddr], wait: Duration) -> Result<Session, CallError> {
        let deadline = Instant::now() + wait;
        let mut last = lost("no server given");
        loop {
            for &server in servers {
                match Session::connect(server) {
                    Ok(session) => return Ok(session),
                    Err(error) => last = error,
                }
            }
            if Instant::now() > deadline {
                return Err(last);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn send_frame(&mut self, payload: &[u8]) -> Result<(), CallError> {
        let mut out = Vec::new();
        encode_frame(payload, &mut out);
        self.stream.write_all(&out).map_err(lost)
    }

    fn read_frame(&mut self) -> Result<Vec<u8>, CallError> {
        let deadline = Instant::now() + CALL_WAIT;
        loop {
            match decode_frame(&self.buf, 16 << 20) {
                Ok(Some((consumed, payload))) => {
                    let payload = payload.to_vec();
                    self.buf.drain(..consumed);
                    return Ok(payload);
                }
                Ok(None) => {}
                Err(error) => return Err(lost(format!("bad frame: {error:?}"))),
            }
            if Instant::now() > deadline {
                return Err(lost("no answer in time"));
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(lost("closed by the server")),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(error) => return Err(lost(error)),
            }
        }
    }

    /// Sends a request without waiting for its reply; returns its xid.
    pub fn send(&mut self, request: &Request) -> Result<Xid, CallError> {
        let xid = Xid(self.next_xid);
        self.next_xid += 1;
        let mut payload = Vec::new();
        RequestHeader::new(xid, request.op()).encode(&mut payload);
        request.encode(&mut payload);
        self.send_frame(&payload)?;
        Ok(xid)
    }

    /// Sends a request and waits for its reply (notifications are skipped).
    pub fn call(&mut self, request: Request) -> Result<Response, CallError> {
        let op = request.op();
        let xid = self.send(&request)?;
        loop {
            let payload = self.read_frame()?;
            let mut reader = Reader::new(&payload);
            let header = ReplyHeader::decode(&mut reader).map_err(lost)?;
            if header.xid != xid {
                // A notification or a ping reply.
                continue;
            }
            if header.err != 0 {
                return Err(match ErrorCode::from_code(header.err) {
                    Some(code) => CallError::Code(code),
                    None => lost(format!("unknown error code {}", header.err)),
                });
            }
            return Response::decode(op, &mut reader).map_err(lost);
        }
    }

    /// `create` of a persistent node.
    pub fn create(&mut self, path: &str, data: &[u8]) -> Result<(), CallError> {
        self.call(Request::Create(CreateRequest {
            path: path.to_owned(),
            data: Some(data.to_vec()),
            acl: Acl::open_unsafe(),
            flags: CreateMode::Persistent.flags(),
        }))
        .map(drop)
    }

    /// `setData` with any version.
    pub fn set(&mut self, path: &str, data: &[u8]) -> Result<(), CallError> {
        self.call(Request::SetData(SetDataRequest {
            path: path.to_owned(),
            data: Some(data.to_vec()),
            version: -1,
        }))
        .map(drop)
    }

    /// `getData`'s data.
    pub fn get(&mut self, path: &str) -> Result<Vec<u8>, CallError> {
        match self.call(Request::GetData(GetDataRequest {
            path: path.to_owned(),
            watch: false,
        }))? {
            Response::GetData(response) => Ok(response.data.unwrap_or_default()),
            other => Err(lost(format!("unexpected response {other:?}"))),
        }
    }

    /// Whether the node exists.
    pub fn exists(&mut self, path: &str) -> Result<bool, CallError> {
        match self.call(Request::Exists(ExistsRequest {
            path: path.to_owned(),
            watch: false,
        })) {
            Ok(_) => Ok(true),
            Err(CallError::Code(ErrorCode::NoNode)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// `sync`: the server has caught up with the leader as of this call.
    pub fn sync(&mut self, path: &str) -> Result<(), CallError> {
        self.call(Request::Sync(SyncRequest {
            path: path.to_owned(),
        }))
        .map(drop)
    }
}

/// Runs `write` on a session through `servers` until it succeeds: a lost connection or a
/// refused session is retried on the next server (writes are idempotent here: a retried create
/// that finds its node counts as done); an error code other than those fails the test.
pub fn write_until_done(
    session: &mut Option<Session>,
    servers: &[SocketAddr],
    what: &str,
    mut write: impl FnMut(&mut Session) -> Result<(), CallError>,
) -> u32 {
    let deadline = Instant::now() + ELECTION_WAIT;
    let mut failures = 0;
    let mut next = 0;
    loop {
        if session.is_none() {
            let rotated: Vec<SocketAddr> = (0..servers.len())
                .map(|i| servers[(next + i) % servers.len()])
                .collect();
            next += 1;
            match Session::connect_any(&rotated, Duration::from_secs(1)) {
                Ok(s) => *session = Some(s),
                Err(_) => {
                    failures += 1;
                    assert!(
                        Instant::now() < deadline,
                        "{what}: no server took a session within {ELECTION_WAIT:?}"
                    );
                    continue;
                }
            }
        }
        let Some(s) = session.as_mut() else {
            continue;
        };
        match write(s) {
            Ok(()) | Err(CallError::Code(ErrorCode::NodeExists)) => return failures,
            Err(CallError::Lost(_)) | Err(CallError::Code(ErrorCode::ConnectionLoss)) => {
                failures += 1;
                *session = None;
                assert!(
                    Instant::now() < deadline,
                    "{what}: not written within {ELECTION_WAIT:?}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(error) => panic!("{what}: {error:?}"),
        }
    }
}
