//! Zero-copy RTP header views and first-byte demultiplexing (pure).
//!
//! - RFC 3550 §5.1: the fixed header, CSRC list, header extension and padding, all
//!   bounds-checked; [`RtpView::parse`] never panics and never reads past the packet.
//! - RFC 7983 §7 (updating RFC 5764 §5.1.2): the first byte tells STUN (0–3), ZRTP (16–19),
//!   DTLS (20–63), TURN channels (64–79) and RTP/RTCP (128–191) apart, so a stray STUN binding
//!   request or DTLS record on a relay port is recognised and dropped instead of forwarded.
//! - RFC 5761 §4: on a multiplexed port, RTP and RTCP are told apart by the second byte:
//!   payload types 64–95 (RTCP packet types 192–223) are RTCP.

use thiserror::Error;

/// What a datagram on a media port is, from its first bytes (RFC 7983 §7, RFC 5761 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// RTP (version 2, payload type outside 64–95).
    Rtp,
    /// RTCP (version 2, packet type 192–223).
    Rtcp,
    /// STUN (first byte 0–3), e.g. an ICE connectivity check.
    Stun,
    /// ZRTP (first byte 16–19).
    Zrtp,
    /// DTLS (first byte 20–63).
    Dtls,
    /// TURN ChannelData (first byte 64–79).
    TurnChannel,
    /// Empty, or a first byte no protocol above uses.
    Unknown,
}

/// Classifies a datagram received on a media port.
pub fn classify(packet: &[u8]) -> PacketKind {
    let Some(&first) = packet.first() else {
        return PacketKind::Unknown;
    };
    match first {
        0..=3 => PacketKind::Stun,
        16..=19 => PacketKind::Zrtp,
        20..=63 => PacketKind::Dtls,
        64..=79 => PacketKind::TurnChannel,
        128..=191 => match packet.get(1) {
            Some(second) if (64..=95).contains(&(second & 0x7f)) => PacketKind::Rtcp,
            Some(_) => PacketKind::Rtp,
            None => PacketKind::Unknown,
        },
        _ => PacketKind::Unknown,
    }
}

/// Length of the RTP fixed header (RFC 3550 §5.1).
pub const FIXED_HEADER_LEN: usize = 12;

/// Why bytes are not a valid RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Fewer bytes than the fixed header.
    #[error("shorter than the 12-byte RTP header")]
    TooShort,
    /// The version field is not 2.
    #[error("RTP version {0}, expected 2")]
    Version(u8),
    /// The CSRC list runs past the end of the packet.
    #[error("CSRC list beyond the packet")]
    Csrc,
    /// The header extension runs past the end of the packet.
    #[error("header extension beyond the packet")]
    Extension,
    /// The padding count is zero or larger than the payload.
    #[error("invalid padding")]
    Padding,
}

/// The fields of the fixed header that are readable even while the payload is encrypted
/// (SRTP leaves the header in the clear): enough to latch before authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHeader {
    /// Marker bit.
    pub marker: bool,
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: u32,
}

impl FixedHeader {
    /// Reads the fixed header: at least 12 bytes and version 2.
    pub fn parse(packet: &[u8]) -> Result<Self, RtpError> {
        let header: &[u8; FIXED_HEADER_LEN] = packet
            .get(..FIXED_HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(RtpError::TooShort)?;
        let version = header[0] >> 6;
        if version != 2 {
            return Err(RtpError::Version(version));
        }
        Ok(Self {
            marker: header[1] & 0x80 != 0,
            payload_type: header[1] & 0x7f,
            sequence: u16::from_be_bytes([header[2], header[3]]),
            timestamp: u32::from_be_bytes([header[4], header[5], header[6], header[7]]),
            ssrc: u32::from_be_bytes([header[8], header[9], header[10], header[11]]),
        })
    }
}

/// A validated view of a whole plain RTP packet: header fields plus the bounds of the CSRC
/// list, the header extension and the payload (padding excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpView<'a> {
    packet: &'a [u8],
    header: FixedHeader,
    /// Offset of the extension header (`None` when the X bit is clear).
    extension: Option<usize>,
    payload_start: usize,
    payload_end: usize,
}

impl<'a> RtpView<'a> {
    /// Parses and bounds-checks an RTP packet (RFC 3550 §5.1, §5.3.1).
    pub fn parse(packet: &'a [u8]) -> Result<Self, RtpError> {
        let header = FixedHeader::parse(packet)?;
        let first = packet[0];
        let csrc_count = usize::from(first & 0x0f);
        let mut offset = FIXED_HEADER_LEN + 4 * csrc_count;
        if offset > packet.len() {
            return Err(RtpError::Csrc);
        }
        let mut extension = None;
        if first & 0x10 != 0 {
            let words = packet
                .get(offset + 2..offset + 4)
                .ok_or(RtpError::Extension)?;
            let words = usize::from(u16::from_be_bytes([words[0], words[1]]));
            extension = Some(offset);
            offset += 4 + 4 * words;
            if offset > packet.len() {
                return Err(RtpError::Extension);
            }
        }
        let mut end = packet.len();
        if first & 0x20 != 0 {
            let padding = usize::from(packet[end - 1]);
            if padding == 0 || offset + padding > end {
                return Err(RtpError::Padding);
            }
            end -= padding;
        }
        Ok(Self {
            packet,
            header,
            extension,
            payload_start: offset,
            payload_end: end,
        })
    }

    /// The fixed header fields.
    pub fn header(&self) -> FixedHeader {
        self.header
    }

