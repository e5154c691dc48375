# Helpers for reading `/usr/bin/time -v -o FILE` reports; sourced by compare.sh and scale.sh.

# time_wall FILE: elapsed wall-clock seconds.
time_wall() {
  awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$1"
}

# time_rss FILE: peak resident set size in KiB.
time_rss() {
  awk -F': ' '/Maximum resident set size/{print $2}' "$1"
}
