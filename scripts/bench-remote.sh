#!/usr/bin/env bash
# Benchmark of the remote build cache (a registry on 127.0.0.1, Debian's docker-registry), for
# a recipe graph (default: curl, with zlib and OpenSSL) and all arches, measured in one run on
# this machine so the figures are ratios:
#   one      one machine: `recipe build NAME --arch ARCH` from an empty build cache
#   runners  RUNNERS runner processes (default 3), each with its own empty build cache, sharing
#            only the registry, as `recipe ci github`'s workflow runs them: the plan
#            (`recipe ci matrix`), then level by level each level's jobs dealt round-robin to
#            the runners, which work at once (`build JOB --no-image`, signed and pushed), then
#            the images job on a fresh cache (`build NAME --arch ARCH`, every job fetched)
#   fetch    a fresh cache fetching the whole graph from the registry and packing the image
#            (`build NAME --arch ARCH`): what a runner pays when nothing changed
# Every run shares zig, its per-target musl caches and the sources, warmed up first (not timed);
# a CI runner would restore them from its toolchain cache. The machine has 2 cores: the runner
# processes share them, so `runners` shows the cost of the handoffs, not a speedup.
# Every cache is at a path of its own: build steps see the job's folders and the cache at fixed
# paths in the sandbox (/build, /recipe/cache), so entries are byte-identical whatever the cache's
# path (OpenSSL records its build paths in libcrypto, and they are the same everywhere).
# It also checks: each job is built exactly once across the runners, and the images job's index
# digest equals the one-machine build's.
#
# Usage: scripts/bench-remote.sh [NAME [ARCH [RUNNERS]]]
#        scripts/bench-remote.sh --short   CI's short mode: the fixture graph hello-dep on
#                                          libgreet for amd64,arm64 with the debug build
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh   # build_bin, fresh_cache, start_registry
if [ "${1:-}" = --short ]; then
  set -- hello-dep amd64,arm64 2
  export RECIPE_RECIPES=$PWD/tests/fixtures/recipes
  build_bin debug
else
  build_bin release
fi
NAME=${1:-curl}
ARCH=${2:-all}
RUNNERS=${3:-3}
SHARED=${RECIPE_CACHE:-$HOME/.cache/recipe}
export RECIPE_RECIPES=${RECIPE_RECIPES:-$PWD/recipes}
WORK=$(mktemp -d /tmp/recipe-bench-remote.XXXXXX)
REG_PID=
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

now() { date +%s.%N; }
in_cache() { # DIR CMD...: CMD with the build cache DIR
  local dir=$1; shift
  RECIPE_CACHE="$dir" "$@"
}

start_registry "$WORK/registry"
export RECIPE_REMOTE_CACHE=127.0.0.1:$REG_PORT/cache RECIPE_REMOTE_CACHE_INSECURE=true
"$BIN" key generate bench --out "$WORK/keys" >/dev/null
export RECIPE_CACHE_TRUST=$(cat "$WORK/keys/bench.pub")
SECRET="$WORK/keys/bench.secret"

echo "warming up toolchains and sources (not timed)..." >&2
env -u RECIPE_REMOTE_CACHE RECIPE_CACHE="$SHARED" "$BIN" --quiet build "$NAME" --arch "$ARCH" --no-image >/dev/null

# one machine, no remote cache
fresh_cache "$WORK/one"
t0=$(now)
in_cache "$WORK/one" env -u RECIPE_REMOTE_CACHE "$BIN" build "$NAME" --arch "$ARCH" --out "$WORK/one-out" >"$WORK/one.log" 2>&1
t1=$(now)
one=$(echo "$t1 - $t0" | bc)

# runners
t0=$(now)
fresh_cache "$WORK/plan"
in_cache "$WORK/plan" "$BIN" --quiet ci matrix "$NAME" --arch "$ARCH" --levels 16 >"$WORK/matrix"
for r in $(seq "$RUNNERS"); do fresh_cache "$WORK/runner$r"; done
while IFS='=' read -r level json; do
  jobs=$(python3 -c 'import json,sys; print("\n".join(j["recipe"]+" "+j["arch"] for j in json.loads(sys.argv[1])))' "$json")
  [ -z "$jobs" ] && continue
  pids=()
  for r in $(seq "$RUNNERS"); do
    mine=$(echo "$jobs" | awk -v r="$r" -v n="$RUNNERS" '(NR-1)%n==r-1')
    [ -z "$mine" ] && continue
    (
      echo "$mine" | while read -r recipe arch; do
        in_cache "$WORK/runner$r" "$BIN" build "$recipe" --arch "$arch" --no-image --signing-key "$SECRET" \
          >>"$WORK/runner$r.log" 2>&1 || { echo "runner $r: $recipe/$arch failed:" >&2; tail -30 "$WORK/runner$r.log" >&2; exit 1; }
      done
    ) &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  echo "  $level done" >&2
done <"$WORK/matrix"
fresh_cache "$WORK/images"
in_cache "$WORK/images" "$BIN" build "$NAME" --arch "$ARCH" --out "$WORK/images-out" >"$WORK/images.log" 2>&1
t1=$(now)
runners=$(echo "$t1 - $t0" | bc)

# fetch everything again into a fresh cache
fresh_cache "$WORK/fetch"
t0=$(now)
in_cache "$WORK/fetch" "$BIN" build "$NAME" --arch "$ARCH" --out "$WORK/fetch-out" >"$WORK/fetch.log" 2>&1
t1=$(now)
fetch=$(echo "$t1 - $t0" | bc)

# checks: each job built once across the runners, nothing built by the images job or the fetch,
# the same index as one machine
jobs=$(python3 -c 'import json,sys; print(sum(len(json.loads(l.split("=",1)[1])) for l in open(sys.argv[1])))' "$WORK/matrix")
built=$(cat "$WORK"/runner*.log | grep -c ': stored in the build cache' || true)
twice=$(cat "$WORK"/runner*.log | grep ': stored in the build cache' | cut -d: -f1 | sort | uniq -d)
[ "$built" -eq "$jobs" ] && [ -z "$twice" ] || { echo "bench-remote: $built builds for $jobs jobs (twice: $twice)" >&2; exit 1; }
for log in images fetch; do
  if grep -q ': stored in the build cache' "$WORK/$log.log"; then echo "bench-remote: the $log run built something" >&2; exit 1; fi
done
d_one=$(sha256sum <"$WORK/one-out/$NAME/oci/index.json" | cut -d' ' -f1)
d_run=$(sha256sum <"$WORK/images-out/$NAME/oci/index.json" | cut -d' ' -f1)
[ "$d_one" = "$d_run" ] || { echo "bench-remote: index $d_run from the runners, $d_one from one machine" >&2; exit 1; }
fetched=$(du -sb "$WORK/registry" | cut -f1)

printf '%-46s %10s\n' "run ($NAME, --arch $ARCH, $jobs jobs)" "seconds"
printf '%-46s %10.2f\n' "one machine, empty cache" "$one" \
  "$RUNNERS runners + images job, sharing the registry" "$runners" \
  "fresh cache, everything from the registry" "$fetch"
echo
printf 'runners / one machine:            %8.2fx  (2 cores shared by every runner)\n' "$(echo "$runners / $one" | bc -l)"
printf 'fetch from the registry / build:  %8.3fx\n' "$(echo "$fetch / $one" | bc -l)"
echo "each job built once ($built builds); index sha256:$d_one from both; registry holds $fetched bytes"
