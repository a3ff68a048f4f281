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
fn a_cluster_config_without_myid_is_refused_with_a_clear_error() {
    let data_dir = std::env::temp_dir().join(format!("zk-cli-nomyid-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&data_dir);
    let path = write_config(
        "cluster",
        &format!(
            "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort=0\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n",
            data_dir.display()
        ),
    );
    let out = zk_server().arg(&path).output().unwrap();
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
    let _ = std::fs::remove_dir_all(&data_dir);
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("myid"), "{text}");
}

#[test]
fn an_unknown_option_is_refused() {
    let out = zk_server().arg("--frobnicate").output().unwrap();
    assert!(!out.status.success());
}
