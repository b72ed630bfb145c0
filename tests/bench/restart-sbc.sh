#!/usr/bin/env bash
# Restarts the SBC (release build) on the loopback contract and returns once it answers OPTIONS.
# Used as RESTART_DUT by the call-rate search; stops only the process it started (PID file).
# SBC_CONFIG picks another configuration, SBC_PROBE the host:port it answers OPTIONS on, SBC_BIN
# another build.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PIDFILE=${SBC_PIDFILE:-/tmp/sbc-bench.pid}
if [ -f "$PIDFILE" ]; then
  # A stopped SBC drains its calls first (SIGTERM); between benchmark steps it is killed outright.
  p=$(cat "$PIDFILE"); kill -KILL "$p" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  rm -f "$PIDFILE"
fi
RUST_LOG=${RUST_LOG:-warn} "${SBC_BIN:-$ROOT/target/release/sbc}" run --config "${SBC_CONFIG:-$ROOT/tests/data/configs/loopback.toml}" \
  >>"${SBC_LOG:-/tmp/sbc-bench.log}" 2>&1 &
echo $! >"$PIDFILE"
for _ in $(seq 100); do
  if SBC_PROBE=${SBC_PROBE:-127.0.0.1:5070} python3 - <<'PY' 2>/dev/null; then exit 0; fi
import os, socket
host, port = os.environ["SBC_PROBE"].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.1)
s.sendto(b"OPTIONS sip:127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKready;rport\r\n"
         b"From: <sip:r@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ready\r\nCSeq: 1 OPTIONS\r\n"
         b"Content-Length: 0\r\n\r\n", (host, int(port)))
assert s.recv(2000).startswith(b"SIP/2.0 200")
PY
  sleep 0.1
done
echo "sbc did not come up" >&2
exit 1
