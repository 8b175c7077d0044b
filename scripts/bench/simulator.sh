#!/usr/bin/env bash
# The membership protocol in the deterministic simulator
# (Tests/GossipTests/Simulator), at 10, 100 and 1000 members and 0 %, 10 %
# and 30 % datagram loss: crash detection (p50, p99, max), dissemination of a
# delta to 99 % and 100 % (quiet and busy groups), bytes per member per
# second, false deaths per 1000 member-hours; each beside its model
# (Tests/GossipTests/SimulatorBenchmarks/GossipModels.swift).
#
# The runs are the tests of Tests/GossipTests/SimulatorBenchmarks, which the
# normal test suite skips; here they run with GOSSIP_MIRROR_SIM_BENCH=1 in a
# the shared release build (report.sh's bench_build), one at a time. Simulated time is virtual: the
# figures do not depend on the machine's load, only the run time does.
#
# Usage: scripts/bench/simulator.sh [--no-build] [--no-docs] [--quick]
# Environment: SCRATCH (.build-bench), SIM_FILTER (a test name
#   to run only some cells, e.g. "detection"), SIM_FROM (files of earlier
#   runs' output, space-separated: the tables are built from their
#   [sim-bench] lines instead of running; for cells run separately, e.g.
#   detection and steady state side by side in two processes; SIM_FROM_NOTE
#   says how they were made, for the section).
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

# shellcheck source=scripts/bench/report.sh
. scripts/bench/report.sh
bench_begin gm-sim "$@"


t=$SECONDS
if [ -n "${SIM_FROM:-}" ]; then
  echo "== simulator benchmarks: the tables from $SIM_FROM"
  # shellcheck disable=SC2086
  cat $SIM_FROM >"$WORK/out"
else
  echo "== simulator benchmarks (load average $LOAD_BEFORE)"
  GOSSIP_MIRROR_SIM_BENCH=1 "${BENCH_TESTS[@]}" \
    --filter "SimulatorBenchmarks${SIM_FILTER:+.*$SIM_FILTER}" 2>&1 | tee "$WORK/out" | grep --line-buffered '^\[sim-bench\]\|✘\|error' || true
fi
RUN_SECONDS=$((SECONDS - t))
grep -q '^\[sim-bench\]' "$WORK/out" || { echo "no [sim-bench] lines; the test output:" >&2; tail -n 40 "$WORK/out" >&2; exit 1; }
if grep -q '✘' "$WORK/out"; then echo "some simulator benchmarks failed their checks (see above)" >&2; FAILED=1; else FAILED=0; fi

# ---------------------------------------------------------------- tables
python3 - "$WORK/out" >"$WORK/tables.md" <<'EOF'
import sys

rows = {}
for line in open(sys.argv[1]):
    if not line.startswith("[sim-bench] "):
        continue
    kind, *fields = line.split()[1:]
    rows.setdefault(kind, []).append(dict(f.split("=", 1) for f in fields))

def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")

def s(x, d=2):
    v = num(x)
    if v != v:
        return "—"
    if v == float("inf"):
        return "never"
    return f"{v:.{d}f} s"

def ratio(measured, model):
    a, b = num(measured), num(model)
    if a != a or b != b or b == 0 or a == float("inf") or b == float("inf"):
        return "—"
    r = a / b
    mark = " **>2×**" if r > 2 or r < 0.5 else ""
    return f"{r:.2f}×{mark}"

def key(r):
    return (int(r["members"]), num(r["loss"]), r.get("background", ""))

