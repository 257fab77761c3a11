#!/usr/bin/env bash
# The sandbox's cost on whole builds: each app of APPS built for ARCH from an empty build cache
# twice in one run, in the sandbox and with `--no-sandbox` (which order alternates from app to
# app, so the machine's drift falls on both), and the ratio of the two times, per app and in
# total; beside it, how many sandboxed steps the builds ran (the `==> ` step lines of every
# entry's build.log), so the cost per step measured by scripts/bench-sandbox.sh can be set
# against whole builds. Every build shares zig, its per-target caches, Go's caches and the
# sources of SHARED (warmed up first, not timed), as a CI runner restores them.
#
# Usage: scripts/bench-sandbox-builds.sh [APPS [ARCH]]   (default: "dnsmasq redis unbound" amd64;
#                                                        the release build)
#        scripts/bench-sandbox-builds.sh --short         CI's short mode: the hello-c fixture,
#                                                        amd64, the debug build: checks that the
#                                                        script works, not speed
# Environment: RECIPE_CACHE (SHARED, default ~/.cache/recipe), RECIPE_RECIPES.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh   # build_bin, fresh_cache
if [ "${1:-}" = --short ]; then
  set -- hello-c amd64
  export RECIPE_RECIPES=$PWD/tests/fixtures/recipes
  build_bin debug
else
  build_bin release
fi
APPS=${1:-dnsmasq redis unbound}
ARCH=${2:-amd64}
SHARED=${RECIPE_CACHE:-$HOME/.cache/recipe}
export RECIPE_RECIPES=${RECIPE_RECIPES:-$PWD/recipes}
WORK=$(mktemp -d /tmp/recipe-bench-sandbox-builds.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
now() { date +%s.%N; }

echo "warming up toolchains and sources (not timed)..." >&2
# shellcheck disable=SC2086
RECIPE_CACHE="$SHARED" "$BIN" --quiet build $APPS --arch "$ARCH" --no-image >/dev/null

# timed WAY APP: seconds of one build of APP from an empty cache, WAY `sandbox` or `plain`.
timed() {
  local dir="$WORK/$1-$2" extra=() t0 t1
  [ "$1" = plain ] && extra=(--no-sandbox)
  fresh_cache "$dir"
  t0=$(now)
  if ! RECIPE_CACHE="$dir" "$BIN" --quiet build "$2" --arch "$ARCH" --no-image "${extra[@]}" \
    >"$WORK/$1-$2.log" 2>&1; then
    echo "bench-sandbox-builds: $2 failed ($1):" >&2
    tail -20 "$WORK/$1-$2.log" >&2
    exit 1
  fi
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}

# steps DIR: the step lines of every entry's build log in the cache DIR.
steps() { cat "$1"/builds/*/build.log 2>/dev/null | grep -c '^==> ' || true; }

printf 'bench-sandbox-builds: %s for %s from empty build caches, as uid %d\n' "$APPS" "$ARCH" "$(id -u)"
printf '%-16s %10s %10s %8s %7s\n' app sandbox-s plain-s ratio steps
total_s=0 total_p=0 total_steps=0 i=0
for app in $APPS; do
  if [ $((i % 2)) = 0 ]; then
    s=$(timed sandbox "$app"); p=$(timed plain "$app")
  else
    p=$(timed plain "$app"); s=$(timed sandbox "$app")
  fi
  i=$((i + 1))
  n=$(steps "$WORK/sandbox-$app")
  grep -q '^==> sandbox: each step' "$WORK"/sandbox-"$app"/builds/*/build.log
  grep -q '^==> no sandbox' "$WORK"/plain-"$app"/builds/*/build.log
  printf '%-16s %10.1f %10.1f %7.3fx %7d\n' "$app" "$s" "$p" "$(echo "$s / $p" | bc -l)" "$n"
  total_s=$(echo "$total_s + $s" | bc -l)
  total_p=$(echo "$total_p + $p" | bc -l)
  total_steps=$((total_steps + n))
done
printf '%-16s %10.1f %10.1f %7.3fx %7d\n' total "$total_s" "$total_p" "$(echo "$total_s / $total_p" | bc -l)" "$total_steps"
