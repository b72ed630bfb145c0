#!/usr/bin/env bash
# What an SRTP leg costs over plain RTP, for the SBC and for the reference (Kamailio +
# rtpengine userspace) in the same run: PAIRS rounds of four single runs of CALLS calls
# (SBC plain, SBC SRTP(A)-RTP(B), reference plain, reference SRTP), so slow drift of this shared
# machine hits all four alike. Per round it prints CPU, CPU per relayed packet, one-way latency
# p50/p99, loss and failed calls of each run and the SRTP/plain CPU ratio of each relay; at the
# end the median CPU per packet of each and of the ratios.
#
# usage: tests/bench/srtp-overhead.sh [CALLS] [PAIRS]      (defaults: 400 5)
# env: RTPBENCH (required; rtpbench binary of the reference kit, built with cargo build --release)
#      PEER (the kit's rtpbench/run_peer.sh; default ../shared/bench/rtpbench/run_peer.sh)
#      PPS=50 SECS=10
# Every run is bounded by rtpbench's duration and by `timeout`; the SBC and the reference are
# started and stopped (by PID) by media.sh and run_peer.sh.
set -u
CALLS=${1:-400}; PAIRS=${2:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
: "${RTPBENCH:?set RTPBENCH to the rtpbench binary (cargo build --release in a copy of the kit)}"
PEER=${PEER:-$ROOT/../shared/bench/rtpbench/run_peer.sh}
export PPS=${PPS:-50} SECS=${SECS:-10} RTPBENCH
ROWS=$(mktemp)
trap 'rm -f "$ROWS"' EXIT
trap 'exit 130' INT TERM

# sbc MODE -> "cpu_pct us_per_pkt p50 p99 loss_pct failed_calls" of one run of the SBC
sbc() {
  REPEAT=1 timeout $((SECS + 120)) "$ROOT/tests/bench/media.sh" "$1" "$CALLS" |
    sed -n "s/.*run $CALLS calls: failed=\([0-9]*\) .*loss=\([0-9.]*\)% p50=\([0-9.]*\)us p99=\([0-9.]*\)us cpu=\([0-9.]*\)% \([0-9.]*\)us\/pkt.*/\5 \6 \3 \4 \2 \1/p" | head -1
}

# peer MODE -> the same for the reference (its first run at CALLS)
peer() {
  local line
  line=$(FIXED=$CALLS REPEAT=1 BISECT=0 timeout $((2 * SECS + 180)) "$PEER" "$1" "$CALLS" 2>/dev/null | grep -m1 '^  run:')
  awk -v s="$SECS" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END { if (v["delivered_pps"] > 0) printf "%s %.1f %s %s %s %s\n", v["dut_cpu_pct"],
      v["dut_cpu_pct"] * 1e4 / v["delivered_pps"], v["p50_us"], v["p99_us"], v["loss_pct"], v["failed"] }' <<<"$line"
}

echo "== SRTP overhead at $CALLS calls, $PPS pps per stream each way, ${SECS}s per run, $PAIRS rounds"
for round in $(seq "$PAIRS"); do
  read -r sp su sp50 sp99 sl sf <<<"$(sbc plain)"
  read -r ss us ss50 ss99 sl2 sf2 <<<"$(sbc srtp)"
  read -r pp pu pp50 pp99 pl pf <<<"$(peer plain)"
  read -r ps pu2 ps50 ps99 pl2 pf2 <<<"$(peer srtp)"
  row=$(awk -v a="${su:-0}" -v b="${us:-0}" -v c="${pu:-0}" -v d="${pu2:-0}" \
    'BEGIN { printf "%s %s %s %s %.2f %.2f", a, b, c, d, (a > 0 ? b / a : 0), (c > 0 ? d / c : 0) }')
  echo "$row" >>"$ROWS"
  read -r a b c d r1 r2 <<<"$row"
  echo "round $round: sbc plain ${sp:-?}% ${a}us/pkt p50/p99 ${sp50:-?}/${sp99:-?}us loss ${sl:-?}% failed ${sf:-?}," \
    "srtp ${ss:-?}% ${b}us/pkt p50/p99 ${ss50:-?}/${ss99:-?}us loss ${sl2:-?}% failed ${sf2:-?}, ratio $r1 |" \
    "reference plain ${pp:-?}% ${c}us/pkt p50/p99 ${pp50:-?}/${pp99:-?}us loss ${pl:-?}% failed ${pf:-?}," \
    "srtp ${ps:-?}% ${d}us/pkt p50/p99 ${ps50:-?}/${ps99:-?}us loss ${pl2:-?}% failed ${pf2:-?}, ratio $r2"
done
# median of column K over the rounds
median() { awk -v k="$1" '{ print $k }' "$ROWS" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "MEDIAN calls=$CALLS sbc_plain_us_per_pkt=$(median 1) sbc_srtp_us_per_pkt=$(median 2)" \
  "sbc_srtp_ratio=$(median 5) reference_plain_us_per_pkt=$(median 3)" \
  "reference_srtp_us_per_pkt=$(median 4) reference_srtp_ratio=$(median 6)"
