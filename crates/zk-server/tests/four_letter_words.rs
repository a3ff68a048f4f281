//! Four-letter words on the client port: outputs parse in ZooKeeper 3.8's formats, and the
//! whitelist refuses what it does not list.

mod common;

use common::{config, four_letter, start, Client};
use zk_proto::{Acl, CreateRequest, GetDataRequest, Request};

#[tokio::test]
async fn ruok_and_isro() {
    let server = start(config()).await;
    assert_eq!(four_letter(server.local_addr(), "ruok").await, "imok");
    assert_eq!(four_letter(server.local_addr(), "isro").await, "rw");
    server.shutdown().await;
}

#[tokio::test]
async fn srvr_and_stat_report_standalone_mode() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    let create = CreateRequest {
        path: "/x".into(),
        data: Some(Vec::new()),
        acl: Acl::open_unsafe(),
        flags: 0,
    };
    assert!(c.call(Request::Create(create)).await.ok());
    let srvr = four_letter(server.local_addr(), "srvr").await;
    assert!(srvr.starts_with("Zookeeper version: 3.8."), "{srvr}");
    assert!(srvr.contains("\nMode: standalone\n"), "{srvr}");
    // Java counts the root twice ("" and "/"): 4 nodes + the root alias + /x.
    assert!(srvr.contains("\nNode count: 6\n"), "{srvr}");
    let zxid_line = srvr
        .lines()
        .find(|l| l.starts_with("Zxid: 0x"))
        .expect("zxid line");
    assert!(u64::from_str_radix(&zxid_line[8..], 16).unwrap() >= 2);
    let stat = four_letter(server.local_addr(), "stat").await;
    assert!(stat.contains("Clients:\n /127.0.0.1:"), "{stat}");
    assert!(stat.contains("\nMode: standalone\n"), "{stat}");
    server.shutdown().await;
}

#[tokio::test]
async fn mntr_lists_tab_separated_zk_keys() {
    let server = start(config()).await;
    let text = four_letter(server.local_addr(), "mntr").await;
    let keys: Vec<&str> = text
        .lines()
        .map(|line| line.split_once('\t').expect("key\\tvalue").0)
        .collect();
    for key in [
        "zk_version",
        "zk_server_state",
        "zk_avg_latency",
        "zk_max_latency",
        "zk_min_latency",
        "zk_packets_received",
        "zk_packets_sent",
        "zk_num_alive_connections",
        "zk_outstanding_requests",
        "zk_znode_count",
        "zk_watch_count",
        "zk_ephemerals_count",
        "zk_approximate_data_size",
        "zk_open_file_descriptor_count",
        "zk_max_file_descriptor_count",
    ] {
        assert!(keys.contains(&key), "{key} missing from\n{text}");
    }
    assert!(text.contains("zk_server_state\tstandalone\n"));
    server.shutdown().await;
}

#[tokio::test]
async fn cons_conf_envi_dirs_dump_and_watch_listings() {
    let server = start(config()).await;
    let mut c = Client::connect(server.local_addr()).await;
    assert!(c
        .call(Request::GetData(GetDataRequest {
            path: "/zookeeper".into(),
            watch: true
        }))
        .await
        .ok());
    let session = format!("0x{:x}", c.session.0);

    let cons = four_letter(server.local_addr(), "cons").await;
    assert!(cons.contains(&format!("sid={session}")), "{cons}");
    assert!(cons.contains("lop=GETD"), "{cons}");
    let conf = four_letter(server.local_addr(), "conf").await;
    assert!(
        conf.starts_with(&format!("clientPort={}\n", server.local_addr().port())),
        "{conf}"
    );
    assert!(conf.contains("\ntickTime=100\n"), "{conf}");
    let envi = four_letter(server.local_addr(), "envi").await;
    assert!(
        envi.starts_with("Environment:\nzookeeper.version=3.8."),
        "{envi}"
    );
    let dirs = four_letter(server.local_addr(), "dirs").await;
    assert!(dirs.starts_with("datadir_size: "), "{dirs}");
    let dump = four_letter(server.local_addr(), "dump").await;
    assert!(
        dump.starts_with("SessionTracker dump:\nSession Sets ("),
        "{dump}"
    );
    assert!(dump.contains(&format!("\t{session}\n")), "{dump}");
    assert_eq!(
        four_letter(server.local_addr(), "wchs").await,
        "1 connections watching 1 paths\nTotal watches:1\n"
    );
    assert_eq!(
        four_letter(server.local_addr(), "wchc").await,
        format!("{session}\n\t/zookeeper\n\n")
    );
    assert_eq!(
        four_letter(server.local_addr(), "wchp").await,
        format!("/zookeeper\n\t{session}\n\n")
    );
    assert_eq!(
        four_letter(server.local_addr(), "crst").await,
        "Connection stats reset.\n"
    );
    assert_eq!(
        four_letter(server.local_addr(), "srst").await,
        "Server stats reset.\n"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_default_whitelist_allows_only_srvr() {
    let mut cfg = config();
    cfg.four_letter_whitelist = zk_server::config::FourLetterWhitelist::default();
    let server = start(cfg).await;
    assert_eq!(
        four_letter(server.local_addr(), "ruok").await,
        "ruok is not executed because it is not in the whitelist.\n"
    );
    assert_eq!(
        four_letter(server.local_addr(), "mntr").await,
        "mntr is not executed because it is not in the whitelist.\n"
    );
    assert!(four_letter(server.local_addr(), "srvr")
        .await
        .contains("Mode: standalone"));
    server.shutdown().await;
}