out = []
det = sorted(rows.get("detection", []), key=key)
if det:
    out.append("### Crash detection\n")
    out.append("Time from a crash until a member declares the crashed member dead, over every (crash, observer) pair; "
               "first suspicion is the first member's. Model: `GossipModels.detection` (first probe, the rest of its "
               "period, Lifeguard's minimum suspicion timeout once k = 2 confirmations have come, the verdict's spread).\n")
    out.append("| members | loss | crashes (pairs) | first suspicion, mean (model) | p50 (model) | p99 (model) | max | declared by all, slowest crash | suspicion timeout min–max | p50 ÷ model | p99 ÷ model | false deaths |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in det:
        out.append(f"| {r['members']} | {num(r['loss']):.0%} | {r['crashes']} ({r['pairs']}) | {s(r['first-suspicion-mean'])} ({s(r['model-first-suspicion'])}) "
                   f"| {s(r['p50'])} ({s(r['model-p50'])}) | {s(r['p99'])} ({s(r['model-p99'])}) | {s(r['max'])} | {s(r['by-all-max'])} "
                   f"| {s(r['suspicion-min'], 0)}–{s(r['suspicion-max'], 0)} | {ratio(r['p50'], r['model-p50'])} | {ratio(r['p99'], r['model-p99'])} | {r['false-deaths']} |")
    out.append("")
    lan100 = [r for r in det if int(r["members"]) == 100 and num(r["loss"]) == 0]
    if lan100:
        r = lan100[0]
        # memberlist's DefaultLANConfig has the lan profile's numbers (probe 1 s, timeout 500 ms,
        # 3 indirect, SuspicionMult 4, SuspicionMaxTimeoutMult 6, gossip 200 ms to 3): its
        # suspicion timeout for 100 members is 4 * log10(100) * 1 s = 8 s once k = 2
        # confirmations have come (state.go, util.go suspicionTimeout), 48 s without any.
        import math
        n, t = 100, 1.0
        first_p99 = (n - 1) * t * (1 - 0.01 ** (1 / (n - 1)))
        ml_min = 4 * max(1.0, math.log10(n)) * t
        ml_p99 = first_p99 + t + ml_min
        ml_max = 6 * ml_min
        ml_p99_max = first_p99 + t + ml_max
        out.append(f"**Detection p99 at 100 members on `lan`, no loss: {s(r['p99'])} measured; memberlist's expected p99 "
                   f"for the same settings is {ml_p99:.1f} s** (ratio {ratio(r['p99'], ml_p99)}). The derivation, with "
                   f"memberlist's DefaultLANConfig, whose numbers the `lan` profile copies (ProbeInterval T = 1 s, ProbeTimeout "
                   f"500 ms, IndirectChecks 3, SuspicionMult 4, SuspicionMaxTimeoutMult 6):\n")
        out.append(f"- memberlist's suspicion timeout (`util.go` `suspicionTimeout`, `state.go`): "
                   f"min = SuspicionMult × max(1, log10 n) × T = 4 × max(1, log10 100) × 1 s = {ml_min:.0f} s; "
                   f"max = SuspicionMaxTimeoutMult × min = 6 × {ml_min:.0f} s = {ml_max:.0f} s; with c of the k = "
                   f"SuspicionMult − 2 = 2 expected independent confirmations the timer is max − (max − min)·log(c + 1)/log(k + 1), "
                   f"so {ml_min:.0f} s once both have come (the other 98 members probe the suspect about once a second between "
                   f"them, so they come within a few seconds, well inside {ml_min:.0f} s);")
        out.append(f"- before the timer starts: the wait for the first probe of the crashed member, whose 99th percentile is "
                   f"{first_p99:.2f} s (each of the 99 others probes it once per round-robin cycle of 99 s at a uniformly random "
                   f"phase: the minimum of 99 uniforms on [0, 99 s], quantile (n − 1)T·(1 − 0.01^(1/(n − 1)))), then the rest of "
                   f"that probe's period (T = 1 s: memberlist suspects when the probe period ends without an ack);")
        out.append(f"- expected p99 = {first_p99:.2f} + 1 + {ml_min:.0f} = {ml_p99:.1f} s; if no confirmation came, the bound "
                   f"is {first_p99:.2f} + 1 + {ml_max:.0f} = {ml_p99_max:.1f} s. (The spread of the verdict afterwards is "
                   f"the dissemination time, a fraction of a second.)\n")
dis = sorted(rows.get("dissemination", []), key=key)
if dis:
    out.append("### Dissemination of one delta\n")
    out.append("Time until a delta published by one member has reached 99 % and 100 % of the others: medians (and ranges) "
               "over several publishers. Models: the push epidemic for the gossip interval (200 ms) and fan-out (3), from "
               "one member, with half an interval for the first round's phase (push), and with the eager first wave "
               "(eager; `GossipModels.gossipRounds`). The last columns: the share of members reached within 50 ms, the "
               "share whose broadcast queue was empty when the delta was published, and which datagram first brought the "
               "delta to each member.\n")
    out.append("| members | loss | group | 99 %: median (range) | model push / eager | 100 %: median (range) | model push / eager | reached within 50 ms | queues empty | first by gossip / ping / ack / ping-req / nack, % |")
    out.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in dis:
        reach = "" if num(r["reached-in-60s"]) >= 1 else f", {num(r['reached-in-60s']):.1%} in 60 s"
        out.append(f"| {r['members']} | {num(r['loss']):.0%} | {r['background']} | {s(r['reach99-median'])} ({r['reach99-range']}) "
                   f"| {s(r['model-push-99'])} / {s(r['model-eager-99'])} | {s(r['reach100-median'])} ({r['reach100-range']}{reach}) "
                   f"| {s(r['model-push-100'])} / {s(r['model-eager-100'])} | {num(r['first-50ms-share']):.1%} | {num(r['idle-queues-share']):.1%} "
                   f"| {r['first-by-gossip']} / {r['first-by-ping']} / {r['first-by-ack']} / {r['first-by-ping-request']} / {r['first-by-nack']} |")
    out.append("")
st = sorted(rows.get("steady", []), key=key)
if st:
    out.append("### Steady state: bandwidth and false deaths\n")
    out.append("Bytes each member sends per second, sealed (datagrams, and push/pull streams in sealed chunks), in a group "
               "left alone; healthy members declared dead per 1000 member-hours; suspicions per member-hour beside the "
               "rate of probes that fail for loss alone (ping or ack lost, and every indirect path too). Model: "
               "`GossipModels.bytesPerMemberPerSecond`.\n")
    out.append("| members | loss | member-hours | bytes/member/s (datagrams + streams) | model | ÷ model | false deaths (per 1000 member-hours) | suspicions per member-hour (model) |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in st:
        out.append(f"| {r['members']} | {num(r['loss']):.0%} | {r['member-hours']} | {r['bytes-per-member-s']} ({r['datagram-bytes-per-member-s']} + {r['stream-bytes-per-member-s']}) "
                   f"| {r['model-bytes-per-member-s']} | {ratio(r['bytes-per-member-s'], r['model-bytes-per-member-s'])} "
                   f"| {r['false-deaths']} ({r['false-deaths-per-1000-member-hours']}) | {r['suspicions-per-member-hour']} ({r['model-failed-probes-per-member-hour']}) |")
    out.append("")
print("\n".join(out))
EOF
cat "$WORK/tables.md"
LOAD_AFTER=$(bench_load)

if [ "$DOCS" = 1 ]; then
  cat >"$WORK/section.md" <<EOF
## Membership in the simulator: detection, dissemination, bandwidth

The SWIM instance driven by the deterministic discrete-event simulator (virtual time,
seeded randomness, per-link latency 0.2–2 ms plus jitter, independent loss per datagram;
TCP streams reliable) on the \`lan\` profile: probe every 1 s (500 ms timeout, 3 indirect),
gossip every 200 ms to 3 members, push/pull every 30 s scaled above 32 members, suspicion
timeout 4·max(1, log10 n) s to 6 times that. Every cell starts from a converged group,
then sets the loss and lets 30 s pass. Figures are in simulated time, so the machine's load
changes only how long the run takes.

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(if [ -n "${SIM_FROM:-}" ]; then echo "tables from runs made separately${SIM_FROM_NOTE:+: $SIM_FROM_NOTE}"; else echo "run time $((RUN_SECONDS / 60)) min $((RUN_SECONDS % 60)) s ($(bench_load_note "$LOAD_BEFORE"))"; fi)
- Machine: $(bench_machine)
- Commit: $(bench_commit)
- Command: \`scripts/bench/simulator.sh\`$([ "$BENCH_QUICK" = 1 ] && echo ' --quick (shorter runs: a check, not the figures)')$([ -n "${BENCH_TESTS_BUNDLE:-}" ] && echo " with BENCH_TESTS_BUNDLE=${BENCH_TESTS_BUNDLE#"$ROOT"/} (the figures are in simulated time, the same from any build)")$([ -n "${SIM_MEMBER_HOURS:-}" ] && echo " SIM_MEMBER_HOURS=$SIM_MEMBER_HOURS")$([ -n "$BUILD_SECONDS" ] && echo "; the release build took $BUILD_SECONDS s")

$(cat "$WORK/tables.md")
EOF
  bench_publish simulator scripts/bench/simulator.sh "$WORK/section.md"
fi
exit "$FAILED"
