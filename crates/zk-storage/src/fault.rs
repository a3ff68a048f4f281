//! A seeded, fault-injecting, in-memory [`FileSystem`] for tests.
//!
//! Every file keeps two contents: what the process sees and what survived the last
//! `sync_data` (what a power cut would leave). Directory entries are likewise durable only after
//! `sync_dir`. [`FaultyFileSystem::crash_image`] throws away everything not durable, keeping a random
//! (seeded) prefix of each file's unsynced tail, possibly with zeroed holes, as a torn write
//! would. [`Faults`] makes syncs fail, writes stop short, or the disk fill up, and the damage
//! helpers flip bits, truncate or zero files behind the storage code's back.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::fs::{FileSystem, WritableFile};
use crate::rng::SplitMix64;

/// Faults to inject; all off by default.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// The number of successful `sync_data`/`sync_dir` calls after which every sync fails (EIO).
    pub fail_sync_after: Option<u64>,
    /// The number of successful `write_at` calls after which the next write stores only a
    /// random prefix of its buffer and fails (EIO); later writes succeed again.
    pub short_write_after: Option<u64>,
    /// The disk's capacity: bytes beyond it fail with `StorageFull` (ENOSPC) after writing what
    /// fits.
    pub capacity_bytes: Option<u64>,
}

#[derive(Clone, Debug, Default)]
struct Inode {
    data: Vec<u8>,
    durable: Vec<u8>,
}

#[derive(Debug)]
struct State {
    names: BTreeMap<PathBuf, u64>,
    durable_names: BTreeMap<PathBuf, u64>,
    dirs: BTreeSet<PathBuf>,
    inodes: BTreeMap<u64, Inode>,
    next_inode: u64,
    faults: Faults,
    syncs: u64,
    writes: u64,
    rng: SplitMix64,
}

impl State {
    fn used_bytes(&self) -> u64 {
        self.inodes
            .values()
            .map(|inode| inode.data.len() as u64)
            .sum()
    }
}

/// Holds syncs back while the test looks at what is (not yet) acknowledged.
#[derive(Debug, Default)]
struct Gate {
    held: bool,
    waiting: usize,
}

/// The in-memory, fault-injecting file system. Clones share the same disk.
#[derive(Clone, Debug)]
pub struct FaultyFileSystem {
    state: Arc<Mutex<State>>,
    gate: Arc<(Mutex<Gate>, Condvar)>,
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{} not found", path.display()),
    )
}

