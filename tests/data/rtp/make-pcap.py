#!/usr/bin/env python3
"""Writes pcmu-Ns.pcap: N seconds of RTP (PCMU, 20 ms packets, a 1 kHz tone, one SSRC,
sequence numbers 1, 2, ...), 127.0.0.1:4000 -> :4002.

Usage: make-pcap.py [SECONDS]   (default 3: pcmu-3s.pcap, 150 packets; 10 makes pcmu-10s.pcap)

SIPp's play_pcap_audio sends each packet's UDP payload at the recorded spacing, from the call's
media port to the address in the far end's SDP; only the payloads and timestamps matter here.
"""
import math
import struct
import sys


def ulaw(sample):
    """G.711 mu-law encoding of a 16-bit sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), clip) + bias
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # Ethernet
    src, dst = bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])
    for n in range(seconds * 50):
        audio = bytes(
            ulaw(int(8000 * math.sin(2 * math.pi * 1000 * (n * 160 + i) / 8000)))
            for i in range(160)
        )
        rtp = struct.pack("!BBHII", 0x80, 0x80 if n == 0 else 0, n + 1, n * 160, 0x5EC0FFEE) + audio
        udp = struct.pack("!HHHH", 4000, 4002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xB8, 20 + len(udp), n, 0, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        frame = b"\0" * 12 + b"\x08\x00" + ip + udp
        usec = n * 20000
        out.append(struct.pack("<IIII", 1_700_000_000 + usec // 1_000_000, usec % 1_000_000,
                               len(frame), len(frame)) + frame)
    with open(f"pcmu-{seconds}s.pcap", "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    main()
