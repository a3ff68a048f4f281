//! `zk-cli` commands against a running server (`ZK_ADDR`): each run is one process and one
//! session, so the test checks both the printed output and the effect seen by a client.

mod common;

use common::{connect, fresh_root, zk_addr};

/// Runs `zk-cli --server ZK_ADDR ARGS...` and returns (success, stdout, stderr).
fn cli(args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_zk-cli"))
        .args(["--server", &zk_addr(), "--timeout-ms", "6000"])
        .args(args)
        .output()
        .expect("run zk-cli");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> String {
    let (success, stdout, stderr) = cli(args);
    assert!(success, "zk-cli {args:?} failed: {stderr}");
    stdout
}

#[tokio::test]
#[ignore = "needs a running server: cargo xtask conformance runs them"]
async fn zk_cli_commands() {
    let client = connect().await;
    let root = fresh_root(&client, "cli-commands").await;
    let a = format!("{root}/a");
    assert_eq!(ok(&["create", &a, "hello"]), format!("Created {a}\n"));
    assert_eq!(ok(&["get", &a]), "hello\n");
    ok(&["set", &a, "world"]);
    assert_eq!(client.get_data(&a).await.unwrap().0, b"world");
    let stat = ok(&["stat", &a]);
    assert!(stat.contains("dataVersion = 1"), "{stat}");
    assert!(ok(&["get", "-s", &a]).contains("dataLength = 5"));
    let seq = ok(&["create", "-s", &format!("{a}/s-")]);
    assert!(seq.starts_with(&format!("Created {a}/s-00000000")), "{seq}");
    ok(&["create", "-c", &format!("{root}/container")]);
    ok(&["create", "-t", "60000", &format!("{root}/ttl")]);
    assert_eq!(ok(&["ls", &root]), "[a, container, ttl]\n");
    let recursive = ok(&["ls", "-R", &root]);
    assert_eq!(recursive.lines().count(), 5, "{recursive}");
    assert_eq!(ok(&["getAcl", &a]), "'world,'anyone\n: cdrwa\n");
    ok(&["setAcl", &a, "world:anyone:rwa"]);
    assert_eq!(ok(&["getAcl", &a]), "'world,'anyone\n: rwa\n");
    assert_eq!(ok(&["sync", &a]), "Sync is OK\n");
    let (success, _, stderr) = cli(&["delete", "-v", "7", &format!("{root}/ttl")]);
    assert!(!success && stderr.contains("version"), "{stderr}");
    ok(&["delete", &format!("{root}/ttl")]);
    ok(&["setAcl", &a, "world:anyone:cdrwa"]);
    ok(&["deleteall", &a]);
    assert_eq!(client.exists(&a).await.unwrap(), None);
    let (success, _, stderr) = cli(&["stat", &a]);
    assert!(!success && stderr.contains("does not exist"), "{stderr}");
    let whoami = ok(&["addauth", "digest", "bob:pw", "whoami"]);
    assert!(whoami.contains("digest: bob"), "{whoami}");
    assert_eq!(ok(&["leader", &root]), "NO LEADER\n");
}
