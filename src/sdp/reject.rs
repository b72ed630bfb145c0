//! The answer that rejects every stream of an offer (pure), RFC 3264 §6.
//!
//! When the SBC must answer an offer it cannot carry and has no way to refuse it — an offer in
//! a 2xx (late offer) is answered in the ACK, and an ACK cannot be refused (RFC 3261 §13.2.2.4)
//! — it answers with every `m=` line at port 0 and then ends the dialog. The answer has the
//! offer's number of `m=` lines, each with the offer's media, transport and formats, so any
//! offerer can match it line by line; its addresses are the unspecified address of the
//! offer's family, so nothing of either side's topology is in it.

use bytes::Bytes;

use super::fields::{AddrType, MediaLine};
use super::parse::{Sdp, SdpLimits};

/// The answer to `offer` (an SDP body) that rejects each of its streams, or `None` when
/// `offer` is not SDP the parser accepts or has no `m=` line (there is nothing to answer).
pub fn reject_all(offer: &Bytes, limits: &SdpLimits) -> Option<Bytes> {
    let sdp = Sdp::parse(offer.clone(), limits).ok()?;
    if sdp.media().is_empty() {
        return None;
    }
    let v6 = sdp
        .session_connection()
        .or_else(|| sdp.media().iter().find_map(|m| m.connection()))
        .and_then(|c| c.ip())
        .is_some_and(|ip| AddrType::of(ip) == AddrType::Ip6);
    let address = if v6 { "IP6 ::" } else { "IP4 0.0.0.0" };
    let mut out = Vec::with_capacity(128 + 48 * sdp.media().len());
    out.extend_from_slice(b"v=0\r\no=- 0 0 IN ");
    out.extend_from_slice(address.as_bytes());
    out.extend_from_slice(b"\r\ns=-\r\nc=IN ");
    out.extend_from_slice(address.as_bytes());
    out.extend_from_slice(b"\r\nt=0 0\r\n");
    for section in sdp.media() {
        rejected_line(section.media_line(), &mut out);
    }
    Some(Bytes::from(out))
}

/// `m=<media> 0 <proto> <first format>`: a rejected stream still lists one format (RFC 4566
/// §5.14 requires at least one); an offer's line without any gets `0`.
fn rejected_line(m: &MediaLine, out: &mut Vec<u8>) {
    out.extend_from_slice(b"m=");
    out.extend_from_slice(&m.media);
    out.extend_from_slice(b" 0 ");
    out.extend_from_slice(&m.proto_raw);
    out.push(b' ');
    out.extend_from_slice(m.formats().next().unwrap_or(b"0"));
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
#[path = "reject_tests.rs"]
mod tests;
