//! The call record writer (shell): a blocking thread that appends records to the configured
//! file, fed through a bounded channel so the signaling task never waits on the disk.
//!
//! [`RecordSink::submit`] `try_send`s the record (the writer serializes it); when the queue is full the
//! record is dropped, counted (`sbc_call_records_total{result="dropped"}`) and logged. The writer
//! batches what is queued, flushes when the queue is empty, and rotates by size: before a line
//! would take the file past `max_file_bytes`, `calls.jsonl.N-1` becomes `.N`, …, the file becomes
//! `.1` and a new file is started; `keep_files` rotated files are kept. The file is opened in
//! append mode, so an external `logrotate` with `copytruncate` works too, and
//! [`RecordSink::reopen`] (SIGHUP) reopens the path after an external rename.

use crate::app::Shutdown;
use crate::b2bua::cdr::CallRecord;
use crate::config::RecordsConfig;
use crate::metrics::Metrics;
use crate::metrics::ops::RecordResult;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc::{self, error::TrySendError};
use tracing::{error, warn};

/// What the writer thread is asked to do.
#[derive(Debug)]
enum Job {
    /// Append one record (serialized by the writer, off the signaling task).
    Record(Box<CallRecord>),
    /// Reopen the file at its path (after an external rotation).
    Reopen,
}

/// The signaling task's handle on the writer. Dropping every clone stops the writer once it has
/// written what is queued.
#[derive(Debug, Clone)]
pub struct RecordSink {
    tx: mpsc::Sender<Job>,
    metrics: Arc<Metrics>,
}

impl RecordSink {
    /// Queues `record`; never waits. A full queue drops the record, counted and logged.
    pub fn submit(&self, record: CallRecord) {
        let id = record.id;
        match self.tx.try_send(Job::Record(Box::new(record))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.metrics.call_record(RecordResult::Dropped);
                warn!(call = id, "call record queue full, record dropped");
            }
            Err(TrySendError::Closed(_)) => {
                self.metrics.call_record(RecordResult::Failed);
                error!(call = id, "call record writer stopped, record lost");
            }
        }
    }

    /// Asks the writer to reopen the file (SIGHUP); skipped when the queue is full.
    pub fn reopen(&self) {
        let _ = self.tx.try_send(Job::Reopen);
    }
}

/// Opens the record file and starts the writer thread; `None` when `[records] path` is unset.
/// The writer holds `shutdown` until it has written everything queued, so the process's drain
/// waits for the last records.
pub fn start(
    config: &RecordsConfig,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
) -> io::Result<Option<RecordSink>> {
    let Some(path) = &config.path else {
        return Ok(None);
    };
    let file = RotatingFile::open(path.clone(), config.max_file_bytes, config.keep_files)?;
    let (tx, rx) = mpsc::channel(config.queue);
    let writer_metrics = Arc::clone(&metrics);
    std::thread::Builder::new()
        .name("sbc-records".into())
        .spawn(move || {
            write_loop(rx, file, &writer_metrics);
            drop(shutdown);
        })?;
    Ok(Some(RecordSink { tx, metrics }))
}

/// Writes jobs until every sender is gone.
fn write_loop(mut rx: mpsc::Receiver<Job>, mut file: RotatingFile, metrics: &Metrics) {
    while let Some(job) = rx.blocking_recv() {
        let mut next = Some(job);
        while let Some(job) = next.take() {
            match job {
                Job::Record(record) => match file.append(record.to_line().as_bytes()) {
                    Ok(()) => metrics.call_record(RecordResult::Written),
                    Err(e) => {
                        metrics.call_record(RecordResult::Failed);
                        error!(error = %e, path = %file.path.display(), "cannot write call record");
                    }
                },
                Job::Reopen => {
                    if let Err(e) = file.reopen() {
                        error!(error = %e, path = %file.path.display(), "cannot reopen call record file");
                    }
                }
            }
            next = rx.try_recv().ok();
        }
        if let Err(e) = file.flush() {
            error!(error = %e, path = %file.path.display(), "cannot flush call records");
        }
    }
    let _ = file.flush();
}

