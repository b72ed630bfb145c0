//! baresip driven as a phone: its output is collected as it comes, so a test can wait for a
//! line, send commands once it is ready, and show what it printed when something goes wrong.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::AtomicU16;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::interop::port_block;

/// A port for baresip's `sip_listen`: it binds UDP and TCP on it and TLS on the next one, so all
/// three must be free. The ports come from 15000-17999, below the ephemeral range (an outgoing
/// connection cannot take one between the check and baresip's bind) and apart from the ranges
/// other tests use; each call hands out a pair no earlier call in this process had.
pub fn sip_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    port_block(&NEXT, 15_000, 1_500, 2, |p| {
        std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok()
            && (p..p + 2).all(|q| std::net::TcpListener::bind(("127.0.0.1", q)).is_ok())
    })
}

/// A running baresip; it quits by itself after 90 s and is killed when dropped, so a hung phone
/// cannot hold a test or outlive it.
pub struct Phone {
    /// `None` once [`Phone::quit`] took it.
    child: Option<Child>,
    /// Lines from the reader threads, not yet in `output`.
    lines: Receiver<String>,
    output: String,
    readers: Vec<JoinHandle<()>>,
}

impl Phone {
    /// Starts `baresip` with the configuration in `dir` (SIP trace on) and waits until it says
    /// it is ready for commands; panics with its output if it exits or stalls first.
    pub async fn start(baresip: &str, dir: &Path) -> Phone {
        let mut child = Command::new(baresip)
            .args(["-s", "-t", "90", "-f", &dir.display().to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("baresip starts");
        let (tx, lines) = channel();
        let readers = vec![
            collect(child.stdout.take().expect("stdout"), tx.clone()),
            collect(child.stderr.take().expect("stderr"), tx),
        ];
        let mut phone = Phone {
            child: Some(child),
            lines,
            output: String::new(),
            readers,
        };
        phone
            .wait_for("baresip is ready", Duration::from_secs(20))
            .await;
        phone
    }

    /// Everything baresip printed so far.
    pub fn trace(&mut self) -> &str {
        while let Ok(line) = self.lines.try_recv() {
            self.output.push_str(&line);
        }
        &self.output
    }

    /// The last `n` lines baresip printed, for failure messages.
    pub fn tail(&mut self, n: usize) -> String {
        tail(self.trace(), n)
    }

    /// Waits until baresip printed `needle`; panics with its output when it exits or `limit`
    /// passes first.
    pub async fn wait_for(&mut self, needle: &str, limit: Duration) {
        let step = Duration::from_millis(50);
        let mut waited = Duration::ZERO;
        loop {
            // Whether it ended is read before its output, so its last lines are seen.
            let exited = self.readers.iter().all(|r| r.is_finished());
            if self.trace().contains(needle) {
                return;
            }
            if exited || waited > limit {
                panic!(
                    "baresip {} before printing {needle:?}:\n{}",
                    if exited { "ended" } else { "stalled" },
                    self.tail(60)
                );
            }
            tokio::time::sleep(step).await;
            waited += step;
        }
    }

    /// Sends one command line (e.g. `/dial sip:…`) to baresip's console.
    pub fn command(&mut self, line: &str) {
        let child = self.child.as_mut().expect("baresip running");
        let stdin = child.stdin.as_mut().expect("stdin");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .expect("baresip takes commands");
    }

    /// Quits baresip and returns how it ended with everything it printed.
    pub async fn quit(mut self) -> (ExitStatus, String) {
        self.command("/quit");
        let mut child = self.child.take().expect("baresip running");
        let readers = std::mem::take(&mut self.readers);
        let status = tokio::task::spawn_blocking(move || {
            let status = child.wait().expect("baresip runs");
            for reader in readers {
                reader.join().ok();
            }
            status
        })
        .await
        .unwrap();
        (status, self.trace().to_owned())
    }
}

impl Drop for Phone {
    fn drop(&mut self) {
        // A test that panics must not leave its phone behind.
        if let Some(child) = self.child.as_mut() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

/// Sends every line `from` yields to `into`, until either ends.
fn collect(from: impl Read + Send + 'static, into: Sender<String>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut lines = BufReader::new(from);
        let mut line = Vec::new();
        while lines.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            if into
                .send(String::from_utf8_lossy(&line).into_owned())
                .is_err()
            {
                return;
            }
            line.clear();
        }
    })
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
