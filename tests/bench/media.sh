#!/usr/bin/env bash
# Media relay capacity of the SBC (release build) over real SIP calls, on loopback.
#
# usage: tests/bench/media.sh plain|srtp [CALLS...]
#   plain: RTP on both legs; srtp: the caller's leg is SDES-SRTP (AES_CM_128_HMAC_SHA1_80), the
#   PBX's plain RTP, so the relay decrypts and encrypts every packet of the access leg.
# For every call count (default 100 200 400 600 800 1000 1200 1600 2000), REPEAT runs of
# `rtpbench calls` (RTPBENCH: path to the rtpbench binary of the reference benchmark kit), each
# on a freshly started SBC (tests/data/configs/media-bench.toml). A run passes when every call
# was set up, loss < LOSS_MAX % and the generator really sent >= 95% of the nominal rate; a
# count passes when most of its runs do. Prints the median of each count and two capacities:
# the highest passing count before the first failing one (loss-bounded), and the highest whose
# median p99 one-way latency also stayed below P99_MAX_US (latency-bounded).
# env: RTPBENCH (required) PPS=50 SECS=10 REPEAT=3 SETUP_RATE=400 LOSS_MAX=0.1 P99_MAX_US=20000
#      SBC_BIN SBC_CONFIG (defaults: target/release/sbc, media-bench.toml)
# Stops only the SBC it started (tests/bench/restart-sbc.sh, PID file); every run is bounded by
# rtpbench's own duration and by `timeout`.
set -u
MODE=${1:-}; shift || true
case "$MODE" in plain) SRTP=() ;; srtp) SRTP=(--srtp-a) ;;
  *) echo "usage: tests/bench/media.sh plain|srtp [CALLS...]" >&2; exit 2 ;; esac
COUNTS=${*:-100 200 400 600 800 1000 1200 1600 2000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
: "${RTPBENCH:?set RTPBENCH to the rtpbench binary (cargo build --release in a copy of the kit)}"
PPS=${PPS:-50}; SECS=${SECS:-10}; REPEAT=${REPEAT:-3}; SETUP_RATE=${SETUP_RATE:-400}
LOSS_MAX=${LOSS_MAX:-0.1}; P99_MAX_US=${P99_MAX_US:-20000}
export SBC_CONFIG=${SBC_CONFIG:-$ROOT/tests/data/configs/media-bench.toml}
export SBC_PROBE=127.0.0.1:5170 SBC_PIDFILE=/tmp/sbc-media-bench.pid SBC_LOG=/tmp/sbc-media-bench.log
OUT=$(mktemp)
stop() {
  if [ -f "$SBC_PIDFILE" ]; then kill "$(cat "$SBC_PIDFILE")" 2>/dev/null; rm -f "$SBC_PIDFILE"; fi
  rm -f "$OUT"
}
trap stop EXIT
trap 'exit 130' INT TERM

# value KEY LINE -> the value of KEY=... in a RESULT line
value() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# one run of N calls on a fresh SBC; appends its RESULT line to $OUT
run() {
  "$ROOT/tests/bench/restart-sbc.sh" || { echo "sbc did not start" >&2; exit 1; }
  local pid line
  pid=$(cat "$SBC_PIDFILE")
  line=$(timeout $((SECS + 60)) "$RTPBENCH" calls --dut 127.0.0.1:5170 --uas 127.0.0.1:5180 \
    --uac 127.0.0.1:5190 --calls "$1" --pps-per-stream "$PPS" --seconds "$SECS" \
    --setup-rate "$SETUP_RATE" --dut-pid "$pid" "${SRTP[@]}" 2>&1 | grep '^RESULT')
  [ -n "$line" ] || line="RESULT calls=$1 failed=$1 offered_pps=1 sent_pps=0 loss_pct=100 p50_us=0 p99_us=0 dut_cpu_s=0 dut_cpu_pct=0 delivered_pps=0"
  echo "$line" >>"$OUT"
  local us_per_pkt
  us_per_pkt=$(awk -v c="$(value dut_cpu_s "$line")" -v p="$(value delivered_pps "$line")" -v s="$SECS" \
    'BEGIN { if (p > 0) printf "%.1f", c * 1e6 / (p * s); else print "-" }')
  echo "  run $1 calls: failed=$(value failed "$line") sent=$(value sent_pps "$line") loss=$(value loss_pct "$line")%" \
    "p50=$(value p50_us "$line")us p99=$(value p99_us "$line")us cpu=$(value dut_cpu_pct "$line")% ${us_per_pkt}us/pkt"
}

# the median over the runs in $OUT of KEY
median() {
  while read -r line; do value "$1" "$line"; done <"$OUT" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# count N: REPEAT runs; status 0 = passes loss and latency, 1 = loss only, 2 = fails
count() {
  : >"$OUT"
  for _ in $(seq "$REPEAT"); do run "$1"; done
  local pass=0 lat=0 line
  while read -r line; do
    if awk -v f="$(value failed "$line")" -v l="$(value loss_pct "$line")" -v s="$(value sent_pps "$line")" \
      -v o="$(value offered_pps "$line")" -v m="$LOSS_MAX" 'BEGIN { exit !(f == 0 && l < m && s >= 0.95 * o) }'; then
      pass=$((pass + 1))
      awk -v p="$(value p99_us "$line")" -v m="$P99_MAX_US" 'BEGIN { exit !(p < m) }' && lat=$((lat + 1))
    fi
  done <"$OUT"
  local pps cpu_s
  pps=$(median delivered_pps); cpu_s=$(median dut_cpu_s)
  echo "COUNT mode=$MODE calls=$1 passed=$pass/$REPEAT p99_ok=$lat/$REPEAT median: loss_pct=$(median loss_pct)" \
    "delivered_pps=$pps p50_us=$(median p50_us) p99_us=$(median p99_us) dut_cpu_pct=$(median dut_cpu_pct)" \
    "dut_us_per_pkt=$(awk -v c="$cpu_s" -v p="$pps" -v s="$SECS" 'BEGIN { if (p > 0) printf "%.1f", c * 1e6 / (p * s); else print "-" }')"
  [ $((lat * 2)) -gt "$REPEAT" ] && return 0
  [ $((pass * 2)) -gt "$REPEAT" ] && return 1
  return 2
}

echo "== sbc media relay, $MODE: $PPS pps per stream each way, ${SECS}s per run, $REPEAT runs per count"
best=0; best_p99=0; p99_missed=0; first_fail=none
for n in $COUNTS; do
  count "$n"; rc=$?
  if [ $rc = 0 ] && [ $p99_missed = 0 ]; then best_p99=$n; else p99_missed=1; fi
  if [ $rc -le 1 ]; then best=$n; else first_fail=$n; break; fi
done
echo "CAPACITY mode=$MODE calls=$best (< ${LOSS_MAX}% loss, every call set up; first failing count: $first_fail)"
echo "CAPACITY_P99 mode=$MODE calls=$best_p99 (same, and p99 < ${P99_MAX_US} us)"