fn parent(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

impl FaultyFileSystem {
    /// An empty disk whose random choices derive from `seed`.
    pub fn new(seed: u64) -> FaultyFileSystem {
        FaultyFileSystem {
            state: Arc::new(Mutex::new(State {
                names: BTreeMap::new(),
                durable_names: BTreeMap::new(),
                dirs: BTreeSet::new(),
                inodes: BTreeMap::new(),
                next_inode: 1,
                faults: Faults::default(),
                syncs: 0,
                writes: 0,
                rng: SplitMix64::new(seed),
            })),
            gate: Arc::default(),
        }
    }

    fn gate(&self) -> MutexGuard<'_, Gate> {
        self.gate
            .0
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Makes every sync (file or directory) wait until [`FaultyFileSystem::release_syncs`].
    pub fn hold_syncs(&self) {
        self.gate().held = true;
    }

    /// Lets held syncs (and later ones) proceed.
    pub fn release_syncs(&self) {
        self.gate().held = false;
        self.gate.1.notify_all();
    }

    /// Blocks until `count` syncs are held.
    pub fn wait_for_held_syncs(&self, count: usize) {
        let mut gate = self.gate();
        while gate.waiting < count {
            gate = self
                .gate
                .1
                .wait(gate)
                .unwrap_or_else(|poison| poison.into_inner());
        }
    }

    fn pass_gate(&self) {
        let mut gate = self.gate();
        gate.waiting += 1;
        self.gate.1.notify_all();
        while gate.held {
            gate = self
                .gate
                .1
                .wait(gate)
                .unwrap_or_else(|poison| poison.into_inner());
        }
        gate.waiting -= 1;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the disk from the others.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Replaces the faults to inject; the sync and write counters restart at zero.
    pub fn set_faults(&self, faults: Faults) {
        let mut state = self.lock();
        state.faults = faults;
        state.syncs = 0;
        state.writes = 0;
    }

    /// A power cut, as a new disk: every file keeps its synced content, and each 512-byte sector
    /// written since the last sync independently survives or not (a torn write); a file that
    /// grew keeps a random part of its growth. Directory entries not made durable by `sync_dir`
    /// are undone. The returned disk has no faults and its own generator seeded with `seed`; this
    /// disk is unchanged, so the crashed process can go on writing to it harmlessly.
    pub fn crash_image(&self, seed: u64) -> FaultyFileSystem {
        let mut state = self.lock();
        let state = &mut *state;
        let mut rng = SplitMix64::new(seed ^ state.rng.next_u64());
        let names = state.durable_names.clone();
        let mut inodes = BTreeMap::new();
        for id in names.values() {
            if let Some(inode) = state.inodes.get(id) {
                let survived = torn_mix(&mut rng, &inode.durable, &inode.data);
                inodes.insert(
                    *id,
                    Inode {
                        data: survived.clone(),
                        durable: survived,
                    },
                );
            }
        }
        FaultyFileSystem {
            state: Arc::new(Mutex::new(State {
                names: names.clone(),
                durable_names: names,
                dirs: state.dirs.clone(),
                inodes,
                next_inode: state.next_inode,
                faults: Faults::default(),
                syncs: 0,
                writes: 0,
                rng: SplitMix64::new(seed),
            })),
            gate: Arc::default(),
        }
    }

    /// The bytes all files take (the measure [`Faults::capacity_bytes`] limits).
    pub fn used_bytes(&self) -> u64 {
        self.lock().used_bytes()
    }

    /// The number of successful syncs (file and directory) since the faults were last set.
    pub fn syncs(&self) -> u64 {
        self.lock().syncs
    }

    /// The content of `path` as the process sees it.
    pub fn contents(&self, path: &Path) -> Option<Vec<u8>> {
        let state = self.lock();
        let id = state.names.get(path)?;
        state.inodes.get(id).map(|inode| inode.data.clone())
    }

    /// Damage: replaces the content of `path` (durably), creating the file if needed.
    pub fn put(&self, path: &Path, bytes: &[u8]) {
        let mut state = self.lock();
        let state = &mut *state;
        state.dirs.insert(parent(path));
        let id = match state.names.get(path) {
            Some(&id) => id,
            None => {
                let id = state.next_inode;
                state.next_inode += 1;
                state.names.insert(path.to_path_buf(), id);
                state.durable_names.insert(path.to_path_buf(), id);
                id
            }
        };
        state.inodes.insert(
            id,
            Inode {
                data: bytes.to_vec(),
                durable: bytes.to_vec(),
            },
        );
    }

    /// Damage: flips bit `bit` (0..8) of byte `offset` of `path`; false if there is no such byte.
    pub fn flip_bit(&self, path: &Path, offset: u64, bit: u8) -> bool {
        self.edit(path, |data| match data.get_mut(offset as usize) {
            Some(byte) => {
                *byte ^= 1 << (bit % 8);
                true
            }
            None => false,
        })
    }

    /// Damage: truncates `path` to `len` bytes.
    pub fn truncate(&self, path: &Path, len: u64) -> bool {
        self.edit(path, |data| {
            data.truncate(len as usize);
            true
        })
    }

    /// Damage: zeroes `len` bytes of `path` from `offset` (clamped to the file).
    pub fn zero(&self, path: &Path, offset: u64, len: u64) -> bool {
        self.edit(path, |data| {
            let start = (offset as usize).min(data.len());
            let end = (offset.saturating_add(len) as usize).min(data.len());
            data[start..end].fill(0);
            true
        })
    }

    fn edit(&self, path: &Path, change: impl FnOnce(&mut Vec<u8>) -> bool) -> bool {
        let mut state = self.lock();
        let Some(&id) = state.names.get(path) else {
            return false;
        };
        let Some(inode) = state.inodes.get_mut(&id) else {
            return false;
        };
        let changed = change(&mut inode.data);
        inode.durable = inode.data.clone();
        changed
    }

    fn sync_fault(state: &mut State) -> io::Result<()> {
        if let Some(limit) = state.faults.fail_sync_after {
            if state.syncs >= limit {
                return Err(io::Error::other("injected fsync failure"));
            }
        }
        state.syncs += 1;
        Ok(())
    }
}

/// The size of the unit a torn write keeps or loses.
const SECTOR_BYTES: usize = 512;

/// What survives a crash of a file whose synced content is `durable` and current content `data`.
fn torn_mix(rng: &mut SplitMix64, durable: &[u8], data: &[u8]) -> Vec<u8> {
    let len = if data.len() > durable.len() {
        durable.len() + rng.below((data.len() - durable.len()) as u64 + 1) as usize
    } else {
        data.len()
    };
    let mut survived = vec![0; len];
    for start in (0..len).step_by(SECTOR_BYTES) {
        let end = (start + SECTOR_BYTES).min(len);
        let new = &data[start..end];
        let old_end = end.min(durable.len());
        let old = durable.get(start..old_end).unwrap_or(&[]);
        let sector = &mut survived[start..end];
        if new == old || rng.below(2) == 0 {
            sector.copy_from_slice(new);
        } else {
            sector[..old.len()].copy_from_slice(old);
        }
    }
    survived
}

#[derive(Debug)]
struct FaultyFile {
    fs: FaultyFileSystem,
    inode: u64,
}

impl WritableFile for FaultyFile {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        let mut state = self.fs.lock();
        let state = &mut *state;
        let mut len = buf.len();
        let mut error = None;
        if let Some(limit) = state.faults.short_write_after {
            if state.writes == limit {
                len = state.rng.below(buf.len() as u64) as usize;
                error = Some(io::Error::other("injected short write"));
            }
        }
        state.writes += 1;
        let current = state.inodes.get(&self.inode).map_or(0, |i| i.data.len()) as u64;
        let end = offset + len as u64;
        if let Some(capacity) = state.faults.capacity_bytes {
            let used = state.used_bytes();
            let growth = end.saturating_sub(current);
            if growth > 0 && used + growth > capacity {
                let room = capacity.saturating_sub(used) + current.saturating_sub(offset);
                len = len.min(room as usize);
                error = Some(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "injected ENOSPC",
                ));
            }
        }
        let inode = state.inodes.entry(self.inode).or_default();
        let end = offset as usize + len;
        if inode.data.len() < end {
            inode.data.resize(end, 0);
        }
        inode.data[offset as usize..end].copy_from_slice(&buf[..len]);
        match error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        let mut state = self.fs.lock();
        let state = &mut *state;
        if let Some(capacity) = state.faults.capacity_bytes {
            let current = state.inodes.get(&self.inode).map_or(0, |i| i.data.len()) as u64;
            if state.used_bytes() + len.saturating_sub(current) > capacity {
                return Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "injected ENOSPC",
                ));
            }
        }
        state
            .inodes
            .entry(self.inode)
            .or_default()
            .data
            .resize(len as usize, 0);
        Ok(())
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.fs.pass_gate();
        let mut state = self.fs.lock();
        let state = &mut *state;
        FaultyFileSystem::sync_fault(state)?;
        if let Some(inode) = state.inodes.get_mut(&self.inode) {
            inode.durable = inode.data.clone();
        }
        Ok(())
    }
}

