//! RTCP compound packets and reception report blocks (pure), RFC 3550 §6.4.
//!
//! [`Compound::parse`] checks that a datagram is a sequence of whole version-2 RTCP packets
//! whose lengths add up exactly (§6.1; the relay drops anything else as malformed).
//! [`Compound::report_blocks`] yields the reception reports carried by sender reports (SR,
//! PT 200) and receiver reports (RR, PT 201): fraction lost, cumulative loss and interarrival
//! jitter, the figures the relay keeps per stream. Nothing here panics on any input.

use thiserror::Error;

/// RTCP sender report packet type.
pub const SR: u8 = 200;
/// RTCP receiver report packet type.
pub const RR: u8 = 201;
/// Length of one reception report block.
const BLOCK_LEN: usize = 24;

/// Why bytes are not an RTCP compound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtcpError {
    /// Fewer than the 8 bytes of a header with its SSRC, or a packet cut short.
    #[error("RTCP packet shorter than its length field")]
    Truncated,
    /// A version other than 2.
    #[error("RTCP version {0}, expected 2")]
    Version(u8),
    /// A packet type outside 192–223.
    #[error("RTCP packet type {0} outside 192-223")]
    PacketType(u8),
}

/// A validated RTCP compound packet (one datagram, one or more RTCP packets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compound<'a> {
    bytes: &'a [u8],
}

/// One RTCP packet inside a compound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpPacket<'a> {
    /// Packet type (200 SR, 201 RR, 202 SDES, 203 BYE, 204 APP, 205/206 feedback, ...).
    pub packet_type: u8,
    /// The 5-bit count field (report count, source count or feedback format).
    pub count: u8,
    /// The whole packet, header included.
    pub bytes: &'a [u8],
}

impl RtcpPacket<'_> {
    /// The SSRC of the packet's sender (the word after the header).
    pub fn sender_ssrc(&self) -> u32 {
        be32(self.bytes, 4).unwrap_or(0)
    }
}

/// One reception report (RFC 3550 §6.4.1): what the packet's sender observed of `ssrc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source this report is about.
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Packets lost since the beginning of reception (signed 24-bit; duplicates make it
    /// negative).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_sequence: u32,
    /// Interarrival jitter, in RTP timestamp units.
    pub jitter: u32,
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
}

impl<'a> Compound<'a> {
    /// Checks that `bytes` is a sequence of whole version-2 RTCP packets.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, RtcpError> {
        if bytes.len() < 8 {
            return Err(RtcpError::Truncated);
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let (_, tail) = split_packet(rest)?;
            rest = tail;
        }
        Ok(Self { bytes })
    }

    /// The SSRC of the first packet's sender.
    pub fn sender_ssrc(&self) -> u32 {
        be32(self.bytes, 4).unwrap_or(0)
    }

    /// The RTCP packets, in order.
    pub fn packets(&self) -> impl Iterator<Item = RtcpPacket<'a>> + 'a {
        let mut rest = self.bytes;
        std::iter::from_fn(move || {
            let (packet, tail) = split_packet(rest).ok()?;
            rest = tail;
            Some(packet)
        })
    }

    /// Every reception report block of every SR and RR in the compound.
    pub fn report_blocks(&self) -> impl Iterator<Item = ReportBlock> + 'a {
        self.packets().flat_map(|packet| {
            let start = match packet.packet_type {
                SR => 28,
                RR => 8,
                _ => packet.bytes.len(),
            };
            let blocks = packet.bytes.get(start..).unwrap_or_default();
            blocks
                .chunks_exact(BLOCK_LEN)
                .take(usize::from(packet.count))
                .map(report_block)
        })
    }
}

/// Splits the first RTCP packet off `bytes` (header checked, length within bounds).
fn split_packet(bytes: &[u8]) -> Result<(RtcpPacket<'_>, &[u8]), RtcpError> {
    let header = bytes.get(..4).ok_or(RtcpError::Truncated)?;
    let version = header[0] >> 6;
    if version != 2 {
        return Err(RtcpError::Version(version));
    }
    let packet_type = header[1];
    if !(192..=223).contains(&packet_type) {
        return Err(RtcpError::PacketType(packet_type));
    }
    let words = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let len = (words + 1) * 4;
    if len < 8 || len > bytes.len() {
        return Err(RtcpError::Truncated);
    }
    let (packet, tail) = bytes.split_at(len);
    let packet = RtcpPacket {
        packet_type,
        count: header[0] & 0x1f,
        bytes: packet,
    };
    Ok((packet, tail))
}

