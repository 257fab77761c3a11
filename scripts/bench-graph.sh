#!/usr/bin/env bash
# Benchmark of a recipe graph (default: curl, with zlib and OpenSSL) for all arches, measured in
# one run on this machine so the figures are ratios, not absolute times:
#   cold    `recipe build NAME --arch all` from an empty build cache
#   seq     the same configure/make/install commands as a plain sequential shell script with the
#           same toolchain (scripts/sequential-from-plan.py), `make -j$(nproc)` per step
#   noop    the same `recipe build` again (nothing changed)
#   touch   after a change to one recipe (default: zlib), which rebuilds it and its dependents
# zig, its per-target musl caches and the sources are warmed up first and shared by all runs,
# so no run pays for them. recipe also verifies, strips and smoke-tests every binary and packs
# the image; the script does none of that.
#
# The build cache whose zig, musl caches and sources are shared is RECIPE_CACHE (default
# ~/.cache/recipe); the catalogue is RECIPE_RECIPES (default recipes/). TOUCHED's recipe file is
# changed in place during the run and restored on exit.
#
# Usage: scripts/bench-graph.sh [NAME [TOUCHED [ARCH]]]
#        scripts/bench-graph.sh --short    CI's short mode: the fixture graph hello-dep on
#                                          libgreet (tests/fixtures/recipes) for amd64 with the
#                                          debug build; checks that every run works, not speed
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh   # build_bin, fresh_cache, start_registry
if [ "${1:-}" = --short ]; then
  set -- hello-dep libgreet amd64
  export RECIPE_RECIPES=$PWD/tests/fixtures/recipes
  build_bin debug
else
  build_bin release
fi
NAME=${1:-curl}
TOUCHED=${2:-zlib}
ARCH=${3:-all}
SHARED=${RECIPE_CACHE:-$HOME/.cache/recipe}
RECIPES=${RECIPE_RECIPES:-$PWD/recipes}
export RECIPE_RECIPES="$RECIPES"
WORK=$(mktemp -d /tmp/recipe-bench.XXXXXX)
cp "$RECIPES/$TOUCHED.toml" "$WORK/touched.orig"
trap 'cp "$WORK/touched.orig" "$RECIPES/$TOUCHED.toml"; rm -rf "$WORK"' EXIT

now() { date +%s.%N; }

echo "warming up toolchains and sources (not timed)..." >&2
RECIPE_CACHE="$SHARED" "$BIN" --quiet build "$NAME" --arch "$ARCH" --out "$WORK/warm" >/dev/null

fresh_cache "$WORK/c1"
t0=$(now); RECIPE_CACHE="$WORK/c1" "$BIN" --quiet build "$NAME" --arch "$ARCH" --out "$WORK/o1" >/dev/null; t1=$(now)
cold=$(echo "$t1 - $t0" | bc)

t0=$(now); RECIPE_CACHE="$WORK/c1" "$BIN" --quiet build "$NAME" --arch "$ARCH" --out "$WORK/o1" >/dev/null; t1=$(now)
noop=$(echo "$t1 - $t0" | bc)

echo "# touched by bench-graph.sh" >> "$RECIPES/$TOUCHED.toml"   # restored on exit
t0=$(now); RECIPE_CACHE="$WORK/c1" "$BIN" --quiet build "$NAME" --arch "$ARCH" --out "$WORK/o1" >/dev/null; t1=$(now)
touch_t=$(echo "$t1 - $t0" | bc)

cp "$WORK/touched.orig" "$RECIPES/$TOUCHED.toml"
fresh_cache "$WORK/c2"
RECIPE_CACHE="$WORK/c2" "$BIN" --quiet toolchain >/dev/null   # the wrappers the commands name
RECIPE_CACHE="$WORK/c2" "$BIN" plan "$NAME" --arch "$ARCH" --json --no-sandbox \
  | python3 scripts/sequential-from-plan.py --store "$SHARED/sources" > "$WORK/seq.sh"
t0=$(now)
bash "$WORK/seq.sh" 2>"$WORK/seq.err" || { echo "the sequential script failed:" >&2; tail -20 "$WORK/seq.err" >&2; find "$WORK/c2/work" -name build.log -exec tail -15 {} + >&2; exit 1; }
t1=$(now)
seq=$(echo "$t1 - $t0" | bc)
# the sequential script installed what recipe installed (the app files of NAME, every arch)
python3 - "$WORK/o1/$NAME/bin" "$WORK/c2/work" <<'PY' || exit 1
import os, sys
bins, work = sys.argv[1:]
for arch in sorted(os.listdir(bins)):
    dests = [os.path.join(work, d, "dest") for d in os.listdir(work) if f"-{arch}-" in d]
    for name in sorted(os.listdir(os.path.join(bins, arch))):
        if not any(name in files for dest in dests for _, _, files in os.walk(dest)):
            sys.exit(f"bench-graph: the sequential script did not install {name} for {arch}")
PY

printf '%-34s %10s\n' "run ($NAME, --arch $ARCH)" "seconds"
printf '%-34s %10.2f\n' "recipe, cold cache" "$cold" "sequential script, same commands" "$seq" \
  "recipe, no-op rebuild" "$noop" "recipe, after touching $TOUCHED" "$touch_t"
echo
printf 'sequential / recipe cold:        %8.2fx  (above 1: recipe is faster)\n' "$(echo "$seq / $cold" | bc -l)"
printf 'recipe cold / no-op rebuild:     %8.0fx\n' "$(echo "$cold / $noop" | bc -l)"
printf 'recipe cold / touched rebuild:   %8.2fx\n' "$(echo "$cold / $touch_t" | bc -l)"
