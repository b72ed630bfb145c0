//! Parser limits (pure): the bounds every message from the network is held to before the SBC
//! spends memory or CPU on it (DESIGN §5). Values come from the `[sip.limits]` config table.

/// Bounds applied while framing and parsing one SIP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest whole message (start line + headers + body) accepted, in bytes.
    pub max_message_bytes: usize,
    /// Largest body (`Content-Length`) accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most header fields (lines, after unfolding) in one message.
    pub max_headers: usize,
    /// Longest start line or header field (after unfolding), in bytes.
    pub max_line_bytes: usize,
    /// Most Via values in one message (70 by default: the usual initial Max-Forwards, so no
    /// honest request crosses more hops).
    pub max_via: usize,
}

impl Limits {
    /// Defaults: a UDP datagram's maximum payload, a 32 KiB body, 100 headers, 8 KiB lines,
    /// 70 Via values (the usual initial Max-Forwards).
    pub const DEFAULT: Limits = Limits {
        max_message_bytes: 65_535,
        max_body_bytes: 32_768,
        max_headers: 100,
        max_line_bytes: 8_192,
        max_via: 70,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
