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
    let tools = ["ip", "nft", "sipp", "conntrack"].into_iter().all(has);
    if root && tools {
        return true;
    }
    let why = if root {
        "ip, nft, sipp or conntrack missing (apt-get install -y iproute2 nftables sip-tester conntrack)"
    } else {
        "not root"
    };
    if std::env::var("SBC_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
        panic!("the NAT lab is required (SBC_REQUIRE_INTEROP=1) but cannot run: {why}");
    }
    eprintln!("\n*** NAT lab tests SKIPPED: {why} ***\n");
    false
}

/// Whether program `tool` is installed; in CI (`SBC_REQUIRE_INTEROP=1`) a missing one panics,
/// elsewhere it says so loudly.
pub fn has(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var("SBC_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
        panic!("{tool} is required (SBC_REQUIRE_INTEROP=1) but not installed");
    }
    if !found {
        eprintln!("\n*** {tool} not installed: NAT lab test SKIPPED ***\n");
    }
    found
}

/// Runs `args` (the first is the program), panicking with its output if it fails.
pub fn run(args: &[&str]) -> Output {
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
    /// The outside interface of each masquerading router.
    wans: Vec<(String, String)>,
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
            wans: Vec::new(),
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
    pub fn masquerade(&mut self, name: &str, wan: &str) {
        self.wans.push((name.to_owned(), wan.to_owned()));
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

    /// Replaces the masquerade of router `name` (see [`Lab::masquerade`]) with one that maps
    /// TCP and UDP sources into the port range `ports` (`"40000-40099"`). Existing mappings stay until
    /// [`Lab::forget`] deletes them; both together make the NAT rebind a flow to a new port.
    pub fn masquerade_to(&self, name: &str, ports: &str) {
        let (_, wan) = self.wans.iter().find(|(n, _)| n == name).expect("a router");
        self.exec(name, &["nft", "flush chain ip nat post"]);
        let rule = format!(
            "add rule ip nat post oifname {wan} meta l4proto {{ tcp, udp }} masquerade to :{ports}"
        );
        self.exec(name, &["nft", &rule]);
        let rest = format!("add rule ip nat post oifname {wan} masquerade");
        self.exec(name, &["nft", &rest]);
    }

    /// The connection-tracking entries (NAT mappings) of namespace `name` matching `filter`
    /// (`conntrack` options such as `-p udp --orig-port-src 6000`), one per line.
    pub fn flows(&self, name: &str, filter: &[&str]) -> String {
        let mut args = vec!["conntrack", "-L"];
        args.extend_from_slice(filter);
        String::from_utf8_lossy(&self.exec(name, &args).stdout).into_owned()
    }

    /// Deletes the connection-tracking entries of namespace `name` matching `filter`: the NAT
    /// forgets those mappings. Returns how many were deleted.
    pub fn forget(&self, name: &str, filter: &[&str]) -> u32 {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name(name), "conntrack", "-D"])
            .args(filter)
            .output()
            .expect("conntrack runs");
        // "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been deleted."
        let text = String::from_utf8_lossy(&out.stderr);
        text.split("): ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("conntrack -D {filter:?}: {text}"))
    }

    /// Counts the packets of namespace `name` that match `filter` (an nftables match such as
    /// `ip daddr 10.0.1.0/24` or `udp dport 6000`) on netfilter hook `hook` (`input`,
    /// `output`) in the counter `counter`; read it with [`Lab::counted`].
    pub fn count(&self, name: &str, counter: &str, hook: &str, filter: &str) {
        self.exec(name, &["nft", "add table ip lab"]);
        let chain = format!("add chain ip lab {hook} {{ type filter hook {hook} priority 0 ; }}");
        self.exec(name, &["nft", &chain]);
        self.exec(name, &["nft", &format!("add counter ip lab {counter}")]);
        let rule = format!("add rule ip lab {hook} {filter} counter name {counter}");
        self.exec(name, &["nft", &rule]);
    }

    /// The packets counted so far by counter `counter` of namespace `name` (see [`Lab::count`]).
    pub fn counted(&self, name: &str, counter: &str) -> u64 {
        let out = self.exec(name, &["nft", &format!("list counter ip lab {counter}")]);
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace()
            .skip_while(|w| *w != "packets")
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("counter {counter}: {text}"))
    }

    /// Routes `prefix` in namespace `name` into a dead end (a veth pair whose other end, in the
    /// same namespace, forwards nothing): packets to it leave the host's stack, so they can be
    /// counted with [`Lab::count`] on `output`, but reach nobody.
    pub fn sink(&self, name: &str, prefix: &str) {
        let link = [
            "ip", "link", "add", "sink", "type", "veth", "peer", "name", "sinkend",
        ];
        self.exec(name, &link);
        self.exec(name, &["ip", "link", "set", "sink", "up"]);
        self.exec(name, &["ip", "link", "set", "sinkend", "up"]);
        self.exec(name, &["ip", "route", "add", prefix, "dev", "sink"]);
    }

    /// Sends each of `packets` as one UDP datagram from namespace `name` to `to` (`ip:port`),
    /// all from one socket (with Perl's core IO::Socket, so no client needs installing).
    pub fn send_udp(&self, name: &str, to: &str, packets: &[Vec<u8>]) {
        let script = "use IO::Socket::INET; my $to = shift; \
            my $s = IO::Socket::INET->new(PeerAddr => $to, Proto => 'udp') or die \"$to: $!\"; \
            $s->send(pack('H*', $_)) or die \"send: $!\" for @ARGV;";
        let hex: Vec<String> = packets
            .iter()
            .map(|p| p.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        let mut args = vec!["perl", "-e", script, to];
        args.extend(hex.iter().map(String::as_str));
        self.exec(name, &args);
    }

    /// Starts `args` inside namespace `name`; the lab kills it on drop if it is still running.
    pub fn spawn(&mut self, name: &str, args: &[&str]) -> usize {
        self.spawn_in(name, std::path::Path::new("."), args)
    }

    /// [`Lab::spawn`] with `dir` as the working directory (SIPp finds a scenario's pcap files
    /// relative to it).
    pub fn spawn_in(&mut self, name: &str, dir: &std::path::Path, args: &[&str]) -> usize {
        let full = self.name(name);
        let child = Command::new("ip")
            .args(["netns", "exec", &full])
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
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
