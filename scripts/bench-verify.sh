#!/usr/bin/env bash
# Benchmarks `recipe verify` against the usual shell check on the same binaries, in one run:
#   baseline, per file: file -L "$f"; readelf -d "$f"; readelf -A "$f"    (output to /dev/null)
#   recipe:             recipe verify FILE...                             (one call, release build)
# Set 1: every ELF regular file under /usr/bin and /usr/sbin (symlinks resolved, deduped) plus the
# fuzz seeds in fuzz/corpus/elf/. Set 2: a few large ELFs (> 20 MB, built here), with recipe's
# peak RSS against the bytes it checked. Each side runs 3 times; the best time counts (the
# machine may be shared). `recipe verify` exits 1 when a file fails (dynamic binaries do): that
# is expected; only a crash or a usage error fails this script.
#   scripts/bench-verify.sh            needs: bash scripts/setup.sh --tests (file, binutils,
#                                      time), cargo
#   scripts/bench-verify.sh --short    CI's short mode: the debug build, one run, at most 40
#                                      system binaries and 40 seeds, large binaries of 4 and
#                                      8 MiB; checks that the script works, not speed
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "${1:-}" = --short ]; then
  short=yes runs=1 max_set1=40 blob_mib=4 blob2_mib=8
else
  short=no runs=${BENCH_RUNS:-3} max_set1=1000000 blob_mib=64 blob2_mib=160
fi

for tool in file readelf /usr/bin/time gcc; do
  command -v "$tool" >/dev/null || { echo "bench-verify: $tool is missing: run bash scripts/setup.sh --tests" >&2; exit 2; }
done

if [ "$short" = yes ]; then
  cargo build --quiet
  recipe=$root/target/debug/recipe
else
  echo "building recipe (cargo build --release)..." >&2
  cargo build --release --quiet
  recipe=$root/target/release/recipe
fi

