#!/usr/bin/env bash
# Runs one cargo-fuzz target for a while, growing its corpus, and keeps any crash.
#   scripts/fuzz.sh TARGET [MINUTES]     e.g. scripts/fuzz.sh elf 10
# Targets are fuzz/fuzz_targets/TARGET.rs; the corpus is fuzz/corpus/TARGET/ (libFuzzer adds new
# interesting inputs there: shrink it with `cargo +nightly fuzz cmin TARGET fuzz/corpus/TARGET`
# before committing if it grew). Crash inputs are copied to fuzz/regressions/TARGET/, which
# `cargo test --test it fuzz_corpus` replays.
#   scripts/fuzz.sh --short             CI's short mode: every target for FUZZ_SECONDS (default
#                                       10) each, built once without optimisation (`--dev`),
#                                       from 100 of its corpus's inputs (the first by name: the
#                                       names are hashes) copied to a temp dir, where new inputs
#                                       stay (`cargo test` replays the whole corpora); fails on
#                                       any crash, timeout or OOM
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo +nightly --version >/dev/null 2>&1 || { echo "fuzz.sh: the nightly toolchain is missing: rustup toolchain install nightly (scripts/setup.sh --tests does)" >&2; exit 2; }
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version 0.13.1 --locked
fi

# Inputs up to 256 KiB: real binaries are longer, but their headers, tables and notes are near
# the start, and shorter inputs run many times faster. Recipes are text of a few KiB: 16 KiB.
max_len() {
  case $1 in
    recipe) echo "${FUZZ_MAX_LEN:-16384}" ;;
    *) echo "${FUZZ_MAX_LEN:-262144}" ;;
  esac
}

if [ "${1:-}" = --short ]; then
  seconds=${FUZZ_SECONDS:-10}
  scratch=$(mktemp -d /tmp/recipe-fuzz-short.XXXXXX)
  trap 'rm -rf "$scratch"' EXIT
  cargo +nightly fuzz build --dev
  failed=()
  mapfile -t targets < <(cargo +nightly fuzz list)
  [ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh --short: cargo fuzz list names no target" >&2; exit 1; }
  for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t" "fuzz/corpus/$t"
    mapfile -t seeds < <(find "fuzz/corpus/$t" -type f ! -name README.md | sort)
    [ ${#seeds[@]} -eq 0 ] || cp -t "$scratch/$t" "${seeds[@]:0:100}"
    echo "fuzz.sh --short: $t for ${seconds}s from $(find "$scratch/$t" -type f | wc -l) seeds" >&2
    cargo +nightly fuzz run --dev "$t" "$scratch/$t" -- -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len="$(max_len "$t")" || failed+=("$t")
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh --short: ${failed[*]} stopped with a crash, timeout or OOM (inputs in fuzz/artifacts/)" >&2
    exit 1
  fi
  echo "fuzz.sh --short: every target ran ${seconds}s without a crash"
  exit 0
fi

target=${1:?usage: scripts/fuzz.sh TARGET [MINUTES] | --short}
minutes=${2:-10}
seconds=$((minutes * 60))
[ -f "fuzz/fuzz_targets/$target.rs" ] || { echo "fuzz.sh: no target fuzz/fuzz_targets/$target.rs" >&2; exit 2; }

corpus=fuzz/corpus/$target
artifacts=fuzz/artifacts/$target
mkdir -p "$corpus" "$artifacts"
before=$(find "$artifacts" -type f | wc -l)

status=0
cargo +nightly fuzz run "$target" "$corpus" -- \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$target")" || status=$?

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
