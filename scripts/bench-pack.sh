#!/usr/bin/env bash
# Benchmark of packing one layer: recipe's own writer (examples/pack_tree.rs: tar -> gzip -6 ->
# sha256 of both, streamed into the OCI layout) against GNU tar piped into gzip -6, in one run
# on this machine, best of 3 each (the runs alternate, the machine may be shared), so the
# figures are ratios, not absolute times. Not a test: it prints a table and exits 0.
#
# The tree (~SIZE_MB MiB, default 200) is generated in a temp dir, the same on the same machine:
#   45%  ELF executables copied from /usr/bin (sorted by name, each at most 32 MiB)
#   25%  ELF shared libraries from /usr/lib/x86_64-linux-gnu (sorted), with `lib*.so` symlinks
#   15%  text: C headers from /usr/include (sorted, their folders kept)
#   15%  incompressible data: an AES-128-CTR keystream (fixed key and iv) of /dev/zero, split
#        into 4 MiB files
# It is read once before timing so both tools read it from the page cache.
#
# Usage: scripts/bench-pack.sh [SIZE_MB]
#        scripts/bench-pack.sh --short    CI's short mode: an 8 MiB tree, one run each, the
#                                         debug build; checks that the script works, not speed
set -euo pipefail
cd "$(dirname "$0")/.."
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench-pack: $TIME is missing (apt-get install time)" >&2; exit 1; }
export LC_ALL=C

if [ "${1:-}" = --short ]; then
  SIZE_MB=8 RUNS=1
  cargo build -q --example pack_tree
  PACK=$PWD/target/debug/examples/pack_tree
else
  SIZE_MB=${1:-200} RUNS=3
  cargo build --release -q --example pack_tree
  PACK=$PWD/target/release/examples/pack_tree
fi
WORK=$(mktemp -d /tmp/recipe-bench-pack.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
TREE=$WORK/tree
mkdir -p "$TREE"

total=$((SIZE_MB * 1024 * 1024))
# copy_until BUDGET DEST_DIR KEEP_PREFIX < list of files: copies the files (in list order) that
# still fit in BUDGET bytes; KEEP_PREFIX non-empty keeps paths relative to it.
copy_until() {
  local budget=$1 dest=$2 prefix=$3 done=0 f size rel
  while IFS= read -r f; do
    size=$(stat -c %s "$f")
    [ "$size" -le $((32 * 1024 * 1024)) ] && [ $((done + size)) -le "$budget" ] || continue
    if [ -n "$prefix" ]; then rel=${f#"$prefix"/}; else rel=$(basename "$f"); fi
    mkdir -p "$dest/$(dirname "$rel")"
    cp "$f" "$dest/$rel"
    done=$((done + size))
  done
}
is_elf() { while IFS= read -r f; do if [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ]; then echo "$f"; fi; done; }

# (lists first: a reader that stops early would break the pipe of a longer one)
find /usr/bin -maxdepth 1 -type f | sort | is_elf >"$WORK/bins"
find /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -name 'lib*.so.*' | sort | is_elf >"$WORK/libs"
find /usr/include -type f -name '*.h' | sort >"$WORK/headers"
copy_until $((total * 45 / 100)) "$TREE/usr/bin" "" <"$WORK/bins"
copy_until $((total * 25 / 100)) "$TREE/usr/lib" "" <"$WORK/libs"
for lib in "$TREE"/usr/lib/lib*.so.*; do
  link=${lib%%.so.*}.so
  [ -e "$link" ] || ln -s "$(basename "$lib")" "$link"
done
copy_until $((total * 15 / 100)) "$TREE/usr/include" /usr/include <"$WORK/headers"
mkdir -p "$TREE/var/data"
random=$((total * 15 / 100))
{ # openssl dies of SIGPIPE when head has enough
  openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f \
    -iv 0f0e0d0c0b0a09080706050403020100 -in /dev/zero 2>/dev/null || true
} | head -c "$random" | split -b 4M -d -a 3 - "$TREE/var/data/blob-"
chmod -R u+rwX,go+rX "$TREE"

tree_bytes=$(du -sb "$TREE" | cut -f1)
files=$(find "$TREE" -type f | wc -l)
links=$(find "$TREE" -type l | wc -l)
find "$TREE" -type f -exec cat {} + >/dev/null # warm the page cache

# run NAME CMD...: appends "NAME seconds maxrss_kib" to $WORK/runs
run() {
  local name=$1
  shift
  "$TIME" -f '%e %M' -o "$WORK/t" "$@" >/dev/null
  echo "$name $(cat "$WORK/t")" >>"$WORK/runs"
}
: >"$WORK/runs"
for _ in $(seq "$RUNS"); do
  rm -rf "$WORK/layout" "$WORK/out.tar.gz"
  run tar bash -c "tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - -C '$TREE' . | gzip -6 > '$WORK/out.tar.gz'"
  run recipe "$PACK" "$TREE" "$WORK/layout"
done
tar_bytes=$(stat -c %s "$WORK/out.tar.gz")
tar_raw=$(gzip -dc "$WORK/out.tar.gz" | wc -c)
info=$("$PACK" "$TREE" "$WORK/layout")
recipe_bytes=$(echo "$info" | sed -n 's/.*compressed \([0-9]*\) bytes,.*/\1/p')
recipe_raw=$(echo "$info" | sed -n 's/.*uncompressed \([0-9]*\) bytes.*/\1/p')

best() { awk -v n="$1" '$1 == n { if (!s || $2 < s) s = $2; if ($3 > m) m = $3 } END { print s, m }' "$WORK/runs"; }
read -r tar_s tar_kib <<<"$(best tar)"
read -r rec_s rec_kib <<<"$(best recipe)"

echo "tree: $tree_bytes bytes ($((tree_bytes / 1048576)) MiB) in $files files and $links symlinks ($(nproc) CPUs)"
echo "runs (seconds, max RSS KiB):"
sed 's/^/  /' "$WORK/runs"
echo
printf '%-12s %9s %14s %14s %13s\n' tool seconds 'output bytes' 'tar bytes' 'peak RSS MiB'
printf '%-12s %9s %14s %14s %13s\n' 'tar+gzip -6' "$tar_s" "$tar_bytes" "$tar_raw" "$(awk -v k="$tar_kib" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '%-12s %9s %14s %14s %13s\n' recipe "$rec_s" "$recipe_bytes" "$recipe_raw" "$(awk -v k="$rec_kib" 'BEGIN { printf "%.1f", k / 1024 }')"
echo
awk -v r="$rec_s" -v t="$tar_s" 'BEGIN { printf "time ratio recipe/tar+gzip: %.2f (aim <= 0.5)\n", r / t }'
awk -v r="$recipe_bytes" -v t="$tar_bytes" 'BEGIN { printf "size ratio: %.3f (aim <= 1.00)\n", r / t }'
echo "recipe peak RSS: $((rec_kib / 1024)) MiB for a $((tree_bytes / 1048576)) MiB tree"
