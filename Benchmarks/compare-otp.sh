#!/usr/bin/env bash
# Runs the StateServer benchmarks and their Erlang/OTP counterparts back to back, scenario by scenario, on this
# machine, and compares the medians.
#
#   bash Benchmarks/compare-otp.sh                 # 5 repetitions per scenario, full sizes (about 6 minutes)
#   bash Benchmarks/compare-otp.sh --quick         # 3 repetitions, counts × 0.1 (about 2 minutes)
#   bash Benchmarks/compare-otp.sh --repetitions 7 --no-scaling
#   bash Benchmarks/compare-otp.sh --only call_rtt_1,cast_1to1
#
# Prints a table (scenario, OTP median, StateServer median, ratio = StateServer / OTP, target, spread) and writes
#   Benchmarks/results/latest.json          one object per compared scenario
#   Benchmarks/results/latest-details.json  the machine, the command, every figure with its values (scaling too)
# (--quick and --only runs write quick*.json / only*.json instead, leaving latest.json alone.)
# Needs Erlang/OTP (erl, erlc), Swift and python3; installs nothing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
results="$here/results"

invocation="bash Benchmarks/compare-otp.sh${*:+ $*}"
repetitions=""
quick=0
scaling=1
only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --repetitions) repetitions="${2:?--repetitions needs a count}"; shift ;;
        --no-scaling) scaling=0 ;;
        --only) only="${2:?--only needs scenario names}"; shift ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ -z "$repetitions" ]; then
    if [ "$quick" = 1 ]; then repetitions=3; else repetitions=5; fi
fi
case "$repetitions" in ''|*[!0-9]*|0) echo "--repetitions needs a positive count" >&2; exit 2 ;; esac

missing=0
for tool in erl erlc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: '$tool' not found: Erlang/OTP is needed for the comparison." >&2
        missing=1
    fi
done
if [ "$missing" = 1 ]; then
    echo "Install it (Debian/Ubuntu) with:  apt-get update && apt-get install -y erlang-nox" >&2
    exit 1
fi
for tool in swift python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: '$tool' not found; it is needed to build the Swift side / to compare the results." >&2
        exit 1
    fi
done

if [ "$quick" = 1 ]; then scale=0.1; else scale=1.0; fi
core_groups="call_rtt_1 call_rtt_8to1 cast_1to1 statem_event statem_event_state_timeout machines_100k
timeouts_100k_lateness_p99 timeouts_100k_herd_p99 idle_1m postpone_1000_replay"
scaling_groups="scaling_1k scaling_10k scaling_100k scaling_1m call_latency_1 call_latency_2 call_latency_8
call_latency_64"
if [ -n "$only" ]; then
    # Figure names of multi-figure groups name their group.
    core_groups="$(echo "$only" | tr ',' ' ' | sed -E 's/machines_100k_(create|bytes)/machines_100k/g;
        s/idle_1m_bytes/idle_1m/g; s/(timeouts_100k_(lateness|herd))_(p50|max)/\1_p99/g')"
    scaling_groups=""
elif [ "$scaling" = 0 ]; then
    scaling_groups=""
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/compare-otp.XXXXXX")"
trap 'rm -rf "$work"' EXIT

