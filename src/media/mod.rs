//! Media anchoring: the relay's session model, RTP/RTCP handling and SRTP interworking.

pub mod srtp;
