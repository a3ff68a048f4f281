//! `zk-cli`: a command-line ZooKeeper client in the spirit of zkCli.sh, one command per run.
//!
//! ```text
//! zk-cli [--server HOST:PORT[,HOST:PORT...][/chroot]] [--timeout-ms MS] [--auth SCHEME:AUTH]
//!        COMMAND ARGS...
//! ```
//!
//! Commands: `ls [-s] [-R] PATH`, `get [-s] PATH`, `set [-v VERSION] PATH DATA`,
//! `create [-e] [-s] [-c] [-t TTL] PATH [DATA]`, `delete [-v VERSION] PATH`, `deleteall PATH`,
//! `stat PATH`, `sync PATH`, `getAcl PATH`, `setAcl [-v VERSION] PATH ACL`,
//! `addauth SCHEME AUTH [COMMAND ...]`, `watch [-r] [-n COUNT] PATH`, `whoami`,
//! `getEphemerals [PATH]`, `elect PATH --id NAME`, `leader PATH`.
//!
//! `elect` campaigns in the election at PATH, prints `LEADER <NAME> <fencing token>` each time
//! it becomes leader (and `FOLLOWER <NAME>` when leadership ends), and holds until killed;
//! SIGINT or SIGTERM close the session so that the next contender takes over at once.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use zk_client::recipes::{ElectionEvent, LeaderElection};
use zk_client::{Acl, AddWatchMode, Client, CreateMode, CreateOptions, Error, Id, Perms, Stat};

const USAGE: &str = "usage: zk-cli [--server HOST:PORT[,HOST:PORT...][/chroot]] [--timeout-ms MS] \
[--auth SCHEME:AUTH] COMMAND ARGS...
commands:
  ls [-s] [-R] PATH             list children (-s: and the stat, -R: recursively)
  get [-s] PATH                 print data (-s: and the stat)
  set [-v VERSION] PATH DATA    replace data
  create [-e] [-s] [-c] [-t TTL] PATH [DATA]
  delete [-v VERSION] PATH
  deleteall PATH                delete a subtree
  stat PATH
  sync PATH
  getAcl PATH
  setAcl [-v VERSION] PATH ACL  ACL like world:anyone:cdrwa,digest:u:hash:r
  addauth SCHEME AUTH [COMMAND ...]
  watch [-r] [-n COUNT] PATH    print events of a persistent (-r: recursive) watch
  whoami
  getEphemerals [PATH]
  elect PATH --id NAME          campaign; prints LEADER <NAME> <fencing token>
  leader PATH                   print the current leader of an election";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return;
    }
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    if let Err(error) = run(args).await {
        eprintln!("zk-cli: {error:#}");
        std::process::exit(1);
    }
}

async fn run(mut args: Vec<String>) -> Result<()> {
    let mut server = "127.0.0.1:2181".to_owned();
    let mut timeout_ms = 30_000u64;
    let mut auths = Vec::new();
    while let Some(first) = args.first().cloned() {
        match first.as_str() {
            "--server" | "-server" => {
                args.remove(0);
                server = take(&mut args, "--server")?;
            }
            "--timeout-ms" | "-timeout" => {
                args.remove(0);
                timeout_ms = take(&mut args, "--timeout-ms")?
                    .parse()
                    .context("--timeout-ms")?;
            }
            "--auth" => {
                args.remove(0);
                let auth = take(&mut args, "--auth")?;
                let (scheme, secret) = auth
                    .split_once(':')
                    .ok_or_else(|| anyhow!("--auth takes SCHEME:AUTH"))?;
                auths.push((scheme.to_owned(), secret.to_owned()));
            }
            _ => break,
        }
    }
    let mut builder = Client::builder(server.clone())
        .session_timeout(Duration::from_millis(timeout_ms))
        .renew_expired_session(true);
    for (scheme, secret) in auths {
        builder = builder.auth(scheme, secret.into_bytes());
    }
    let client = builder
        .connect()
        .await
        .with_context(|| format!("connect to {server}"))?;
    let outcome = command(&client, args).await;
    client.close().await?;
    outcome
}