/// An append-only file rotated by size.
struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    out: BufWriter<File>,
    size: u64,
}

impl RotatingFile {
    fn open(path: PathBuf, max_bytes: u64, keep: usize) -> io::Result<Self> {
        let (out, size) = open_append(&path)?;
        Ok(Self {
            path,
            max_bytes,
            keep,
            out,
            size,
        })
    }

    fn append(&mut self, line: &[u8]) -> io::Result<()> {
        let len = line.len() as u64;
        if self.size > 0 && self.size + len > self.max_bytes {
            self.rotate()?;
        }
        self.out.write_all(line)?;
        self.size += len;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// `path.(keep-1)` → `path.keep`, …, `path` → `path.1`, then a fresh `path`.
    fn rotate(&mut self) -> io::Result<()> {
        self.out.flush()?;
        for n in (1..self.keep).rev() {
            rename_if_present(&numbered(&self.path, n), &numbered(&self.path, n + 1))?;
        }
        rename_if_present(&self.path, &numbered(&self.path, 1))?;
        self.reopen()
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.out.flush()?;
        let (out, size) = open_append(&self.path)?;
        self.out = out;
        self.size = size;
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<(BufWriter<File>, u64)> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let size = file.metadata()?.len();
    Ok((BufWriter::with_capacity(64 * 1024, file), size))
}

fn numbered(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn rename_if_present(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sbc-cdr-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn record(id: u64) -> CallRecord {
        #[allow(clippy::disallowed_methods)] // the test's one clock read
        let now = std::time::Instant::now();
        let clock = crate::b2bua::cdr::WallClock::new(std::time::UNIX_EPOCH, now);
        crate::b2bua::cdr::CallDraft::new(id, now, Default::default()).finish(
            crate::b2bua::call::EndReason::Completed,
            Some(200),
            now,
            &clock,
        )
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let metrics = Arc::new(Metrics::new());
        let (tx, mut rx) = mpsc::channel(2);
        let sink = RecordSink {
            tx,
            metrics: Arc::clone(&metrics),
        };
        for id in 0..5 {
            sink.submit(record(id));
        }
        let text = metrics.encode().unwrap();
        assert!(
            text.contains("sbc_call_records_total{result=\"dropped\"} 3"),
            "{text}"
        );
        assert!(matches!(rx.try_recv(), Ok(Job::Record(r)) if r.id == 0));
        drop(rx);
        sink.submit(record(9));
        let text = metrics.encode().unwrap();
        assert!(
            text.contains("sbc_call_records_total{result=\"failed\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn rotates_by_size_and_keeps_n_files() {
        let dir = temp_dir("rotate");
        let path = dir.join("calls.jsonl");
        let mut file = RotatingFile::open(path.clone(), 100, 2).unwrap();
        for i in 0..10 {
            // 40 bytes per line: two lines per file.
            file.append(format!("{i:039}\n").as_bytes()).unwrap();
        }
        file.flush().unwrap();
        let read = |p: &Path| fs::read_to_string(p).unwrap();
        assert_eq!(read(&path).lines().count(), 2);
        assert!(read(&path).starts_with(&format!("{:039}", 8)));
        assert!(read(&numbered(&path, 1)).starts_with(&format!("{:039}", 6)));
        assert!(read(&numbered(&path, 2)).starts_with(&format!("{:039}", 4)));
        assert!(!numbered(&path, 3).exists());
        for p in [path.clone(), numbered(&path, 1), numbered(&path, 2)] {
            assert!(fs::metadata(p).unwrap().len() <= 100);
        }
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn appends_to_an_existing_file_and_counts_its_size() {
        let dir = temp_dir("append");
        let path = dir.join("calls.jsonl");
        fs::write(&path, "x".repeat(90)).unwrap();
        let mut file = RotatingFile::open(path.clone(), 100, 1).unwrap();
        file.append(b"0123456789012345\n").unwrap();
        file.flush().unwrap();
        assert_eq!(fs::read_to_string(numbered(&path, 1)).unwrap().len(), 90);
        assert_eq!(fs::read_to_string(&path).unwrap(), "0123456789012345\n");
        let _ = fs::remove_dir_all(dir);
    }
}
