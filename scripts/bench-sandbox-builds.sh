#!/usr/bin/env bash
# The sandbox's cost on whole builds: each app of APPS built for ARCH from an empty build cache
# twice in one run, in the sandbox and with `--no-sandbox` (which order alternates from app to
# app, so the machine's drift falls on both), and the ratios of the two wall-clock times and of
# the two CPU times (user + system), per app and in total; beside it, how many sandboxed steps the builds ran (the `==> ` step lines of every
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

echo "warming up toolchains and sources (not timed)..." >&2
# shellcheck disable=SC2086
RECIPE_CACHE="$SHARED" "$BIN" --quiet build $APPS --arch "$ARCH" --no-image >/dev/null

# timed WAY APP: "WALL CPU" seconds of one build of APP from an empty cache, WAY `sandbox` or
# `plain`; CPU is user + system time of recipe and everything it ran (bash's `time`), which a
# busy machine disturbs less than the wall clock.
timed() {
  local dir="$WORK/$1-$2" extra=() out
  [ "$1" = plain ] && extra=(--no-sandbox)
  fresh_cache "$dir"
  local TIMEFORMAT='%R %U %S'
  if ! out=$( { time RECIPE_CACHE="$dir" "$BIN" --quiet build "$2" --arch "$ARCH" --no-image \
    "${extra[@]}" >"$WORK/$1-$2.log" 2>&1; } 2>&1 ); then
    echo "bench-sandbox-builds: $2 failed ($1):" >&2
    tail -20 "$WORK/$1-$2.log" >&2
    exit 1
  fi
  set -- $out
  echo "$1 $(echo "$2 + $3" | bc -l)"
}

# steps DIR: the step lines of every entry's build log in the cache DIR.
steps() { cat "$1"/builds/*/build.log 2>/dev/null | grep -c '^==> ' || true; }

printf 'bench-sandbox-builds: %s for %s from empty build caches, as uid %d\n' "$APPS" "$ARCH" "$(id -u)"
printf '%-14s %9s %9s %7s %9s %9s %7s %6s\n' app sbx-wall plain-wall ratio sbx-cpu plain-cpu ratio steps
tsw=0 tpw=0 tsc=0 tpc=0 total_steps=0 i=0
row() { # NAME SW PW SC PC STEPS
  printf '%-14s %9.1f %9.1f %6.3fx %9.1f %9.1f %6.3fx %6d\n' "$1" "$2" "$3" \
    "$(echo "$2 / $3" | bc -l)" "$4" "$5" "$(echo "$4 / $5" | bc -l)" "$6"
}
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
  set -- $s $p
  row "$app" "$1" "$3" "$2" "$4" "$n"
  tsw=$(echo "$tsw + $1" | bc -l); tpw=$(echo "$tpw + $3" | bc -l)
  tsc=$(echo "$tsc + $2" | bc -l); tpc=$(echo "$tpc + $4" | bc -l)
  total_steps=$((total_steps + n))
done
row total "$tsw" "$tpw" "$tsc" "$tpc" "$total_steps"
