//! [`Client`], its builder, and every ZooKeeper 3.8 operation as an async method.
//!
//! Paths are client paths: with a chroot in the connect string they are translated on the way
//! out and back. Versions are `Option<i32>`, `None` meaning "any version" (-1 on the wire).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use zk_proto::{
    Acl, AddWatchMode, AddWatchRequest, CheckVersionRequest, ClientInfo, CreateMode, CreateRequest,
    CreateTtlRequest, DeleteRequest, ExistsRequest, GetAclRequest, GetAllChildrenNumberRequest,
    GetChildren2Request, GetChildrenRequest, GetDataRequest, GetEphemeralsRequest, MultiOp,
    MultiRequest, MultiResult, OpCode, ReconfigRequest, Record, RemoveWatchesRequest, Response,
    SessionId, SetAclRequest, SetDataRequest, Stat, SyncRequest, WatcherType,
};

use crate::connect_string::{validate_path, ConnectString};
use crate::error::{Error, Result};
use crate::session::{Command, Effect, Operation, SessionConfig, SessionInfo, SessionTask, Shared};
use crate::watch::{
    OneshotWatcher, PersistentWatcher, SessionState, StateWatcher, WatchRegistration,
};

/// Znode data as the codec gives it: a buffer, or an optional one where null is kept apart
/// from empty. The client reads a null as empty.
trait IntoData {
    fn into_data(self) -> Vec<u8>;
}

impl IntoData for Vec<u8> {
    fn into_data(self) -> Vec<u8> {
        self
    }
}

impl IntoData for Option<Vec<u8>> {
    fn into_data(self) -> Vec<u8> {
        self.unwrap_or_default()
    }
}

/// Znode data for a request record (a buffer, or an optional one).
fn data_field<T: From<Vec<u8>>>(data: Vec<u8>) -> T {
    T::from(data)
}

/// The default requested session timeout.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds a [`Client`].
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    connect_string: String,
    session_timeout: Duration,
    connect_timeout: Option<Duration>,
    renew_expired_session: bool,
    session: Option<(SessionId, Vec<u8>)>,
    auths: Vec<(String, Vec<u8>)>,
}

impl ClientBuilder {
    /// A builder for `host:port[,host:port...][/chroot]`.
    pub fn new(connect_string: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            connect_string: connect_string.into(),
            session_timeout: DEFAULT_SESSION_TIMEOUT,
            connect_timeout: None,
            renew_expired_session: false,
            session: None,
            auths: Vec::new(),
        }
    }

    /// The session timeout to ask for (the server clamps it to its bounds).
    pub fn session_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.session_timeout = timeout;
        self
    }

    /// How long [`ClientBuilder::connect`] waits for the first session (default: the session
    /// timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.connect_timeout = Some(timeout);
        self
    }

    /// After an expiry, start a new session instead of staying expired (Curator's behaviour).
    /// The state stream then shows `Expired` followed by `Connected`; recipes use this to
    /// re-enter their queues.
    pub fn renew_expired_session(mut self, renew: bool) -> ClientBuilder {
        self.renew_expired_session = renew;
        self
    }

    /// Re-attaches to an existing session instead of creating one.
    pub fn session(mut self, id: SessionId, password: Vec<u8>) -> ClientBuilder {
        self.session = Some((id, password));
        self
    }

    /// Authentication sent on every connection (for example `digest`, `user:password`).
    pub fn auth(mut self, scheme: impl Into<String>, auth: impl Into<Vec<u8>>) -> ClientBuilder {
        self.auths.push((scheme.into(), auth.into()));
        self
    }

    /// Starts the session task and waits until the first session is established.
    pub async fn connect(self) -> Result<Client> {
        let connect_string = ConnectString::parse(&self.connect_string)?;
        let session_timeout_ms = u32::try_from(self.session_timeout.as_millis())
            .map_err(|_| Error::BadArguments("session timeout too large".into()))?;
        let (state_tx, mut state_rx) = watch::channel(SessionState::Connecting);
        let (events_tx, _) = broadcast::channel(256);
        let shared = Arc::new(Shared {
            connect_string,
            state: state_tx,
            state_events: Mutex::new(Some(events_tx)),
            session: Mutex::new(SessionInfo {
                id: SessionId(0),
                password: Vec::new(),
                timeout_ms: session_timeout_ms,
                server: None,
            }),
            notifications_received: Default::default(),
        });
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let config = SessionConfig {
            session_timeout_ms,
            renew_expired_session: self.renew_expired_session,
            initial_session: self.session,
        };
        tokio::spawn(SessionTask::new(shared.clone(), commands_rx, config).run());
        let client = Client {
            shared,
            commands: commands_tx,
        };
        let mut auth_replies = Vec::new();
        for (scheme, auth) in self.auths {
            let (reply, rx) = oneshot::channel();
            client.send(Command::AddAuth {
                scheme,
                auth,
                reply,
            })?;
            auth_replies.push(rx);
        }
        let wait = async {
            loop {
                let state = *state_rx.borrow_and_update();
                match state {
                    SessionState::Connected => return Ok(()),
                    SessionState::Expired => return Err(Error::SessionExpired),
                    SessionState::AuthFailed => return Err(Error::AuthFailed),
                    SessionState::Closed => return Err(Error::Closed),
                    SessionState::Connecting | SessionState::Disconnected => {}
                }
                if state_rx.changed().await.is_err() {
                    return Err(Error::Closed);
                }
            }
        };
        let bound = self.connect_timeout.unwrap_or(self.session_timeout);
        let outcome = match tokio::time::timeout(bound, wait).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::Timeout),
        };
        if let Err(error) = outcome {
            let _ = client.close().await;
            return Err(error);
        }
        for rx in auth_replies {
            rx.await.unwrap_or(Err(Error::Closed))?;
        }
        Ok(client)
    }
}