    /// Synchronization source.
    pub fn ssrc(&self) -> u32 {
        self.header.ssrc
    }

    /// Sequence number.
    pub fn sequence(&self) -> u16 {
        self.header.sequence
    }

    /// RTP timestamp.
    pub fn timestamp(&self) -> u32 {
        self.header.timestamp
    }

    /// Payload type.
    pub fn payload_type(&self) -> u8 {
        self.header.payload_type
    }

    /// The contributing sources, in order.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        let count = usize::from(self.packet[0] & 0x0f);
        self.packet[FIXED_HEADER_LEN..FIXED_HEADER_LEN + 4 * count]
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// The header extension: its 16-bit profile identifier and its data words.
    pub fn extension(&self) -> Option<(u16, &'a [u8])> {
        let at = self.extension?;
        let profile = u16::from_be_bytes([self.packet[at], self.packet[at + 1]]);
        Some((profile, &self.packet[at + 4..self.payload_start]))
    }

    /// The payload, without padding.
    pub fn payload(&self) -> &'a [u8] {
        &self.packet[self.payload_start..self.payload_end]
    }

    /// Length of everything before the payload.
    pub fn header_len(&self) -> usize {
        self.payload_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A version-2 packet: PT 0, seq 0x1234, ts 0x01020304, SSRC 0xdeadbeef, then `rest`.
    fn packet(first: u8, rest: &[u8]) -> Vec<u8> {
        let mut p = vec![first, 0x80, 0x12, 0x34, 1, 2, 3, 4, 0xde, 0xad, 0xbe, 0xef];
        p.extend_from_slice(rest);
        p
    }

    #[test]
    fn first_byte_demux_follows_rfc_7983() {
        let cases: &[(&[u8], PacketKind)] = &[
            (&[], PacketKind::Unknown),
            (&[0x00, 0x01], PacketKind::Stun),
            (&[0x03], PacketKind::Stun),
            (&[0x10], PacketKind::Zrtp),
            (&[0x16, 0xfe], PacketKind::Dtls),
            (&[0x40], PacketKind::TurnChannel),
            (&[0x80], PacketKind::Unknown),
            (&[0x80, 0x00], PacketKind::Rtp),
            (&[0x80, 0x60], PacketKind::Rtp),
            (&[0x80, 0xe0], PacketKind::Rtp),
            (&[0x81, 200], PacketKind::Rtcp),
            (&[0x80, 201], PacketKind::Rtcp),
            (&[0x80, 192], PacketKind::Rtcp),
            (&[0x80, 223], PacketKind::Rtcp),
            (&[0x80, 224], PacketKind::Rtp),
            (&[0xc0, 0x00], PacketKind::Unknown),
            (&[0x50], PacketKind::Unknown),
        ];
        for (bytes, kind) in cases {
            assert_eq!(classify(bytes), *kind, "{bytes:02x?}");
        }
    }

    #[test]
    fn fixed_header_fields() {
        let h = FixedHeader::parse(&packet(0x80, b"pay")).unwrap();
        assert_eq!(
            h,
            FixedHeader {
                marker: true,
                payload_type: 0,
                sequence: 0x1234,
                timestamp: 0x0102_0304,
                ssrc: 0xdead_beef,
            }
        );
        assert_eq!(FixedHeader::parse(&[0x80; 11]), Err(RtpError::TooShort));
        assert_eq!(
            FixedHeader::parse(&packet(0x40, b"")),
            Err(RtpError::Version(1))
        );
    }

    #[test]
    fn csrc_extension_and_padding_bounds() {
        // Two CSRCs, then payload.
        let p = packet(0x82, &[0, 0, 0, 1, 0, 0, 0, 2, b'x']);
        let v = RtpView::parse(&p).unwrap();
        assert_eq!(v.csrcs().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(v.payload(), b"x");
        assert_eq!(v.header_len(), 20);
        // CSRC count beyond the packet.
        assert_eq!(RtpView::parse(&packet(0x83, &[0; 8])), Err(RtpError::Csrc));
        // Extension: profile 0xbede, one word.
        let p = packet(0x90, &[0xbe, 0xde, 0, 1, 9, 9, 9, 9, b'y', b'z']);
        let v = RtpView::parse(&p).unwrap();
        assert_eq!(v.extension(), Some((0xbede, &[9u8, 9, 9, 9][..])));
        assert_eq!(v.payload(), b"yz");
        assert_eq!(
            RtpView::parse(&packet(0x90, &[0xbe, 0xde, 0, 2, 0, 0, 0, 0])),
            Err(RtpError::Extension)
        );
        assert_eq!(
            RtpView::parse(&packet(0x90, &[0xbe])),
            Err(RtpError::Extension)
        );
        // Padding: two bytes of payload, two of padding.
        let p = packet(0xa0, &[7, 7, 0, 2]);
        let v = RtpView::parse(&p).unwrap();
        assert_eq!(v.payload(), &[7, 7]);
        for bad in [&[7u8, 0][..], &[5]] {
            assert_eq!(
                RtpView::parse(&packet(0xa0, bad)),
                Err(RtpError::Padding),
                "{bad:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = classify(&bytes);
            if let Ok(v) = RtpView::parse(&bytes) {
                prop_assert!(v.header_len() <= bytes.len());
                prop_assert!(v.payload().len() <= bytes.len());
                let _ = v.csrcs().count();
                let _ = v.extension();
            }
        }
    }
}