is_elf() { [ "$(head -c4 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }

now() { date +%s.%N; }

# best_of NAME CMD...: runs CMD $runs times and prints the best wall time in seconds.
best_of() {
  local best="" t0 t1 t
  for _ in $(seq "$runs"); do
    t0=$(now)
    "$@"
    t1=$(now)
    t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  printf '%.3f\n' "$best"
}

baseline() {
  local f
  for f in "$@"; do
    file -L "$f" >/dev/null 2>&1 || true
    readelf -d "$f" >/dev/null 2>&1 || true
    readelf -A "$f" >/dev/null 2>&1 || true
  done
}

# run_recipe verify|check FILE...: exit 0 (all static, or all distroless-ready) and 1 (some file
# is not: expected here) are fine; anything else (2: bad input) is a real failure.
run_recipe() {
  local status=0 cmd=$1
  shift
  "$recipe" "$cmd" "$@" >/dev/null 2>&1 || status=$?
  if [ "$status" -gt 1 ]; then
    echo "bench-verify: recipe $cmd exited $status" >&2
    exit 1
  fi
}

total_mib() { du -cbL "$@" | tail -1 | awk '{printf "%.1f", $1 / 1048576}'; }

# ratio NAME BASE_SECONDS SECONDS
ratio() {
  if [ "$(echo "$2 >= $3" | bc -l)" = 1 ]; then
    printf 'ratio: %s is %.1fx faster\n' "$1" "$(echo "$2 / $3" | bc -l)"
  else
    printf 'ratio: %s is %.1fx slower\n' "$1" "$(echo "$3 / $2" | bc -l)"
  fi
}

# table SET NFILES BASE_SECONDS VERIFY_SECONDS CHECK_SECONDS
table() {
  local n=$2 base=$3 rec=$4 chk=$5
  printf '\n%s\n' "$1"
  printf '%-34s %7s %12s %10s\n' tool files "best s" "files/s"
  printf '%-34s %7d %12.3f %10.0f\n' "file -L + readelf -d + readelf -A" "$n" "$base" "$(echo "$n / $base" | bc -l)"
  printf '%-34s %7d %12.3f %10.0f\n' "recipe verify" "$n" "$rec" "$(echo "$n / $rec" | bc -l)"
  printf '%-34s %7d %12.3f %10.0f\n' "recipe check" "$n" "$chk" "$(echo "$n / $chk" | bc -l)"
  ratio "recipe verify" "$base" "$rec"
  ratio "recipe check" "$base" "$chk"
}

# --- Set 1: the system's binaries and the fuzz seeds ------------------------------------------
# (each list on its own: a failing readlink (a dangling link) or a last file that is not ELF must
# not end the list early, as they once did, silently dropping the seeds)
system_elves() {
  find /usr/bin /usr/sbin \( -type f -o -type l \) -print0 | { xargs -0 readlink -e 2>/dev/null || true; } |
    sort -u | while IFS= read -r f; do if [ -f "$f" ] && is_elf "$f"; then echo "$f"; fi; done
}
mapfile -t system < <(system_elves | head -n "$max_set1")
mapfile -t seeds < <(find fuzz/corpus/elf -type f ! -name README.md | sort | head -n "$max_set1")
[ ${#system[@]} -gt 0 ] || { echo "bench-verify: no ELF file under /usr/bin or /usr/sbin" >&2; exit 1; }
[ ${#seeds[@]} -gt 0 ] || { echo "bench-verify: no fuzz seed in fuzz/corpus/elf" >&2; exit 1; }
files=("${system[@]}" "${seeds[@]}")
n=${#files[@]}
echo "set 1: $n files, $(total_mib "${files[@]}") MiB (${#system[@]} ELF files from /usr/bin and /usr/sbin, ${#seeds[@]} from fuzz/corpus/elf); best of $runs runs"
baseline "${files[@]}"  # warm the page cache for both sides
base=$(best_of baseline "${files[@]}")
rec=$(best_of run_recipe verify "${files[@]}")
chk=$(best_of run_recipe check "${files[@]}")
table "set 1: system binaries + fuzz seeds" "$n" "$base" "$rec" "$chk"

# --- Set 2: large binaries ----------------------------------------------------------------------
big=$(mktemp -d)
trap 'rm -rf "$big"' EXIT
# A C program with a 64 MiB initialised array: a real static ELF whose file is mostly .rodata.
printf 'const char blob[%d << 20] = {1};\nint main(void) { return blob[0] - 1; }\n' "$blob_mib" > "$big/blob.c"
gcc -O0 -static "$big/blob.c" -o "$big/blob-${blob_mib}M-static"
printf 'const char blob[%d << 20] = {1};\nint main(void) { return blob[0] - 1; }\n' "$blob2_mib" > "$big/blob2.c"
gcc -O0 -static-pie "$big/blob2.c" -o "$big/blob-${blob2_mib}M-static-pie"
cp "$big/blob-${blob_mib}M-static" "$big/blob-${blob_mib}M-static-copy"
bigs=("$big/blob-${blob_mib}M-static" "$big/blob-${blob_mib}M-static-copy" "$big/blob-${blob2_mib}M-static-pie")
bigs_from=("$root/target/debug/recipe" "$root/target/release/recipe")
[ "$short" = no ] || bigs_from=()
for f in "${bigs_from[@]}"; do
  if [ -f "$f" ] && [ "$(stat -c %s "$f")" -gt $((20 << 20)) ]; then cp "$f" "$big/$(basename "$(dirname "$f")")-recipe"; bigs+=("$big/$(basename "$(dirname "$f")")-recipe"); fi
done
nb=${#bigs[@]}
bytes=$(du -cbL "${bigs[@]}" | tail -1 | cut -f1)
largest=$(stat -c %s "${bigs[@]}" | sort -n | tail -1)
echo
echo "set 2: $nb large ELFs, $(total_mib "${bigs[@]}") MiB; largest $((largest >> 20)) MiB:"
for f in "${bigs[@]}"; do printf '  %-28s %5d MiB\n' "$(basename "$f")" $(($(stat -c %s "$f") >> 20)); done
baseline "${bigs[@]}"
base=$(best_of baseline "${bigs[@]}")
rec=$(best_of run_recipe verify "${bigs[@]}")
chk=$(best_of run_recipe check "${bigs[@]}")
table "set 2: large binaries" "$nb" "$base" "$rec" "$chk"
status=0
/usr/bin/time -v "$recipe" verify "${bigs[@]}" >/dev/null 2>"$big/time.txt" || status=$?
[ "$status" -le 1 ] || { cat "$big/time.txt" >&2; exit 1; }
rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$big/time.txt")
printf 'recipe peak RSS: %d MiB for %d MiB checked (largest file %d MiB): RSS/largest = %.2f, RSS/total = %.2f\n' \
  $((rss_kib >> 10)) $((bytes >> 20)) $((largest >> 20)) \
  "$(echo "$rss_kib * 1024 / $largest" | bc -l)" "$(echo "$rss_kib * 1024 / $bytes" | bc -l)"
if [ $((rss_kib * 1024)) -ge $((largest * 9 / 10)) ]; then
  echo "  (RSS is about the largest file)"
else
  echo "  (RSS is well under the largest file: files are mapped, and only their headers and data sections are read)"
fi