/// How to create a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateOptions {
    /// Persistence, sequence, container or TTL.
    pub mode: CreateMode,
    /// The node's ACL.
    pub acl: Vec<Acl>,
    /// The time to live for the TTL modes.
    pub ttl_ms: Option<i64>,
}

impl CreateOptions {
    /// Options for `mode` with the open ACL (`world:anyone`, all permissions).
    pub fn new(mode: CreateMode) -> CreateOptions {
        CreateOptions {
            mode,
            acl: Acl::open_unsafe(),
            ttl_ms: None,
        }
    }

    /// Replaces the ACL.
    pub fn with_acl(mut self, acl: Vec<Acl>) -> CreateOptions {
        self.acl = acl;
        self
    }

    /// Sets the TTL (for the TTL modes).
    pub fn with_ttl_ms(mut self, ttl_ms: i64) -> CreateOptions {
        self.ttl_ms = Some(ttl_ms);
        self
    }
}

/// One write operation of a [`Client::multi`] transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Create a node.
    Create {
        /// Client path.
        path: String,
        /// Initial data.
        data: Vec<u8>,
        /// Mode, ACL and TTL.
        options: CreateOptions,
    },
    /// Delete a node.
    Delete {
        /// Client path.
        path: String,
        /// Expected version, `None` for any.
        version: Option<i32>,
    },
    /// Replace a node's data.
    SetData {
        /// Client path.
        path: String,
        /// New data.
        data: Vec<u8>,
        /// Expected version, `None` for any.
        version: Option<i32>,
    },
    /// Check a node's version.
    Check {
        /// Client path.
        path: String,
        /// Expected version, `None` for "exists".
        version: Option<i32>,
    },
}

/// The result of one operation of a [`Client::multi`] transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpResult {
    /// The node was created at `path`.
    Create {
        /// The created client path (with its sequence suffix).
        path: String,
        /// The new node's stat.
        stat: Stat,
    },
    /// The node was deleted.
    Delete,
    /// The data was replaced.
    SetData {
        /// The node's stat after the write.
        stat: Stat,
    },
    /// The version matched.
    Check,
    /// The transaction failed; the failing op carries its real error, the others `Ok`-coded
    /// (before it) or runtime-inconsistency errors (after it).
    Error(Error),
}

