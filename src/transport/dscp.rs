//! DSCP marking (shell helper over socket options): RFC 2474 code points written into the IPv4
//! TOS byte (`IP_TOS`) or the IPv6 traffic class (`IPV6_TCLASS`), the two low ECN bits left
//! zero. SIP sockets of a realm are marked with its `[realms.dscp] sip` value (CS3 by default),
//! the media relay's with `media` (EF by default); see [`crate::config::DscpConfig`].

use socket2::Socket;
use std::io;

/// The TOS / traffic-class byte carrying `dscp` (six bits; larger values are cut to six).
pub fn tos(dscp: u8) -> u32 {
    u32::from(dscp & 0x3f) << 2
}

/// Marks every packet `socket` sends with `dscp`: `IP_TOS` on IPv4 sockets, `IPV6_TCLASS` on
/// IPv6 ones (`is_ipv6`; an IPv6 socket that also sends IPv4 gets both, best effort for the
/// IPv4 part).
pub fn set_dscp(socket: &Socket, dscp: u8, is_ipv6: bool) -> io::Result<()> {
    if is_ipv6 {
        socket.set_tclass_v6(tos(dscp))?;
        if !socket.only_v6().unwrap_or(true) {
            let _ = socket.set_tos_v4(tos(dscp));
        }
        Ok(())
    } else {
        socket.set_tos_v4(tos(dscp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Protocol, Type};

    #[test]
    fn code_points_become_tos_bytes() {
        assert_eq!(tos(24), 0x60, "CS3");
        assert_eq!(tos(46), 0xb8, "EF");
        assert_eq!(tos(0), 0);
        assert_eq!(tos(63), 0xfc);
        assert_eq!(tos(0xff), 0xfc, "only six bits");
    }

    #[test]
    fn sockets_carry_the_marking() {
        let v4 = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        set_dscp(&v4, 46, false).unwrap();
        assert_eq!(v4.tos_v4().unwrap(), 0xb8);
        let tcp = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
        set_dscp(&tcp, 24, false).unwrap();
        assert_eq!(tcp.tos_v4().unwrap(), 0x60);
        if let Ok(v6) = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP)) {
            set_dscp(&v6, 24, true).unwrap();
            assert_eq!(v6.tclass_v6().unwrap(), 0x60);
        }
    }
}
