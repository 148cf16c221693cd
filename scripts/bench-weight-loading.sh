#!/usr/bin/env bash
# Side by side, in one run: the single-node llama.cpp baseline of `bench cluster` (SingleNodeRun: one JVM on one core,
# one job then 16 jobs of 64 tokens) with its weights read into memory (-Dbunshin.llama.load=read, the default) and
# mapped from the file (=mmap, llama.cpp's own CPU default), alternating, ROUNDS times each; prints each run and the
# medians. Usage: scripts/bench-weight-loading.sh MODEL.gguf [ROUNDS=3] [CORE=0]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MODEL="${1:?usage: scripts/bench-weight-loading.sh MODEL.gguf [ROUNDS] [CORE]}"
ROUNDS="${2:-3}"
CORE="${3:-0}"
[ -f "$MODEL" ] || { echo "bench-weight-loading: no model file $MODEL" >&2; exit 2; }
"$ROOT/bunshin" build
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
. "$ROOT/scripts/bench-lib.sh"
echo "CPU: $(cpu_flags)"
declare -A one many
for r in $(seq 1 "$ROUNDS"); do
  for mode in read mmap; do
    rows=$(cd "$ROOT" && taskset -c "$CORE" "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector \
      --enable-native-access=ALL-UNNAMED -Xmx2048m -Dbunshin.llama.load="$mode" \
      -cp "cli/target/classes:cli/target/lib/*" dev.bunshin.cli.SingleNodeRun "$MODEL" 1 64 1,16 llama.cpp 2>/dev/null | grep '^ROW')
    s1=$(echo "$rows" | awk '$2 == 1 {print $4}'); s16=$(echo "$rows" | awk '$2 == 16 {print $4}')
    printf '%s round %d %-4s: 1 job %6.2f s (%5.1f tok/s), 16 jobs %6.2f s (%5.1f tok/s)\n' "$(date +%T)" "$r" "$mode" \
      "$s1" "$(echo "64 / $s1" | bc -l)" "$s16" "$(echo "1024 / $s16" | bc -l)"
    one[$mode]+="$s1 "; many[$mode]+="$s16 "
  done
done
for mode in read mmap; do
  m1=$(echo "${one[$mode]}" | median); m16=$(echo "${many[$mode]}" | median)
  printf 'median %-4s: 1 job %.1f tok/s, 16 jobs %.1f tok/s; spread 1 job %s s\n' "$mode" "$(echo "64 / $m1" | bc -l)" \
    "$(echo "1024 / $m16" | bc -l)" "$(echo "${one[$mode]}" | tr ' ' '\n' | grep . | sort -g | sed -n '1p;$p' | paste -sd-)"
done
