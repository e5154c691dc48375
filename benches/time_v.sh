# Helpers for reading `/usr/bin/time -v -o FILE` reports; sourced by compare.sh, read_compare.sh
# and scale.sh.

# time_wall FILE: elapsed wall-clock seconds.
time_wall() {
  awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$1"
}

# time_rss FILE: peak resident set size in KiB.
time_rss() {
  awk -F': ' '/Maximum resident set size/{print $2}' "$1"
}

# time_record TIMEFILE OUTFILE NAME: appends "wall_s rss_kb" of the report to OUTFILE and says
# "NAME: <wall>s, <rss> MiB" on stderr.
time_record() {
  local wall rss
  wall=$(time_wall "$1")
  rss=$(time_rss "$1")
  echo "$wall $rss" >> "$2"
  echo "$3: ${wall}s, $((rss / 1024)) MiB" >&2
}

# median: the median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2)? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# time_measure DIR NAME CMD...: runs CMD under /usr/bin/time -v (its output in DIR/NAME.log,
# shown on failure) and appends "wall_s rss_kb" to DIR/NAME. Syncs first: the previous run's
# writeback must not compete with this run (the box has a ~250 MB/s disk and a products-0.1
# run writes ~1.8 GB).
time_measure() {
  local dir=$1 name=$2; shift 2
  sync
  /usr/bin/time -v -o "$dir/time.txt" "$@" >"$dir/$name.log" 2>&1 || { cat "$dir/$name.log" >&2; exit 1; }
  time_record "$dir/time.txt" "$dir/$name" "$name"
}