fn take(args: &mut Vec<String>, what: &str) -> Result<String> {
    if args.is_empty() {
        bail!("{what} needs a value\n{USAGE}");
    }
    Ok(args.remove(0))
}

/// Flags and their values, in order.
type Flags = Vec<(String, Option<String>)>;

/// Splits leading flags (`-e`, `-v 3`) from positional arguments; `with_value` lists the
/// flags that take a value.
fn flags(args: Vec<String>, with_value: &[&str]) -> Result<(Flags, Vec<String>)> {
    let mut flags = Vec::new();
    let mut positional = Vec::new();
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        if with_value.contains(&arg.as_str()) {
            let value = iter.next().ok_or_else(|| anyhow!("{arg} needs a value"))?;
            flags.push((arg, Some(value)));
        } else if arg.starts_with('-') && arg.len() > 1 && positional.is_empty() {
            flags.push((arg, None));
        } else {
            positional.push(arg);
        }
    }
    Ok((flags, positional))
}

fn has(flags: &[(String, Option<String>)], name: &str) -> bool {
    flags.iter().any(|(f, _)| f == name)
}

fn value(flags: &[(String, Option<String>)], name: &str) -> Option<String> {
    flags
        .iter()
        .find(|(f, _)| f == name)
        .and_then(|(_, v)| v.clone())
}

fn version(flags: &[(String, Option<String>)]) -> Result<Option<i32>> {
    value(flags, "-v")
        .map(|v| v.parse().context("-v takes a number"))
        .transpose()
}

fn path_arg(positional: &[String], index: usize) -> Result<&str> {
    positional
        .get(index)
        .map(String::as_str)
        .ok_or_else(|| anyhow!("missing PATH\n{USAGE}"))
}

