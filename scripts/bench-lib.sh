# Helpers the side-by-side benchmark scripts share; sourced, not run.

# The CPU's vector flags, one line: print them with every benchmark.
cpu_flags() {
  grep -o -w 'avx2\|avx512[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' '
}

# The median of the numbers on stdin (one per line or space-separated; the mean of the middle two for an even count).
median() {
  tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
}
