#!/usr/bin/env bash
# Runs one cargo-fuzz target for a while, growing its corpus, and keeps any crash.
#   scripts/fuzz.sh TARGET [MINUTES]     e.g. scripts/fuzz.sh elf 10
# Targets are fuzz/fuzz_targets/TARGET.rs; the corpus is fuzz/corpus/TARGET/ (libFuzzer adds new
# interesting inputs there: shrink it with `cargo +nightly fuzz cmin TARGET fuzz/corpus/TARGET`
# before committing if it grew). Crash inputs are copied to fuzz/regressions/TARGET/, which
# `cargo test --test it fuzz_corpus` replays.
set -euo pipefail

target=${1:?usage: scripts/fuzz.sh TARGET [MINUTES]}
minutes=${2:-10}
seconds=$((minutes * 60))
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

[ -f "fuzz/fuzz_targets/$target.rs" ] || { echo "fuzz.sh: no target fuzz/fuzz_targets/$target.rs" >&2; exit 2; }
cargo +nightly --version >/dev/null 2>&1 || { echo "fuzz.sh: the nightly toolchain is missing: rustup toolchain install nightly" >&2; exit 2; }
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version 0.13.1 --locked
fi

corpus=fuzz/corpus/$target
artifacts=fuzz/artifacts/$target
mkdir -p "$corpus" "$artifacts"
before=$(find "$artifacts" -type f | wc -l)

status=0
# Inputs up to 256 KiB: real binaries are longer, but their headers, tables and notes are near
# the start, and shorter inputs run many times faster. Recipes are text of a few KiB: 16 KiB.
case $target in
  recipe) max_len=16384 ;;
  *) max_len=262144 ;;
esac
cargo +nightly fuzz run "$target" "$corpus" -- \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="${FUZZ_MAX_LEN:-$max_len}" || status=$?

found=0
for f in "$artifacts"/*; do
  [ -f "$f" ] || continue
  mkdir -p "fuzz/regressions/$target"
  if [ ! -e "fuzz/regressions/$target/$(basename "$f")" ]; then
    cp "$f" "fuzz/regressions/$target/"
    found=$((found + 1))
  fi
done
total=$(find "$artifacts" -type f | wc -l)
echo "fuzz.sh: $target ran ${minutes} min; corpus $(find "$corpus" -type f | wc -l) files, $(du -sh "$corpus" | cut -f1); artifacts $before -> $total; $found new in fuzz/regressions/$target/"
if [ "$status" -ne 0 ]; then
  echo "fuzz.sh: the fuzzer stopped with status $status (a crash, timeout or OOM: see above)" >&2
fi
exit "$status"