/// One read of a [`Client::multi_read`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadOp {
    /// getData.
    GetData(String),
    /// getChildren.
    GetChildren(String),
}

/// The result of one read of a [`Client::multi_read`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadResult {
    /// The node's data and stat.
    Data {
        /// Data.
        data: Vec<u8>,
        /// Stat.
        stat: Stat,
    },
    /// The node's children.
    Children(Vec<String>),
    /// This read failed.
    Error(Error),
}

/// A ZooKeeper client: a cheap, cloneable handle to one session task.
///
/// The session is closed when [`Client::close`] is called or every handle is dropped.
#[derive(Clone, Debug)]
pub struct Client {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
}

impl Client {
    /// Connects with default settings; see [`ClientBuilder`] for the others.
    pub async fn connect(connect_string: &str) -> Result<Client> {
        ClientBuilder::new(connect_string).connect().await
    }

    /// A builder.
    pub fn builder(connect_string: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(connect_string)
    }

    /// The session state now.
    pub fn state(&self) -> SessionState {
        *self.shared.state.borrow()
    }

    /// A stream of every later state change.
    pub fn state_watcher(&self) -> StateWatcher {
        StateWatcher {
            events: self.shared.subscribe_state_events(),
            current: self.shared.state.subscribe(),
        }
    }

    /// The session as last established.
    pub fn session(&self) -> SessionInfo {
        self.shared
            .session
            .lock()
            .expect("session info lock")
            .clone()
    }

    /// The session id (0 before the first handshake).
    pub fn session_id(&self) -> SessionId {
        self.session().id
    }

    /// How many watch notifications the server has sent to this client so far.
    pub fn notifications_received(&self) -> u64 {
        self.shared.notifications_received.load(Ordering::Relaxed)
    }

    /// The parsed connect string.
    pub fn connect_string(&self) -> &ConnectString {
        &self.shared.connect_string
    }

    fn terminal_error(&self) -> Error {
        match self.state() {
            SessionState::Expired => Error::SessionExpired,
            SessionState::AuthFailed => Error::AuthFailed,
            _ => Error::Closed,
        }
    }

    fn send(&self, command: Command) -> Result<()> {
        self.commands
            .send(command)
            .map_err(|_| self.terminal_error())
    }

