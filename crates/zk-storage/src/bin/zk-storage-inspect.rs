//! `zk-storage-inspect DATADIR [DATALOGDIR]`: prints a summary of a ZooKeeper data directory
//! (snapshots, log segments, zxid ranges, node and session counts, CRC verdicts, and the Zab
//! epoch files `acceptedEpoch` and `currentEpoch` when present). Exits with 1 if any file is
//! damaged and 2 on usage or IO errors.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (data_dir, data_log_dir) = match args.as_slice() {
        [dir] => (PathBuf::from(dir), PathBuf::from(dir)),
        [dir, log_dir] => (PathBuf::from(dir), PathBuf::from(log_dir)),
        _ => {
            eprintln!("usage: zk-storage-inspect DATADIR [DATALOGDIR]");
            return ExitCode::from(2);
        }
    };
    match zk_storage::inspect(&data_dir, &data_log_dir) {
        Ok(report) => {
            println!("{report}");
            if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("zk-storage-inspect: {error}");
            ExitCode::from(2)
        }
    }
}