started=$(date +%s)
echo "== compiling the Erlang modules" >&2
erlc -o "$work" "$here"/otp/*.erl

echo "== building the Swift benchmarks (release)" >&2
# (Retried: a source file edited while the build runs makes it fail.)
for attempt in 1 2 3; do
    if swift build -c release --package-path "$here" >&2; then break; fi
    [ "$attempt" = 3 ] && { echo "error: the Swift build failed" >&2; exit 1; }
    echo "== the build failed; retrying" >&2
    sleep 5
done
binary="$(swift build -c release --package-path "$here" --show-bin-path)/StateServerBenchmarks"

otp_release="$(erl -noshell -eval 'io:format("~s (erts ~s)~n",[erlang:system_info(otp_release), erlang:system_info(version)]), halt().')"
{
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
    echo "memory=$(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo 2>/dev/null)"
    echo "kernel=$(uname -sr)"
    echo "os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
    echo "swift=$(swift --version 2>/dev/null | head -1)"
    echo "otp=$otp_release"
    echo "commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$( [ -n "$(git -C "$root" status --porcelain -- Sources Package.swift Benchmarks ':!Benchmarks/results' 2>/dev/null)" ] && echo ' + uncommitted changes')"
    echo "command=$invocation"
    echo "repetitions=$repetitions"
    echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "scale=$scale"
} > "$work/machine.txt"

run_group() {  # $1 = group name, $2 = repetitions
    echo "== $1: Erlang/OTP" >&2
    ERL_CRASH_DUMP="$work/erl_crash.dump" erl -noshell +P 2000000 -pa "$work" -s ss_bench main "$2" "$scale" "$1" -s init stop \
        >> "$work/otp.jsonl"
    echo "== $1: StateServer" >&2
    local swift_args=(--json --only "$1" --repetitions "$2" --scale "$scale")
    [ "$quick" = 1 ] && swift_args+=(--quick)
    "$binary" "${swift_args[@]}" > "$work/swift-$1.json"
}

for group in $core_groups; do
    run_group "$group" "$repetitions"
done
# The scaling runs are figures for Docs/Performance.md, not compared with targets: 3 repetitions (1 with --quick).
for group in $scaling_groups; do
    run_group "$group" "$([ "$quick" = 1 ] && echo 1 || echo 3)"
done
elapsed=$(( $(date +%s) - started ))
{ echo "elapsed=${elapsed}s"; echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)"; } >> "$work/machine.txt"

# Only a full run of every scenario replaces latest.json; --quick and --only runs write beside it.
if [ -n "$only" ]; then name=only; elif [ "$quick" = 1 ]; then name=quick; else name=latest; fi
mkdir -p "$results"
python3 - "$work" "$results" "$name" <<'PYTHON'
import glob, json, os, statistics, sys

work, results, name = sys.argv[1], sys.argv[2], sys.argv[3]

# ratio = StateServer / OTP, lower is better; the issue's targets.
TARGETS = {
    "call_rtt_1": 0.10, "call_rtt_8to1": 0.25, "cast_1to1": 0.25, "statem_event": 0.10,
    "statem_event_state_timeout": 0.10, "machines_100k_create": 0.10, "machines_100k_bytes": 0.10,
    "timeouts_100k_lateness_p99": 1.0, "timeouts_100k_herd_p99": 0.25, "idle_1m_bytes": 0.10,
    "postpone_1000_replay": 0.10,
}
ORDER = list(TARGETS)

machine = {}
for line in open(os.path.join(work, "machine.txt")):
    key, _, value = line.rstrip("\n").partition("=")
    machine[key] = value

otp = {}
for line in open(os.path.join(work, "otp.jsonl")):
    line = line.strip()
    if line.startswith("{"):
        record = json.loads(line)
        otp[record["scenario"]] = record
swift = {}
for path in sorted(glob.glob(os.path.join(work, "swift-*.json"))):
    with open(path) as file:
        document = json.load(file)
    for figure in document["figures"]:
        swift[figure["scenario"]] = figure

def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": values}

def fmt(value):
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"

def spread(s):
    return f"{fmt(s['min'])}–{fmt(s['max'])}" if s else "-"

def compare(names):
    rows = []
    for name in names:
        o = summary(otp[name]["values"]) if name in otp else None
        s = summary(swift[name]["values"]) if name in swift else None
        unit = (swift.get(name) or otp.get(name) or {}).get("unit", "")
        ratio = s["median"] / o["median"] if o and s and o["median"] > 0 else None
        target = TARGETS.get(name)
        met = None if ratio is None or target is None else ratio <= target
        rows.append({
            "scenario": name, "unit": unit,
            "otp": o and o["median"], "stateserver": s and s["median"],
            "ratio": None if ratio is None else round(ratio, 4),
            "target": target, "met": met,
            "spread": {"otp": o and [o["min"], o["max"]], "stateserver": s and [s["min"], s["max"]]},
            "values": {"otp": o and o["values"], "stateserver": s and s["values"]},
            "repetitions": {"otp": len(o["values"]) if o else 0, "stateserver": len(s["values"]) if s else 0},
        })
    return rows

def table(rows, with_target=True):
    header = ["scenario", "unit", "OTP median", "StateServer median", "ratio"]
    if with_target:
        header += ["target", "met"]
    header += ["OTP min–max", "StateServer min–max"]
    lines = [header]
    for r in rows:
        cells = [r["scenario"], r["unit"], fmt(r["otp"]), fmt(r["stateserver"]),
                 "-" if r["ratio"] is None else f"{r['ratio']:.3f}"]
        if with_target:
            cells += ["-" if r["target"] is None else f"≤ {r['target']:g}",
                      "-" if r["met"] is None else ("yes" if r["met"] else "**no**")]
        cells += [spread({"min": r["spread"]["otp"][0], "max": r["spread"]["otp"][1]} if r["spread"]["otp"] else None),
                  spread({"min": r["spread"]["stateserver"][0], "max": r["spread"]["stateserver"][1]}
                         if r["spread"]["stateserver"] else None)]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    left = {0, 1}
    def render(cells):
        return "| " + " | ".join(c.ljust(widths[i]) if i in left else c.rjust(widths[i])
                                 for i, c in enumerate(cells)) + " |"
    out = [render(header), "|" + "|".join(("-" * (w + 2)) if i in left else ("-" * (w + 1) + ":")
                                         for i, w in enumerate(widths)) + "|"]
    out += [render(cells) for cells in lines[1:]]
    return "\n".join(out)

core_names = [n for n in ORDER if n in otp or n in swift]
core = compare(core_names)
compact = [{k: r[k] for k in ("scenario", "unit", "otp", "stateserver", "ratio", "target", "met", "spread",
                              "repetitions")} for r in core]
with open(os.path.join(results, f"{name}.json"), "w") as file:
    json.dump(compact, file, indent=2)
    file.write("\n")

def order(name):
    sizes = {"1k": 1, "10k": 2, "100k": 3, "1m": 4}
    parts = name.split("_")
    if name.startswith("scaling_"):
        return (2, parts[1], sizes.get(parts[2], 9), name)
    if name.startswith("call_latency_"):
        return (3, int(parts[2]), parts[3], name)
    return (1, name, 0, name)
others = sorted((set(otp) | set(swift)) - set(core_names), key=order)
extra = compare(others)
with open(os.path.join(results, f"{name}-details.json"), "w") as file:
    json.dump({"machine": machine, "compared": core, "more": extra}, file, indent=2)
    file.write("\n")

print()
print("Machine: " + "; ".join(f"{k} {v}" for k, v in machine.items() if k not in ("command",)))
print("Command: " + machine.get("command", ""))
print()
print(table(core))
met = sum(1 for r in core if r["met"])
print(f"\n{met} of {len(core)} targets met (ratio = StateServer / OTP, lower is better; units per operation).")
if extra:
    print()
    print(table(extra, with_target=False))
# The scaling figures pivoted: one row per machine count / caller count (Markdown, as in Docs/Performance.md).
def median_of(side, name):
    record = side.get(name)
    return statistics.median(record["values"]) if record and record["values"] else None

def pair(name):
    s, o = median_of(swift, name), median_of(otp, name)
    ratio = f"{s / o:.2f}" if s is not None and o else "-"
    return [fmt(s), fmt(o), ratio]

def markdown(header, rows, left=1):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i < left else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)

sizes = [size for size in ("1k", "10k", "100k", "1m") if f"scaling_events_{size}" in swift or f"scaling_events_{size}" in otp]
if sizes:
    print("\nScaling with the number of machines (medians; StateServer, OTP, ratio):\n")
    header = ["machines", "ns/event SS", "OTP", "ratio", "bytes/machine SS", "OTP", "ratio", "ns/start SS", "OTP", "ratio"]
    rows = [[size.replace("m", "M")] + pair(f"scaling_events_{size}")
            + pair(f"scaling_bytes_{size}") + pair(f"scaling_create_{size}") for size in sizes]
    print(markdown(header, rows))
callers = [c for c in (1, 2, 8, 64) if f"call_latency_{c}_p50" in swift or f"call_latency_{c}_p50" in otp]
if callers:
    print("\nCall latency under concurrent callers (medians of the per-run percentiles, ns):\n")
    header = ["callers", "p50 SS", "OTP", "ratio", "p99 SS", "OTP", "ratio"]
    rows = [[str(c)] + pair(f"call_latency_{c}_p50") + pair(f"call_latency_{c}_p99") for c in callers]
    print(markdown(header, rows))
print(f"\nwrote {os.path.join(results, name + '.json')} and {os.path.join(results, name + '-details.json')}")
PYTHON