    async fn submit(
        &self,
        op: OpCode,
        body: Vec<u8>,
        watch: Option<(String, WatchRegistration)>,
        effect: Option<Effect>,
    ) -> Result<Response> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Submit(Operation {
            op,
            body,
            watch,
            effect,
            reply,
        }))?;
        rx.await.unwrap_or_else(|_| Err(self.terminal_error()))
    }

    fn server_path(&self, path: &str) -> Result<String> {
        validate_path(path)?;
        Ok(self.shared.connect_string.server_path(path))
    }

    fn client_path(&self, server_path: &str) -> String {
        self.shared.connect_string.client_path(server_path)
    }

    fn unexpected(response: Response) -> Error {
        Error::Protocol(format!("unexpected response {response:?}"))
    }

    /// Closes the session (its ephemeral nodes go at once) and waits for the server's answer,
    /// within a few seconds.
    pub async fn close(&self) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        if self.commands.send(Command::Close { reply }).is_ok() {
            let _ = rx.await;
        }
        Ok(())
    }

    /// Adds credentials to the connection (and to every later reconnection).
    pub async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::AddAuth {
            scheme: scheme.to_owned(),
            auth: auth.to_vec(),
            reply,
        })?;
        rx.await.unwrap_or_else(|_| Err(self.terminal_error()))
    }

    fn create_request(
        &self,
        path: &str,
        data: &[u8],
        options: &CreateOptions,
    ) -> Result<(OpCode, Vec<u8>, MultiOp)> {
        let check = if options.mode.is_sequential() {
            format!("{path}0")
        } else {
            path.to_owned()
        };
        validate_path(&check)?;
        let server_path = self.shared.connect_string.server_path(path);
        let flags = options.mode.flags();
        if options.mode.is_ttl() {
            let ttl = options
                .ttl_ms
                .ok_or_else(|| Error::BadArguments("a TTL mode needs a time to live".into()))?;
            let request = CreateTtlRequest {
                path: server_path,
                data: data_field(data.to_vec()),
                acl: options.acl.clone(),
                flags,
                ttl,
            };
            return Ok((
                OpCode::CreateTtl,
                request.to_bytes(),
                MultiOp::CreateTtl(request),
            ));
        }
        let request = CreateRequest {
            path: server_path,
            data: data_field(data.to_vec()),
            acl: options.acl.clone(),
            flags,
        };
        if options.mode.is_container() {
            Ok((
                OpCode::CreateContainer,
                request.to_bytes(),
                MultiOp::CreateContainer(request),
            ))
        } else {
            Ok((
                OpCode::Create2,
                request.to_bytes(),
                MultiOp::Create2(request),
            ))
        }
    }

    /// Creates a node; returns its actual path (with the sequence suffix) and stat.
    pub async fn create(
        &self,
        path: &str,
        data: &[u8],
        options: &CreateOptions,
    ) -> Result<(String, Stat)> {
        let (op, body, _) = self.create_request(path, data, options)?;
        match self.submit(op, body, None, None).await? {
            Response::Create2(r) => Ok((self.client_path(&r.path), r.stat)),
            other => Err(Self::unexpected(other)),
        }
    }

    /// Deletes a node.
    pub async fn delete(&self, path: &str, version: Option<i32>) -> Result<()> {
        let request = DeleteRequest {
            path: self.server_path(path)?,
            version: version.unwrap_or(-1),
        };
        self.submit(OpCode::Delete, request.to_bytes(), None, None)
            .await
            .map(drop)
    }

    async fn exists_inner(
        &self,
        path: &str,
        watch: Option<WatchRegistration>,
    ) -> Result<Option<Stat>> {
        let server_path = self.server_path(path)?;
        let request = ExistsRequest {
            path: server_path.clone(),
            watch: watch.is_some(),
        };
        match self
            .submit(
                OpCode::Exists,
                request.to_bytes(),
                watch.map(|w| (server_path, w)),
                None,
            )
            .await
        {
            Ok(Response::Exists(r)) => Ok(Some(r.stat)),
            Ok(other) => Err(Self::unexpected(other)),
            Err(Error::NoNode) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The node's stat, or `None` if it does not exist.
    pub async fn exists(&self, path: &str) -> Result<Option<Stat>> {
        self.exists_inner(path, None).await
    }

    /// Like [`Client::exists`], and watches the node: the watch fires on creation if it is
    /// missing, on data change or deletion if it exists.
    pub async fn exists_and_watch(&self, path: &str) -> Result<(Option<Stat>, OneshotWatcher)> {
        let (tx, receiver) = oneshot::channel();
        let stat = self
            .exists_inner(path, Some(WatchRegistration::Exists(tx)))
            .await?;
        Ok((
            stat,
            OneshotWatcher {
                receiver,
                path: path.to_owned(),
            },
        ))
    }

    async fn get_data_inner(
        &self,
        path: &str,
        watch: Option<WatchRegistration>,
    ) -> Result<(Vec<u8>, Stat)> {
        let server_path = self.server_path(path)?;
        let request = GetDataRequest {
            path: server_path.clone(),
            watch: watch.is_some(),
        };
        match self
            .submit(
                OpCode::GetData,
                request.to_bytes(),
                watch.map(|w| (server_path, w)),
                None,
            )
            .await?
        {
            Response::GetData(r) => Ok((r.data.into_data(), r.stat)),
            other => Err(Self::unexpected(other)),
        }
    }

    /// The node's data and stat.
    pub async fn get_data(&self, path: &str) -> Result<(Vec<u8>, Stat)> {
        self.get_data_inner(path, None).await
    }

    /// Like [`Client::get_data`], and watches the node for data change or deletion.
    pub async fn get_data_and_watch(&self, path: &str) -> Result<(Vec<u8>, Stat, OneshotWatcher)> {
        let (tx, receiver) = oneshot::channel();
        let (data, stat) = self
            .get_data_inner(path, Some(WatchRegistration::Data(tx)))
            .await?;
        Ok((
            data,
            stat,
            OneshotWatcher {
                receiver,
                path: path.to_owned(),
            },
        ))
    }

    /// Replaces the node's data; returns the new stat.
    pub async fn set_data(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Stat> {
        let request = SetDataRequest {
            path: self.server_path(path)?,
            data: data_field(data.to_vec()),
            version: version.unwrap_or(-1),
        };
        match self
            .submit(OpCode::SetData, request.to_bytes(), None, None)
            .await?
        {
            Response::SetData(r) => Ok(r.stat),
            other => Err(Self::unexpected(other)),
        }
    }

    /// The node's ACL and stat.
    pub async fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat)> {
        let request = GetAclRequest {
            path: self.server_path(path)?,
        };
        match self
            .submit(OpCode::GetAcl, request.to_bytes(), None, None)
            .await?
        {
            Response::GetAcl(r) => Ok((r.acl, r.stat)),
            other => Err(Self::unexpected(other)),
        }
    }

    /// Replaces the node's ACL (`version` is the ACL version); returns the new stat.
    pub async fn set_acl(&self, path: &str, acl: &[Acl], version: Option<i32>) -> Result<Stat> {
        let request = SetAclRequest {
            path: self.server_path(path)?,
            acl: acl.to_vec(),
            version: version.unwrap_or(-1),
        };
        match self
            .submit(OpCode::SetAcl, request.to_bytes(), None, None)
            .await?
        {
            Response::SetAcl(r) => Ok(r.stat),
            other => Err(Self::unexpected(other)),
        }
    }

    /// The names of the node's children (in the server's order).
    pub async fn get_children(&self, path: &str) -> Result<Vec<String>> {
        let request = GetChildrenRequest {
            path: self.server_path(path)?,
            watch: false,
        };
        match self
            .submit(OpCode::GetChildren, request.to_bytes(), None, None)
            .await?
        {
            Response::GetChildren(r) => Ok(r.children),
            other => Err(Self::unexpected(other)),
        }
    }

    async fn get_children2(
        &self,
        path: &str,
        watch: Option<WatchRegistration>,
    ) -> Result<(Vec<String>, Stat)> {
        let server_path = self.server_path(path)?;
        let request = GetChildren2Request {
            path: server_path.clone(),
            watch: watch.is_some(),
        };
        match self
            .submit(
                OpCode::GetChildren2,
                request.to_bytes(),
                watch.map(|w| (server_path, w)),
                None,
            )
            .await?
        {
            Response::GetChildren2(r) => Ok((r.children, r.stat)),
            other => Err(Self::unexpected(other)),
        }
    }

    /// The node's children and its stat (getChildren2).
    pub async fn get_children_and_stat(&self, path: &str) -> Result<(Vec<String>, Stat)> {
        self.get_children2(path, None).await
    }

    /// Like [`Client::get_children_and_stat`], and watches the children (and the node's
    /// deletion).
    pub async fn get_children_and_watch(
        &self,
        path: &str,
    ) -> Result<(Vec<String>, Stat, OneshotWatcher)> {
        let (tx, receiver) = oneshot::channel();
        let (children, stat) = self
            .get_children2(path, Some(WatchRegistration::Child(tx)))
            .await?;
        Ok((
            children,
            stat,
            OneshotWatcher {
                receiver,
                path: path.to_owned(),
            },
        ))
    }

    /// Waits until the server this client is connected to has caught up with the leader.
    pub async fn sync(&self, path: &str) -> Result<()> {
        let request = SyncRequest {
            path: self.server_path(path)?,
        };
        self.submit(OpCode::Sync, request.to_bytes(), None, None)
            .await
            .map(drop)
    }

    /// Runs write operations as one atomic transaction.
    ///
    /// The reply is `Ok` whenever the server answered; a failed transaction shows up as
    /// [`OpResult::Error`] entries (see [`Client::multi_first_error`]).
    pub async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        let mut request = MultiRequest::default();
        for op in ops {
            request.ops.push(match op {
                Op::Create {
                    path,
                    data,
                    options,
                } => self.create_request(path, data, options)?.2,
                Op::Delete { path, version } => MultiOp::Delete(DeleteRequest {
                    path: self.server_path(path)?,
                    version: version.unwrap_or(-1),
                }),
                Op::SetData {
                    path,
                    data,
                    version,
                } => MultiOp::SetData(SetDataRequest {
                    path: self.server_path(path)?,
                    data: data_field(data.clone()),
                    version: version.unwrap_or(-1),
                }),
                Op::Check { path, version } => MultiOp::Check(CheckVersionRequest {
                    path: self.server_path(path)?,
                    version: version.unwrap_or(-1),
                }),
            });
        }
        let response = self
            .submit(OpCode::Multi, request.to_bytes(), None, None)
            .await?;
        let Response::Multi(response) = response else {
            return Err(Self::unexpected(response));
        };
        Ok(response
            .results
            .into_iter()
            .map(|result| match result {
                MultiResult::Create(r) => OpResult::Create {
                    path: self.client_path(&r.path),
                    stat: Stat::default(),
                },
                MultiResult::Create2(r) => OpResult::Create {
                    path: self.client_path(&r.path),
                    stat: r.stat,
                },
                MultiResult::Delete => OpResult::Delete,
                MultiResult::SetData(r) => OpResult::SetData { stat: r.stat },
                MultiResult::Check => OpResult::Check,
                MultiResult::Error(e) => OpResult::Error(if e.err == 0 {
                    Error::Server(zk_proto::ErrorCode::Ok)
                } else {
                    Error::from_code(e.err)
                }),
                other => OpResult::Error(Error::Protocol(format!(
                    "read result {other:?} in a write transaction"
                ))),
            })
            .collect())
    }

    /// The error that made a [`Client::multi`] transaction fail, if it failed.
    pub fn multi_first_error(results: &[OpResult]) -> Option<Error> {
        results.iter().find_map(|r| match r {
            OpResult::Error(Error::Server(zk_proto::ErrorCode::Ok)) => None,
            OpResult::Error(Error::Server(zk_proto::ErrorCode::RuntimeInconsistency)) => None,
            OpResult::Error(e) => Some(e.clone()),
            _ => None,
        })
    }

    /// Runs several reads in one request (multiRead); each read succeeds or fails alone.
    pub async fn multi_read(&self, ops: &[ReadOp]) -> Result<Vec<ReadResult>> {
        let mut request = MultiRequest::default();
        for op in ops {
            request.ops.push(match op {
                ReadOp::GetData(path) => MultiOp::GetData(GetDataRequest {
                    path: self.server_path(path)?,
                    watch: false,
                }),
                ReadOp::GetChildren(path) => MultiOp::GetChildren(GetChildrenRequest {
                    path: self.server_path(path)?,
                    watch: false,
                }),
            });
        }
        let response = self
            .submit(OpCode::MultiRead, request.to_bytes(), None, None)
            .await?;
        let Response::Multi(response) = response else {
            return Err(Self::unexpected(response));
        };
        Ok(response
            .results
            .into_iter()
            .map(|result| match result {
                MultiResult::GetData(r) => ReadResult::Data {
                    data: r.data.into_data(),
                    stat: r.stat,
                },
                MultiResult::GetChildren(r) => ReadResult::Children(r.children),
                MultiResult::Error(e) => ReadResult::Error(Error::from_code(e.err)),
                other => ReadResult::Error(Error::Protocol(format!(
                    "write result {other:?} in a read transaction"
                ))),
            })
            .collect())
    }

    /// Sets a persistent (or persistent-recursive) watch; it lasts until removed or the
    /// session ends.
    pub async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<PersistentWatcher> {
        let server_path = self.server_path(path)?;
        let (tx, receiver) = mpsc::unbounded_channel();
        let registration = match mode {
            AddWatchMode::Persistent => WatchRegistration::Persistent(tx),
            AddWatchMode::PersistentRecursive => WatchRegistration::PersistentRecursive(tx),
        };
        let request = AddWatchRequest {
            path: server_path.clone(),
            mode: mode.code(),
        };
        self.submit(
            OpCode::AddWatch,
            request.to_bytes(),
            Some((server_path, registration)),
            None,
        )
        .await?;
        Ok(PersistentWatcher {
            receiver,
            path: path.to_owned(),
        })
    }

    /// Removes this session's watches of a type on a path, on the server and here (local
    /// watchers get a `*WatchRemoved` event).
    pub async fn remove_watches(&self, path: &str, watcher_type: WatcherType) -> Result<()> {
        let server_path = self.server_path(path)?;
        let request = RemoveWatchesRequest {
            path: server_path.clone(),
            watcher_type: watcher_type.code(),
        };
        self.submit(
            OpCode::RemoveWatches,
            request.to_bytes(),
            None,
            Some(Effect::RemoveWatches {
                server_path,
                watcher_type,
            }),
        )
        .await
        .map(drop)
    }

    /// The ephemeral nodes of this session whose paths start with `prefix`.
    pub async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>> {
        let request = GetEphemeralsRequest {
            prefix_path: self.shared.connect_string.server_path(prefix),
        };
        match self
            .submit(OpCode::GetEphemerals, request.to_bytes(), None, None)
            .await?
        {
            Response::GetEphemerals(r) => {
                Ok(r.ephemerals.iter().map(|p| self.client_path(p)).collect())
            }
            other => Err(Self::unexpected(other)),
        }
    }

    /// The number of descendants of a node.
    pub async fn get_all_children_number(&self, path: &str) -> Result<i32> {
        let request = GetAllChildrenNumberRequest {
            path: self.server_path(path)?,
        };
        match self
            .submit(OpCode::GetAllChildrenNumber, request.to_bytes(), None, None)
            .await?
        {
            Response::GetAllChildrenNumber(r) => Ok(r.total_number),
            other => Err(Self::unexpected(other)),
        }
    }

    /// The identities the server has attached to this connection.
    pub async fn who_am_i(&self) -> Result<Vec<ClientInfo>> {
        match self.submit(OpCode::WhoAmI, Vec::new(), None, None).await? {
            Response::WhoAmI(r) => Ok(r.client_info),
            other => Err(Self::unexpected(other)),
        }
    }

    /// The ensemble configuration (`/zookeeper/config`, outside any chroot).
    pub async fn get_config(&self) -> Result<(Vec<u8>, Stat)> {
        let request = GetDataRequest {
            path: "/zookeeper/config".into(),
            watch: false,
        };
        match self
            .submit(OpCode::GetData, request.to_bytes(), None, None)
            .await?
        {
            Response::GetData(r) => Ok((r.data.into_data(), r.stat)),
            other => Err(Self::unexpected(other)),
        }
    }

    /// Changes the ensemble membership; returns the new configuration.
    pub async fn reconfig(
        &self,
        joining: Option<&str>,
        leaving: Option<&str>,
        new_members: Option<&str>,
        from_config: Option<i64>,
    ) -> Result<(Vec<u8>, Stat)> {
        let request = ReconfigRequest {
            joining_servers: joining.map(str::to_owned),
            leaving_servers: leaving.map(str::to_owned),
            new_members: new_members.map(str::to_owned),
            cur_config_id: from_config.unwrap_or(-1),
        };
        match self
            .submit(OpCode::Reconfig, request.to_bytes(), None, None)
            .await?
        {
            Response::GetData(r) => Ok((r.data.into_data(), r.stat)),
            other => Err(Self::unexpected(other)),
        }
    }

    /// Waits until the state is `Connected`, or fails with the terminal state's error.
    pub async fn wait_connected(&self) -> Result<()> {
        let mut state = self.shared.state.subscribe();
        loop {
            match *state.borrow_and_update() {
                SessionState::Connected => return Ok(()),
                SessionState::AuthFailed => return Err(Error::AuthFailed),
                SessionState::Closed => return Err(Error::Closed),
                SessionState::Expired if self.commands.is_closed() => {
                    return Err(Error::SessionExpired)
                }
                _ => {}
            }
            if state.changed().await.is_err() {
                return Err(self.terminal_error());
            }
        }
    }
}