async fn command(client: &Client, mut args: Vec<String>) -> Result<()> {
    if args.is_empty() {
        bail!("no command\n{USAGE}");
    }
    let name = args.remove(0);
    match name.as_str() {
        "ls" => {
            let (flags, positional) = flags(args, &[])?;
            let path = path_arg(&positional, 0)?;
            if has(&flags, "-R") {
                let mut stack = vec![path.to_owned()];
                while let Some(at) = stack.pop() {
                    println!("{at}");
                    let mut children = client.get_children(&at).await?;
                    children.sort();
                    for child in children.into_iter().rev() {
                        stack.push(zk_client::connect_string::join_path(&at, &child));
                    }
                }
            } else {
                let (mut children, stat) = client.get_children_and_stat(path).await?;
                children.sort();
                println!("[{}]", children.join(", "));
                if has(&flags, "-s") {
                    print_stat(&stat);
                }
            }
        }
        "get" => {
            let (flags, positional) = flags(args, &[])?;
            let (data, stat) = client.get_data(path_arg(&positional, 0)?).await?;
            println!("{}", String::from_utf8_lossy(&data));
            if has(&flags, "-s") {
                print_stat(&stat);
            }
        }
        "set" => {
            let (flags, positional) = flags(args, &["-v"])?;
            let data = positional.get(1).ok_or_else(|| anyhow!("set PATH DATA"))?;
            client
                .set_data(path_arg(&positional, 0)?, data.as_bytes(), version(&flags)?)
                .await?;
        }
        "create" => {
            let (flags, positional) = flags(args, &["-t"])?;
            let ttl = value(&flags, "-t")
                .map(|v| v.parse::<i64>().context("-t takes milliseconds"))
                .transpose()?;
            let sequential = has(&flags, "-s");
            let mode = if has(&flags, "-c") {
                CreateMode::Container
            } else if ttl.is_some() {
                if sequential {
                    CreateMode::PersistentSequentialWithTtl
                } else {
                    CreateMode::PersistentWithTtl
                }
            } else {
                match (has(&flags, "-e"), sequential) {
                    (true, true) => CreateMode::EphemeralSequential,
                    (true, false) => CreateMode::Ephemeral,
                    (false, true) => CreateMode::PersistentSequential,
                    (false, false) => CreateMode::Persistent,
                }
            };
            let mut options = CreateOptions::new(mode);
            if let Some(ttl) = ttl {
                options = options.with_ttl_ms(ttl);
            }
            let data = positional.get(1).map(String::as_bytes).unwrap_or_default();
            let (created, _) = client
                .create(path_arg(&positional, 0)?, data, &options)
                .await?;
            println!("Created {created}");
            if mode.is_ephemeral() {
                eprintln!("(the node is ephemeral: it goes away as zk-cli closes its session)");
            }
        }
        "delete" => {
            let (flags, positional) = flags(args, &["-v"])?;
            client
                .delete(path_arg(&positional, 0)?, version(&flags)?)
                .await?;
        }
        "deleteall" => {
            let (_, positional) = flags(args, &[])?;
            delete_all(client, path_arg(&positional, 0)?).await?;
        }
        "stat" => {
            let (_, positional) = flags(args, &[])?;
            let path = path_arg(&positional, 0)?;
            match client.exists(path).await? {
                Some(stat) => print_stat(&stat),
                None => bail!("Node does not exist: {path}"),
            }
        }
        "sync" => {
            let (_, positional) = flags(args, &[])?;
            let path = path_arg(&positional, 0)?;
            client.sync(path).await?;
            println!("Sync is OK");
        }
        "getAcl" => {
            let (_, positional) = flags(args, &[])?;
            let (acl, _) = client.get_acl(path_arg(&positional, 0)?).await?;
            for entry in acl {
                println!("'{},'{}", entry.id.scheme, entry.id.id);
                println!(": {}", perms_text(entry.perms));
            }
        }
        "setAcl" => {
            let (flags, positional) = flags(args, &["-v"])?;
            let acl = parse_acl(
                positional
                    .get(1)
                    .ok_or_else(|| anyhow!("setAcl PATH ACL"))?,
            )?;
            client
                .set_acl(path_arg(&positional, 0)?, &acl, version(&flags)?)
                .await?;
        }
        "addauth" => {
            if args.len() < 2 {
                bail!("addauth SCHEME AUTH [COMMAND ...]");
            }
            let scheme = args.remove(0);
            let auth = args.remove(0);
            client.add_auth(&scheme, auth.as_bytes()).await?;
            if !args.is_empty() {
                Box::pin(command(client, args)).await?;
            }
        }
        "whoami" => {
            for info in client.who_am_i().await? {
                println!("{}: {}", info.auth_scheme, info.user);
            }
        }
        "getEphemerals" => {
            let (_, positional) = flags(args, &[])?;
            let prefix = positional.first().map(String::as_str).unwrap_or("/");
            println!("{:?}", client.get_ephemerals(prefix).await?);
        }
        "watch" => {
            let (flags, positional) = flags(args, &["-n"])?;
            let count: Option<u64> = value(&flags, "-n")
                .map(|v| v.parse().context("-n takes a number"))
                .transpose()?;
            let mode = if has(&flags, "-r") {
                AddWatchMode::PersistentRecursive
            } else {
                AddWatchMode::Persistent
            };
            let mut watcher = client.add_watch(path_arg(&positional, 0)?, mode).await?;
            println!("WATCHING {}", watcher.path());
            let mut seen = 0u64;
            while count.is_none_or(|count| seen < count) {
                tokio::select! {
                    event = watcher.changed() => match event {
                        Some(event) => {
                            println!("WatchedEvent state:{:?} type:{:?} path:{}", event.session_state, event.event_type, event.path);
                            seen += 1;
                        }
                        None => bail!("the watch ended"),
                    },
                    _ = shutdown_signal() => break,
                }
            }
        }
        "elect" => {
            let (flags, positional) = flags(args, &["--id"])?;
            let path = path_arg(&positional, 0)?;
            let id = value(&flags, "--id").ok_or_else(|| anyhow!("elect PATH --id NAME"))?;
            let election = LeaderElection::new(client.clone(), path);
            let mut campaign = election.campaign(&id).await?;
            loop {
                tokio::select! {
                    event = campaign.next_event() => match event {
                        Some(ElectionEvent::Elected { fencing_token, .. }) => {
                            println!("LEADER {id} {fencing_token}");
                        }
                        Some(ElectionEvent::NotLeader { reason }) => {
                            println!("FOLLOWER {id} {reason:?}");
                        }
                        Some(ElectionEvent::Joined { node }) => eprintln!("joined as {node}"),
                        Some(ElectionEvent::Failed(error)) => return Err(error.into()),
                        None => bail!("the campaign ended"),
                    },
                    _ = shutdown_signal() => break,
                }
            }
            campaign.resign().await?;
        }
        "leader" => {
            let (_, positional) = flags(args, &[])?;
            let election = LeaderElection::new(client.clone(), path_arg(&positional, 0)?);
            match election.leader().await? {
                Some(leader) => println!("LEADER {} {}", leader.id, leader.fencing_token),
                None => println!("NO LEADER"),
            }
        }
        other => bail!("unknown command {other:?}\n{USAGE}"),
    }
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn delete_all(client: &Client, path: &str) -> Result<()> {
    let mut order = Vec::new();
    let mut stack = vec![path.to_owned()];
    while let Some(at) = stack.pop() {
        match client.get_children(&at).await {
            Ok(children) => {
                for child in children {
                    stack.push(zk_client::connect_string::join_path(&at, &child));
                }
                order.push(at);
            }
            Err(Error::NoNode) => {}
            Err(error) => return Err(error.into()),
        }
    }
    for at in order.iter().rev() {
        match client.delete(at, None).await {
            Ok(()) | Err(Error::NoNode) => {}
            Err(error) => return Err(anyhow!("delete {at}: {error}")),
        }
    }
    Ok(())
}

fn print_stat(stat: &Stat) {
    println!("cZxid = {}", stat.czxid);
    println!("ctime = {}", stat.ctime);
    println!("mZxid = {}", stat.mzxid);
    println!("mtime = {}", stat.mtime);
    println!("pZxid = {}", stat.pzxid);
    println!("cversion = {}", stat.cversion);
    println!("dataVersion = {}", stat.version);
    println!("aclVersion = {}", stat.aversion);
    println!("ephemeralOwner = {}", stat.ephemeral_owner);
    println!("dataLength = {}", stat.data_length);
    println!("numChildren = {}", stat.num_children);
}

fn perms_text(perms: Perms) -> String {
    [
        (Perms::CREATE, 'c'),
        (Perms::DELETE, 'd'),
        (Perms::READ, 'r'),
        (Perms::WRITE, 'w'),
        (Perms::ADMIN, 'a'),
    ]
    .iter()
    .filter(|(p, _)| perms.contains(*p))
    .map(|(_, c)| *c)
    .collect()
}

/// Parses `scheme:id:perms[,scheme:id:perms...]`; the id may itself contain colons.
fn parse_acl(text: &str) -> Result<Vec<Acl>> {
    text.split(',')
        .map(|entry| {
            let (scheme, rest) = entry
                .split_once(':')
                .ok_or_else(|| anyhow!("ACL entry {entry:?} is not scheme:id:perms"))?;
            let (id, perms) = rest
                .rsplit_once(':')
                .ok_or_else(|| anyhow!("ACL entry {entry:?} is not scheme:id:perms"))?;
            let mut bits = 0;
            for c in perms.chars() {
                bits |= match c {
                    'r' => Perms::READ.0,
                    'w' => Perms::WRITE.0,
                    'c' => Perms::CREATE.0,
                    'd' => Perms::DELETE.0,
                    'a' => Perms::ADMIN.0,
                    other => bail!("unknown permission {other:?} in {entry:?}"),
                };
            }
            Ok(Acl {
                perms: Perms(bits),
                id: Id::new(scheme, id),
            })
        })
        .collect()
}