impl FileSystem for FaultyFileSystem {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.lock();
        for ancestor in dir.ancestors() {
            state.dirs.insert(ancestor.to_path_buf());
        }
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let state = self.lock();
        if !state.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        Ok(state
            .names
            .keys()
            .filter(|path| path.parent() == Some(dir))
            .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
            .collect())
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        let mut state = self.lock();
        if !state.dirs.contains(&parent(path)) {
            return Err(not_found(&parent(path)));
        }
        let id = state.next_inode;
        state.next_inode += 1;
        state.inodes.insert(id, Inode::default());
        if let Some(old) = state.names.insert(path.to_path_buf(), id) {
            if !state.durable_names.values().any(|&v| v == old) {
                state.inodes.remove(&old);
            }
        }
        Ok(Box::new(FaultyFile {
            fs: self.clone(),
            inode: id,
        }))
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        let state = self.lock();
        let id = *state.names.get(path).ok_or_else(|| not_found(path))?;
        Ok(Box::new(FaultyFile {
            fs: self.clone(),
            inode: id,
        }))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.contents(path).ok_or_else(|| not_found(path))
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        let state = self.lock();
        let id = state.names.get(path).ok_or_else(|| not_found(path))?;
        Ok(state
            .inodes
            .get(id)
            .map_or(0, |inode| inode.data.len() as u64))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.lock();
        let id = state.names.remove(from).ok_or_else(|| not_found(from))?;
        state.names.insert(to.to_path_buf(), id);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut state = self.lock();
        state.names.remove(path).ok_or_else(|| not_found(path))?;
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.pass_gate();
        let mut state = self.lock();
        let state = &mut *state;
        FaultyFileSystem::sync_fault(state)?;
        state
            .durable_names
            .retain(|path, _| path.parent() != Some(dir));
        for (path, id) in &state.names {
            if path.parent() == Some(dir) {
                state.durable_names.insert(path.clone(), *id);
            }
        }
        let live: BTreeSet<u64> = state
            .names
            .values()
            .chain(state.durable_names.values())
            .copied()
            .collect();
        state.inodes.retain(|id, _| live.contains(id));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        PathBuf::from("/d")
    }

    #[test]
    fn crash_keeps_synced_data_and_durable_names_only() {
        let fs = FaultyFileSystem::new(1);
        fs.create_dir_all(&dir()).expect("dir");
        let mut synced = fs.create(&dir().join("a")).expect("create");
        synced.write_at(0, &[1; 2000]).expect("write");
        synced.sync_data().expect("sync");
        fs.sync_dir(&dir()).expect("sync dir");
        synced.write_at(2000, &[2; 3000]).expect("write");
        let mut unnamed = fs.create(&dir().join("b")).expect("create");
        unnamed.write_at(0, &[3; 10]).expect("write");
        unnamed.sync_data().expect("sync");
        for seed in 0..20 {
            let image = fs.crash_image(seed);
            let a = image.contents(&dir().join("a")).expect("a is durable");
            assert!(a.len() >= 2000 && a.len() <= 5000);
            assert_eq!(&a[..2000], &[1; 2000][..]);
            assert!(a[2000..].iter().all(|&b| b == 0 || b == 2));
            assert!(
                image.contents(&dir().join("b")).is_none(),
                "b was never named durably"
            );
        }
    }

    #[test]
    fn failing_sync_and_full_disk_report_errors() {
        let fs = FaultyFileSystem::new(2);
        fs.create_dir_all(&dir()).expect("dir");
        let mut file = fs.create(&dir().join("a")).expect("create");
        fs.set_faults(Faults {
            fail_sync_after: Some(1),
            capacity_bytes: Some(100),
            ..Faults::default()
        });
        file.write_at(0, &[1; 60]).expect("fits");
        file.sync_data().expect("first sync");
        assert!(file.sync_data().is_err());
        let error = file.write_at(60, &[1; 60]).expect_err("does not fit");
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
        assert_eq!(fs.contents(&dir().join("a")).map(|c| c.len()), Some(100));
    }
}
