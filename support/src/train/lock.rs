//! One writer per run folder. Whoever trains a run (`fit`, `resume`, `fit_or_resume`,
//! `cnn train`, `cnn resume`, a sweep's task) holds an exclusive lock on the folder's
//! `.lock` file for as long as it writes, so that a second writer stops at once with an
//! error naming the first, instead of mixing its epochs, checkpoint and event files into
//! the first's.
//!
//! The lock is the kernel's `flock(2)` on an open file ([`File::try_lock`]), so it goes
//! with its process however the process ends (return, panic, Ctrl-C, `kill -9`, out of
//! memory): a stale lock never blocks a resume. The holder's pid, host and start time go
//! to `.lock-holder` beside it, for the error message only. The `.lock` file itself is
//! never removed: a writer that removed it could let the next two writers lock two
//! different files.
//!
//! On the shared file systems of clusters:
//! - NFS: Linux clients emulate `flock` with a POSIX lock on the whole file, held by the
//!   server, so the lock holds across nodes (the file is opened for writing, which that
//!   write lock needs). When a node dies, an NFSv4 server frees its locks once the node's
//!   lease runs out (90 s by default); an NFSv3 server (NLM) only when the node boots
//!   again, and until then the error names the dead host. Mounted with `local_lock=flock`
//!   or `local_lock=all` (or NFSv3's `nolock`), the lock holds within one node only.
//! - Lustre: needs the `flock` mount option. With `localflock` the lock holds within one
//!   node only; with `noflock` the lock call fails.
//!
//! A lock call the file system refuses (ENOLCK, EOPNOTSUPP, ENOSYS) is an error that
//! names the missing mount option or service, never a silent pass.
//!
//! Taking a folder's lock again in the thread that holds it shares the held lock, so that
//! the command line can hold a run's lock across `fit` and the test after it.

use super::checkpoint::{create_run_dir, unix_secs};
use super::timing::human_seconds;
use crate::atomic;
use anyhow::{Context, Result, anyhow};
use std::cell::RefCell;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};

/// The file in a run folder whose kernel lock is the run's one writer.
pub(crate) const LOCK_FILE: &str = ".lock";
/// Who holds the lock (pid, host, start), for the message a second writer gets.
pub(crate) const HOLDER_FILE: &str = ".lock-holder";

/// A run folder held for writing; the lock goes when the last handle to it is dropped.
/// Handles are shared within one thread (see the module doc), so they are not `Send`.
pub struct RunLock {
    held: Rc<Held>,
}

/// The open, locked `.lock` file of a canonical run folder.
struct Held {
    dir: PathBuf,
    _file: File,
}

thread_local! {
    /// The run folders this thread holds, so that taking one again shares it.
    static HELD: RefCell<Vec<Weak<Held>>> = const { RefCell::new(Vec::new()) };
}

impl RunLock {
    /// Creates the run folder `dir` if needed and locks it, or fails at once with an
    /// error naming the process that holds it.
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        create_run_dir(dir)?;
        let dir = std::fs::canonicalize(dir)
            .with_context(|| format!("cannot resolve the run folder {}", dir.display()))?;
        let shared =
            HELD.with_borrow(|held| held.iter().filter_map(Weak::upgrade).find(|h| h.dir == dir));
        if let Some(held) = shared {
            return Ok(RunLock { held });
        }
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the run's lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(in_use(&dir)),
            Err(TryLockError::Error(err)) => return Err(not_lockable(&path, err)),
        }
        atomic::write(&dir.join(HOLDER_FILE), Holder::me().to_string().as_bytes())?;
        let held = Rc::new(Held { dir, _file: file });
        HELD.with_borrow_mut(|h| {
            h.retain(|w| w.strong_count() > 0);
            h.push(Rc::downgrade(&held));
        });
        Ok(RunLock { held })
    }

    /// The run folder, as the file system resolves it.
    pub fn dir(&self) -> &Path {
        &self.held.dir
    }

    /// What the locked folder holds already, as a message names it: `4 epochs (fmp-tiny on
    /// fashion-mnist)`, or `2 of 4 epochs (...)` for an unfinished run; `None` when it
    /// holds none of a run's files. Asked while holding the lock, the answer stays true
    /// until the lock is let go.
    pub fn existing_run(&self) -> Option<String> {
        super::checkpoint::describe_run(self.dir())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // The file closes after this, so the lock is still held: no later holder's record
        // can be removed here.
        let _ = std::fs::remove_file(self.dir.join(HOLDER_FILE));
    }
}

/// The process that holds a run's lock, as `.lock-holder` records it.
#[derive(Debug, PartialEq)]
struct Holder {
    pid: u32,
    host: String,
    /// Seconds since 1970 when it took the lock.
    since: u64,
}

