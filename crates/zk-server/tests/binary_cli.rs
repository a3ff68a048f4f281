//! The `zk-server` binary: usage text, and configuration errors that name the key and line.

use std::process::Command;

fn zk_server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_zk-server"))
}

fn write_config(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("zk-server-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("zoo.cfg");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn help_prints_usage() {
    let out = zk_server().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("usage: zk-server"), "{text}");
}

#[test]
fn a_bad_value_is_refused_with_its_key_and_line() {
    let path = write_config("bad", "dataDir=/tmp/x\nclientPort=2181\ntickTime=soon\n");
    let out = zk_server().arg(&path).output().unwrap();
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("tickTime") && text.contains("line 3"),
        "{text}"
    );
}

#[test]
fn server_lines_are_refused_until_cluster_mode_exists() {
    let path = write_config(
        "cluster",
        "dataDir=/tmp/x\nclientPort=0\nserver.1=a:2888:3888\nserver.2=b:2888:3888\n",
    );
    let out = zk_server().arg(&path).output().unwrap();
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("cluster mode is not implemented"), "{text}");
}

#[test]
fn an_unknown_option_is_refused() {
    let out = zk_server().arg("--frobnicate").output().unwrap();
    assert!(!out.status.success());
}
