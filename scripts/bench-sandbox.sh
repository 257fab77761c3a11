#!/usr/bin/env bash
# The sandbox's cost per build step: a trivial step (`/bin/true`) run N times, one after the
# other, in three ways, in one run:
#   plain:   /bin/true                                  (what `--no-sandbox` starts)
#   recipe:  recipe __sandbox --bind DIR /build -- /bin/true   (recipe's own init: mount, PID,
#            network, IPC and UTS namespaces, a new root of the read-only system folders, a
#            fresh /proc, /sys, /dev and /tmp, DIR at /build)
#   bwrap:   bwrap with the same namespaces and mounts  (Debian's bubblewrap)
# and prints the milliseconds per step of each and its ratio to the plain baseline measured in
# the same run. Each way runs its N steps 3 times; the best round counts (the machine may be
# shared). As root no user namespace is made (as `recipe` does); not as root, both make one.
#   scripts/bench-sandbox.sh            needs: bubblewrap (apt-get install bubblewrap), cargo;
#                                       the release build, N=300
#   scripts/bench-sandbox.sh --short    CI's short mode: the debug build, N=20, one round;
#                                       checks that the script works, not speed
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "${1:-}" = --short ]; then
  n=20 rounds=1
  cargo build --quiet
  recipe=$root/target/debug/recipe
else
  n=${BENCH_STEPS:-300} rounds=${BENCH_RUNS:-3}
  echo "building recipe (cargo build --release)..." >&2
  cargo build --release --quiet
  recipe=$root/target/release/recipe
fi
command -v bwrap >/dev/null || { echo "bench-sandbox: bwrap is missing: apt-get install bubblewrap" >&2; exit 2; }

keep=$(mktemp -d)
trap 'rm -rf "$keep"' EXIT
user=()
[ "$(id -u)" = 0 ] || user=(--unshare-user --uid 0 --gid 0)

plain() { /bin/true; }
sandboxed() { "$recipe" __sandbox --bind "$keep" /build -- /bin/true; }
# The system folders as recipe shows them: read-only folders, symlinks made again.
system=()
for d in usr bin sbin lib lib32 lib64 libx32 etc; do
  if [ -L "/$d" ]; then system+=(--symlink "$(readlink "/$d")" "/$d")
  elif [ -d "/$d" ]; then system+=(--ro-bind "/$d" "/$d"); fi
done
bwrapped() {
  bwrap "${user[@]}" --unshare-pid --unshare-net --unshare-ipc --unshare-uts \
    --hostname recipe --die-with-parent "${system[@]}" --dev /dev --proc /proc \
    --ro-bind /sys /sys --tmpfs /tmp --bind "$keep" /build --remount-ro / -- /bin/true
}

# best NAME: the best of $rounds rounds of $n steps, in ms per step.
best() {
  local best="" t0 t1 ms
  for _ in $(seq "$rounds"); do
    t0=$(date +%s%N)
    for _ in $(seq "$n"); do "$1"; done
    t1=$(date +%s%N)
    ms=$(echo "($t1 - $t0) / 1000000 / $n" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$ms < $best" | bc -l)" = 1 ]; then best=$ms; fi
  done
  echo "$best"
}

# Each way must work before it is timed.
sandboxed
bwrapped
base=$(best plain)
own=$(best sandboxed)
bw=$(best bwrapped)
printf 'bench-sandbox: %d steps of /bin/true, best of %d round(s), as uid %d\n' "$n" "$rounds" "$(id -u)"
printf '%-8s %10s %8s\n' way ms/step ratio
for row in "plain $base" "recipe $own" "bwrap $bw"; do
  set -- $row
  printf '%-8s %10.2f %7.1fx\n' "$1" "$2" "$(echo "$2 / $base" | bc -l)"
done