impl Holder {
    fn me() -> Holder {
        Holder {
            pid: std::process::id(),
            host: host_name(),
            since: unix_secs(),
        }
    }

    /// The holder recorded in `dir`, if it has written its record yet.
    fn read(dir: &Path) -> Option<Holder> {
        let text = std::fs::read_to_string(dir.join(HOLDER_FILE)).ok()?;
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
                .map(str::to_string)
        };
        Some(Holder {
            pid: field("pid")?.parse().ok()?,
            host: field("host")?,
            since: field("since")?.parse().ok()?,
        })
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "pid {}\nhost {}\nsince {}",
            self.pid, self.host, self.since
        )
    }
}

/// The error for a run folder whose lock another writer holds.
fn in_use(dir: &Path) -> anyhow::Error {
    let holder = Holder::read(dir);
    let dir = dir.display();
    let Some(h) = holder else {
        return anyhow!(
            "the run {dir} is being trained by another process, which has not yet recorded \
             which it is in its {HOLDER_FILE}; a run has one writer at a time, so wait for \
             it to end or choose another run name"
        );
    };
    let how_long = human_seconds(unix_secs().saturating_sub(h.since) as f64);
    if h.pid == std::process::id() && h.host == host_name() {
        return anyhow!(
            "the run {dir} is being trained by another thread of this process (pid {}, for \
             {how_long}); a run has one writer at a time, so wait for that training to end \
             or choose another run name",
            h.pid
        );
    }
    anyhow!(
        "the run {dir} is being trained by process {} on host {} (for {how_long}); a run \
         has one writer at a time. Wait for that process to end, stop it (`kill {}` on {}), \
         or choose another run name. The lock goes with its process, so once it is gone \
         (on NFS, after the server notices a dead node) the run can be continued",
        h.pid,
        h.host,
        h.pid,
        h.host
    )
}

/// The error for a lock call that failed: a file system without locks is named as such,
/// with the mount option or service it lacks.
fn not_lockable(path: &Path, err: std::io::Error) -> anyhow::Error {
    let unsupported = err.raw_os_error().is_some_and(|e| {
        e == libc::ENOLCK || e == libc::EOPNOTSUPP || e == libc::ENOTSUP || e == libc::ENOSYS
    });
    if !unsupported {
        return anyhow!(err).context(format!("cannot lock {}", path.display()));
    }
    anyhow!(
        "cannot lock {} ({err}): its file system does not support the file locks that keep \
         a second training out of a run. On Lustre, mount it with the `flock` option (not \
         `localflock` or `noflock`); on NFS, the lock service must run (rpc.statd on \
         NFSv3). Or keep runs on a file system with locks: set CNN_RUNS_DIR, or give \
         --run-name a path there",
        path.display()
    )
}

/// This machine's name, as `hostname` prints it.
fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if ok && end > 0 {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "an unnamed host".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holder_record_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let me = Holder::me();
        std::fs::write(dir.path().join(HOLDER_FILE), me.to_string()).unwrap();
        assert_eq!(Holder::read(dir.path()), Some(me));
    }

    #[test]
    fn taking_a_held_run_again_in_the_same_thread_shares_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path()).unwrap();
        let second = RunLock::acquire(dir.path()).unwrap();
        assert!(Rc::ptr_eq(&first.held, &second.held));
        drop(first);
        assert!(dir.path().join(HOLDER_FILE).exists(), "released too early");
        drop(second);
        assert!(
            !dir.path().join(HOLDER_FILE).exists(),
            "the record outlived the lock"
        );
    }

    #[test]
    fn another_thread_is_refused_while_the_run_is_held_and_let_in_after() {
        let dir = tempfile::tempdir().unwrap();
        let held = RunLock::acquire(dir.path()).unwrap();
        let path = dir.path().to_path_buf();
        let err = std::thread::spawn(move || RunLock::acquire(&path).err().map(|e| e.to_string()))
            .join()
            .unwrap()
            .expect("a second writer got the lock");
        assert!(
            err.contains("another thread of this process")
                && err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(held);
        let path = dir.path().to_path_buf();
        let again = std::thread::spawn(move || RunLock::acquire(&path).is_ok());
        assert!(again.join().unwrap(), "the lock outlived its holder");
    }

    #[test]
    fn a_file_system_without_locks_is_an_error_naming_the_mount_option() {
        for errno in [libc::ENOLCK, libc::EOPNOTSUPP, libc::ENOSYS] {
            let err = std::io::Error::from_raw_os_error(errno);
            let msg = not_lockable(Path::new("/lustre/runs/r/.lock"), err).to_string();
            assert!(
                msg.contains("/lustre/runs/r/.lock")
                    && msg.contains("`flock` option")
                    && msg.contains("rpc.statd")
                    && msg.contains("CNN_RUNS_DIR"),
                "{msg}"
            );
        }
    }
}
