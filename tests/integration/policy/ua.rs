//! Minimal SIP endpoints for the policy tests (shell, loopback UDP): a fake PBX that rings or
//! answers every INVITE and answers CANCEL and BYE, and a caller that speaks just enough SIP to
//! place, cancel, acknowledge and be hung up on one call per socket.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::UdpSocket;

/// The value of header `name` (first occurrence, case-insensitive) in a message's head.
pub fn header(msg: &str, name: &str) -> Option<String> {
    msg.split("\r\n\r\n")
        .next()?
        .split("\r\n")
        .find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
}

/// Every line of the head whose header name is `name`.
fn lines<'a>(msg: &'a str, name: &str) -> Vec<&'a str> {
    let head = msg.split("\r\n\r\n").next().unwrap_or("");
    head.split("\r\n")
        .filter(|l| {
            l.split_once(':')
                .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        })
        .collect()
}

/// A response to `request` (its Vias, From, To with `tag`, Call-ID, CSeq).
pub fn respond(request: &str, status: &str, tag: &str, extra: &str, body: &str) -> String {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for via in lines(request, "via") {
        out.push_str(via);
        out.push_str("\r\n");
    }
    let to = header(request, "to").unwrap_or_default();
    let to = if to.contains(";tag=") {
        to
    } else {
        format!("{to};tag={tag}")
    };
    for (name, value) in [
        ("From", header(request, "from").unwrap_or_default()),
        ("To", to),
        ("Call-ID", header(request, "call-id").unwrap_or_default()),
        ("CSeq", header(request, "cseq").unwrap_or_default()),
    ] {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(extra);
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out
}

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                   m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// A fake PBX on 127.0.0.1: numbers starting with 486 are busy, with 200 answered, others ring
/// (and are answered when it answers); as a registrar, extension 100 exists and no other does.
pub struct Pbx {
    /// Its address.
    pub addr: SocketAddr,
    /// INVITEs received (retransmissions included).
    pub invites: Arc<AtomicUsize>,
    /// BYEs received.
    pub byes: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Pbx {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Pbx {
    /// Starts a PBX that rings on every INVITE and answers it when `answer`.
    pub async fn start(answer: bool) -> Pbx {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        let invites = Arc::new(AtomicUsize::new(0));
        let byes = Arc::new(AtomicUsize::new(0));
        let (i, b) = (Arc::clone(&invites), Arc::clone(&byes));
        let task = tokio::spawn(async move {
            let mut pending: HashMap<String, String> = HashMap::new();
            let mut buf = vec![0u8; 65_535];
            while let Ok((n, from)) = sock.recv_from(&mut buf).await {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                let call_id = header(&msg, "call-id").unwrap_or_default();
                let contact = format!("Contact: <sip:pbx@{addr}>\r\n");
                let mut replies = Vec::new();
                if msg.starts_with("INVITE ") {
                    i.fetch_add(1, Ordering::Relaxed);
                    replies.push(respond(&msg, "180 Ringing", "pbx", &contact, ""));
                    // Numbers starting with 486 are busy.
                    if msg.starts_with("INVITE sip:486") {
                        replies.push(respond(&msg, "486 Busy Here", "pbx", "", ""));
                    } else if answer || msg.starts_with("INVITE sip:200") {
                        let extra = format!("{contact}Content-Type: application/sdp\r\n");
                        replies.push(respond(&msg, "200 OK", "pbx", &extra, SDP));
                    } else {
                        pending.insert(call_id, msg.clone());
                    }
                } else if msg.starts_with("CANCEL ") {
                    replies.push(respond(&msg, "200 OK", "pbx", "", ""));
                    if let Some(invite) = pending.remove(&call_id) {
                        replies.push(respond(&invite, "487 Request Terminated", "pbx", "", ""));
                    }
                } else if msg.starts_with("REGISTER ") {
                    // Extension 100 exists (challenged); every other one is unknown.
                    let to = header(&msg, "to").unwrap_or_default();
                    replies.push(if to.contains("sip:100@") {
                        let auth =
                            "WWW-Authenticate: Digest realm=\"pbx.example\", nonce=\"n1\"\r\n";
                        respond(&msg, "401 Unauthorized", "pbx", auth, "")
                    } else {
                        respond(&msg, "404 Not Found", "pbx", "", "")
                    });
                } else if msg.starts_with("BYE ") {
                    b.fetch_add(1, Ordering::Relaxed);
                    replies.push(respond(&msg, "200 OK", "pbx", "", ""));
                }
                for r in replies {
                    let _ = sock.send_to(r.as_bytes(), from).await;
                }
            }
        });
        Pbx {
            addr,
            invites,
            byes,
            task,
        }
    }
}

/// A caller with one call on its own socket.
pub struct Caller {
    sock: UdpSocket,
    sbc: SocketAddr,
    /// The call's Call-ID.
    pub call_id: String,
    user: String,
    to: String,
    branch: String,
    local: SocketAddr,
    /// Extra header lines for the INVITE (e.g. a User-Agent).
    pub extra: String,
}

impl Caller {
    /// A caller `user` on `ip` (a 127.0.0.x address) calling `number` through `sbc`.
    pub async fn new(ip: &str, sbc: SocketAddr, user: &str, number: &str) -> Caller {
        let sock = UdpSocket::bind((ip, 0)).await.unwrap();
        let local = sock.local_addr().unwrap();
        let id = format!("{}-{}", local.port(), user);
        Caller {
            sock,
            sbc,
            call_id: format!("call-{id}@test"),
            user: user.to_owned(),
            to: format!("<sip:{number}@{}>", sbc.ip()),
            branch: format!("z9hG4bK-{id}"),
            local,
            extra: String::new(),
        }
    }

    fn request(
        &self,
        method: &str,
        uri: &str,
        to: &str,
        cseq: u32,
        branch: &str,
        sdp: bool,
    ) -> String {
        let body = if sdp { SDP } else { "" };
        let ctype = if sdp {
            "Content-Type: application/sdp\r\n"
        } else {
            ""
        };
        format!(
            "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{user}@{ip}>;tag=t-{port}\r\nTo: {to}\r\n\
             Call-ID: {cid}\r\nCSeq: {cseq} {method}\r\nContact: <sip:{user}@{local}>\r\n\
             {extra}{ctype}Content-Length: {len}\r\n\r\n{body}",
            local = self.local,
            user = self.user,
            ip = self.local.ip(),
            port = self.local.port(),
            cid = self.call_id,
            extra = self.extra,
            len = body.len(),
        )
    }

    fn uri(&self) -> String {
        self.to.trim_matches(|c| c == '<' || c == '>').to_owned()
    }

    /// Sends the INVITE.
    pub async fn invite(&self) {
        let m = self.request("INVITE", &self.uri(), &self.to, 1, &self.branch, true);
        self.send(&m).await;
    }

    /// Sends a CANCEL for the INVITE.
    pub async fn cancel(&self) {
        let m = self.request("CANCEL", &self.uri(), &self.to, 1, &self.branch, false);
        self.send(&m).await;
    }

    /// Acknowledges a final response: for a 2xx a new transaction to its Contact, otherwise
    /// hop-by-hop on the INVITE's branch.
    pub async fn ack(&self, response: &str) {
        let to = header(response, "to").unwrap_or_default();
        let status = crate::harness::status(response.as_bytes()).unwrap_or(0);
        let m = if (200..300).contains(&status) {
            let contact = header(response, "contact").unwrap_or_default();
            let uri = contact.trim_matches(|c| c == '<' || c == '>').to_owned();
            let branch = format!("{}-ack", self.branch);
            self.request("ACK", &uri, &to, 1, &branch, false)
        } else {
            self.request("ACK", &self.uri(), &to, 1, &self.branch, false)
        };
        self.send(&m).await;
    }

    /// The caller's local address.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// Sends raw text to the SBC.
    pub async fn send(&self, text: &str) {
        self.sock.send_to(text.as_bytes(), self.sbc).await.unwrap();
    }

    /// The next message within `wait`.
    pub async fn recv(&self, wait: Duration) -> Option<String> {
        let mut buf = vec![0u8; 65_535];
        let (n, _) = tokio::time::timeout(wait, self.sock.recv_from(&mut buf))
            .await
            .ok()?
            .ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Waits (bounded) for a response other than 100 and returns it.
    pub async fn response(&self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let msg = self.recv(left).await?;
            if msg.starts_with("SIP/2.0 ") && !msg.starts_with("SIP/2.0 100 ") {
                return Some(msg);
            }
        }
    }

    /// Waits (bounded) for a response with `status`, skipping others.
    pub async fn until(&self, status: u16, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let msg = self.response(left).await?;
            if crate::harness::status(msg.as_bytes()) == Some(status) {
                return Some(msg);
            }
        }
    }
}
