//! A network lab for NAT tests (shell): Linux network namespaces joined by veth pairs, with real
//! NAT done by nftables, and programs (the `sbc` binary, SIPp) run inside them with
//! `ip netns exec`. Needs root; without it the tests say so loudly and do nothing — unless
//! `SBC_REQUIRE_INTEROP=1` (CI), where they fail.
//!
//! Adding a case: make a [`Lab`], add namespaces with [`Lab::ns`], join them with
//! [`Lab::link`] (or a bridge: [`Lab::bridge`] + [`Lab::link_to_bridge`]), set routes with
//! [`Lab::route`], put a NAT on a router with [`Lab::masquerade`] or [`Lab::one_to_one`], then
//! start programs with [`Lab::spawn`]. Everything is torn down when the lab is dropped: its
//! namespaces (and with them every interface, rule and process-owned socket inside) are
//! deleted. Names carry a per-lab tag, so labs in concurrent tests never collide.

use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Whether the lab can run: root, with `ip` and `nft`. Otherwise a loud notice (or a panic in
/// CI, where these tests must run).
pub fn available() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let tools = ["ip", "nft", "sipp"].iter().all(|t| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if root && tools {
        return true;
    }
    let why = if root {
        "ip, nft or sipp missing (apt-get install -y iproute2 nftables sip-tester)"
    } else {
        "not root"
    };
    if std::env::var("SBC_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
        panic!("the NAT lab is required (SBC_REQUIRE_INTEROP=1) but cannot run: {why}");
    }
    eprintln!("\n*** NAT lab tests SKIPPED: {why} ***\n");
    false
}

/// Runs `args` (the first is the program), panicking with its output if it fails.
fn run(args: &[&str]) -> Output {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A set of namespaces and links, deleted on drop.
pub struct Lab {
    tag: String,
    namespaces: Vec<String>,
    links: u32,
    children: Vec<Child>,
}

impl Lab {
    /// An empty lab with a fresh tag.
    pub fn new() -> Lab {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Lab {
            tag: format!("l{:x}{n}", std::process::id() % 0xffff),
            namespaces: Vec::new(),
            links: 0,
            children: Vec::new(),
        }
    }

    /// The full name of namespace `name`.
    pub fn name(&self, name: &str) -> String {
        format!("{}{name}", self.tag)
    }

    /// Adds namespace `name` with its loopback up.
    pub fn ns(&mut self, name: &str) {
        let full = self.name(name);
        let _ = Command::new("ip").args(["netns", "del", &full]).output();
        run(&["ip", "netns", "add", &full]);
        self.namespaces.push(full.clone());
        run(&["ip", "-n", &full, "link", "set", "lo", "up"]);
    }

    /// Runs `args` inside namespace `name`, panicking on failure.
    pub fn exec(&self, name: &str, args: &[&str]) -> Output {
        let full = self.name(name);
        let mut all = vec!["ip", "netns", "exec", full.as_str()];
        all.extend_from_slice(args);
        run(&all)
    }

    /// A fresh interface name for this lab (at most 15 characters).
    fn ifname(&mut self) -> String {
        self.links += 1;
        format!("{}v{}", self.tag, self.links)
    }

    /// Joins `a` and `b` with a veth pair; `a_addr`/`b_addr` are `ip/prefix`. Returns the
    /// interface names on each side.
    pub fn link(&mut self, a: &str, a_addr: &str, b: &str, b_addr: &str) -> (String, String) {
        let (ia, ib) = (self.ifname(), self.ifname());
        let (na, nb) = (self.name(a), self.name(b));
        run(&[
            "ip", "link", "add", &ia, "netns", &na, "type", "veth", "peer", "name", &ib, "netns",
            &nb,
        ]);
        run(&["ip", "-n", &na, "addr", "add", a_addr, "dev", &ia]);
        run(&["ip", "-n", &nb, "addr", "add", b_addr, "dev", &ib]);
        run(&["ip", "-n", &na, "link", "set", &ia, "up"]);
        run(&["ip", "-n", &nb, "link", "set", &ib, "up"]);
        (ia, ib)
    }

    /// Adds a bridge `br` in namespace `name` with address `addr` (`ip/prefix`).
    pub fn bridge(&mut self, name: &str, br: &str, addr: &str) {
        let full = self.name(name);
        run(&["ip", "-n", &full, "link", "add", br, "type", "bridge"]);
        run(&["ip", "-n", &full, "addr", "add", addr, "dev", br]);
        run(&["ip", "-n", &full, "link", "set", br, "up"]);
    }

    /// Joins namespace `a` (address `a_addr`) to bridge `br` in namespace `b`.
    pub fn link_to_bridge(&mut self, a: &str, a_addr: &str, b: &str, br: &str) -> String {
        let (ia, ib) = (self.ifname(), self.ifname());
        let (na, nb) = (self.name(a), self.name(b));
        run(&[
            "ip", "link", "add", &ia, "netns", &na, "type", "veth", "peer", "name", &ib, "netns",
            &nb,
        ]);
        run(&["ip", "-n", &na, "addr", "add", a_addr, "dev", &ia]);
        run(&["ip", "-n", &na, "link", "set", &ia, "up"]);
        run(&["ip", "-n", &nb, "link", "set", &ib, "master", br]);
        run(&["ip", "-n", &nb, "link", "set", &ib, "up"]);
        ia
    }

    /// Routes `dest` (`default` or a prefix) via `gateway` in namespace `name`.
    pub fn route(&self, name: &str, dest: &str, gateway: &str) {
        let full = self.name(name);
        run(&["ip", "-n", &full, "route", "add", dest, "via", gateway]);
    }

    /// Runs the nftables commands `commands` in namespace `name`, forwarding on.
    fn nat(&self, name: &str, commands: &[String]) {
        self.exec(name, &["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
        self.exec(name, &["nft", "add table ip nat"]);
        for command in commands {
            self.exec(name, &["nft", command]);
        }
    }

    /// Makes `name` a home router: forwarding on, and source NAT (masquerade) of everything
    /// leaving through `wan` — the port-rewriting NAT of home and office routers.
    pub fn masquerade(&self, name: &str, wan: &str) {
        self.nat(
            name,
            &[
                "add chain ip nat post { type nat hook postrouting priority srcnat ; }".into(),
                format!("add rule ip nat post oifname {wan} masquerade"),
            ],
        );
    }

    /// Makes `name` a 1:1 NAT: `public` (an address on its outside) maps to `private` (a host
    /// behind it) both ways, ports untouched — a cloud provider's elastic IP.
    pub fn one_to_one(&self, name: &str, public: &str, private: &str) {
        self.nat(
            name,
            &[
                "add chain ip nat pre { type nat hook prerouting priority dstnat ; }".into(),
                "add chain ip nat post { type nat hook postrouting priority srcnat ; }".into(),
                format!("add rule ip nat pre ip daddr {public} dnat to {private}"),
                format!("add rule ip nat post ip saddr {private} snat to {public}"),
            ],
        );
    }

    /// Starts `args` inside namespace `name`; the lab kills it on drop if it is still running.
    pub fn spawn(&mut self, name: &str, args: &[&str]) -> usize {
        let full = self.name(name);
        let child = Command::new("ip")
            .args(["netns", "exec", &full])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        self.children.push(child);
        self.children.len() - 1
    }

    /// Waits for program `id` (from [`Lab::spawn`]) and returns its output.
    pub fn wait(&mut self, id: usize) -> Output {
        let child = std::mem::replace(
            &mut self.children[id],
            Command::new("true").spawn().expect("true"),
        );
        child.wait_with_output().expect("wait")
    }

    /// Sends SIGTERM to program `id`.
    pub fn terminate(&self, id: usize) {
        let pid = self.children[id].id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
    }

    /// An HTTP GET of `path` on `addr` from inside namespace `name` (bash's /dev/tcp, so no
    /// client needs installing): the response body, or `None` when nothing answers.
    pub fn http_get(&self, name: &str, addr: &str, path: &str) -> Option<String> {
        let (host, port) = addr.rsplit_once(':').expect("host:port");
        let script = format!(
            "exec 3<>/dev/tcp/{host}/{port} && printf 'GET {path} HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' >&3 && cat <&3"
        );
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name(name), "bash", "-c", &script])
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        Some(
            text.split_once("\r\n\r\n")
                .map(|(_, b)| b.to_owned())
                .unwrap_or(text),
        )
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in self.namespaces.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}
