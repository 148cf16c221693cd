#!/usr/bin/env bash
# Side by side, in one run: one llama.cpp stage's decode call (StageRowsRun: layers START..END of MODEL on one core,
# one position per sequence per call, contexts of 16-128 positions) against the rows in the call, with rows padded to
# a multiple of 4 (-Dbunshin.llama.pad-rows=on, the default for repacked weights on the CPU) and without (=off),
# alternating, ROUNDS times each; prints each run and the medians per row count.
# Usage: scripts/bench-row-padding.sh MODEL.gguf [START=12] [END=22] [ROWS=12,13,14,15,16] [ROUNDS=3] [CORE=0]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MODEL="${1:?usage: scripts/bench-row-padding.sh MODEL.gguf [START] [END] [ROWS] [ROUNDS] [CORE]}"
START="${2:-12}"; END="${3:-22}"; ROWS="${4:-12,13,14,15,16}"; ROUNDS="${5:-3}"; CORE="${6:-0}"
[ -f "$MODEL" ] || { echo "bench-row-padding: no model file $MODEL" >&2; exit 2; }
"$ROOT/bunshin" build
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
. "$ROOT/scripts/bench-lib.sh"
echo "CPU: $(cpu_flags)"
echo "layers [$START, $END) of $MODEL, rows $ROWS, core $CORE"
out=$(mktemp); trap 'rm -f "$out"' EXIT
for r in $(seq 1 "$ROUNDS"); do
  for mode in on off; do
    (cd "$ROOT" && taskset -c "$CORE" "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector \
      --enable-native-access=ALL-UNNAMED -Xmx2048m -Dbunshin.llama.pad-rows="$mode" \
      -cp "cli/target/classes:cli/target/lib/*" dev.bunshin.cli.StageRowsRun "$MODEL" "$START" "$END" "$ROWS" 2>/dev/null) \
      | grep '^ROW' | while read -r _ rows ms; do
        printf 'round %d pad %-3s: %2d rows %8.2f ms\n' "$r" "$mode" "$rows" "$ms"; echo "$mode $rows $ms" >> "$out"; done
  done
done
echo "medians (ms per call; per row):"
for rows in ${ROWS//,/ }; do
  on=$(awk -v r="$rows" '$1 == "on" && $2 == r {print $3}' "$out" | median)
  off=$(awk -v r="$rows" '$1 == "off" && $2 == r {print $3}' "$out" | median)
  printf '%2d rows: padded %7.2f ms (%5.2f per row), not padded %7.2f ms (%5.2f per row), padded / not %.2fx\n' \
    "$rows" "$on" "$(echo "$on / $rows" | bc -l)" "$off" "$(echo "$off / $rows" | bc -l)" "$(echo "$on / $off" | bc -l)"
done