fn report_block(block: &[u8]) -> ReportBlock {
    let word = |i: usize| be32(block, i * 4).unwrap_or(0);
    let lost = word(1);
    // Sign-extend the 24-bit cumulative loss.
    let cumulative_lost = ((lost << 8) as i32) >> 8;
    ReportBlock {
        ssrc: word(0),
        fraction_lost: (lost >> 24) as u8,
        cumulative_lost,
        highest_sequence: word(2),
        jitter: word(3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn block(ssrc: u32, fraction: u8, lost: i32, jitter: u32) -> Vec<u8> {
        let mut b = ssrc.to_be_bytes().to_vec();
        let lost = (u32::from(fraction) << 24) | (lost as u32 & 0x00ff_ffff);
        b.extend_from_slice(&lost.to_be_bytes());
        b.extend_from_slice(&1000u32.to_be_bytes());
        b.extend_from_slice(&jitter.to_be_bytes());
        b.extend_from_slice(&[0; 8]);
        b
    }

    fn packet(pt: u8, count: u8, body: &[u8]) -> Vec<u8> {
        let words = u16::try_from(body.len() / 4).unwrap();
        let mut p = vec![0x80 | count, pt];
        p.extend_from_slice(&words.to_be_bytes());
        p.extend_from_slice(body);
        p
    }

    #[test]
    fn report_blocks_of_sr_and_rr() {
        let mut sr_body = 0x1111u32.to_be_bytes().to_vec();
        sr_body.extend_from_slice(&[0; 20]);
        sr_body.extend(block(0xaaaa, 64, 5, 80));
        let mut rr_body = 0x2222u32.to_be_bytes().to_vec();
        rr_body.extend(block(0xbbbb, 0, -3, 7));
        rr_body.extend(block(0xcccc, 255, 0x7f_ffff, 0));
        let mut compound = packet(SR, 1, &sr_body);
        compound.extend(packet(RR, 2, &rr_body));
        compound.extend(packet(202, 0, &[0; 8]));
        let c = Compound::parse(&compound).unwrap();
        assert_eq!(c.sender_ssrc(), 0x1111);
        assert_eq!(
            c.packets().map(|p| p.packet_type).collect::<Vec<_>>(),
            [SR, RR, 202]
        );
        let blocks: Vec<_> = c.report_blocks().collect();
        assert_eq!(blocks.len(), 3);
        assert_eq!(
            (
                blocks[0].ssrc,
                blocks[0].fraction_lost,
                blocks[0].cumulative_lost,
                blocks[0].jitter
            ),
            (0xaaaa, 64, 5, 80)
        );
        assert_eq!(blocks[1].cumulative_lost, -3);
        assert_eq!(blocks[1].highest_sequence, 1000);
        assert_eq!(blocks[2].cumulative_lost, 0x7f_ffff);
    }

    #[test]
    fn a_count_beyond_the_packet_yields_only_whole_blocks() {
        let mut body = 1u32.to_be_bytes().to_vec();
        body.extend(block(2, 0, 0, 0));
        let p = packet(RR, 5, &body);
        assert_eq!(Compound::parse(&p).unwrap().report_blocks().count(), 1);
    }

    #[test]
    fn invalid_compounds() {
        assert_eq!(
            Compound::parse(&[0x80, 201, 0, 1]),
            Err(RtcpError::Truncated)
        );
        let mut p = packet(RR, 0, &[0; 4]);
        p[0] = 0x40;
        assert_eq!(Compound::parse(&p), Err(RtcpError::Version(1)));
        let p = packet(100, 0, &[0; 4]);
        assert_eq!(Compound::parse(&p), Err(RtcpError::PacketType(100)));
        // Length says three words, two are there.
        let mut p = packet(RR, 0, &[0; 4]);
        p[3] = 2;
        assert_eq!(Compound::parse(&p), Err(RtcpError::Truncated));
        // Trailing bytes that are not a whole packet.
        let mut p = packet(RR, 0, &[0; 4]);
        p.extend_from_slice(&[0x80, 201]);
        assert_eq!(Compound::parse(&p), Err(RtcpError::Truncated));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Ok(c) = Compound::parse(&bytes) {
                let total: usize = c.packets().map(|p| p.bytes.len()).sum();
                prop_assert_eq!(total, bytes.len());
                let _ = c.report_blocks().count();
            }
        }
    }
}
