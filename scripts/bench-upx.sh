#!/usr/bin/env bash
# What UPX costs at run time, for the Go apps the catalogue packs (caddy, coredns, syncthing,
# traefik): each packed amd64 binary of a `recipe build` output against the same binary unpacked
# by the pinned UPX (`upx -d`, which restores the program it packed), in one run on this machine:
#   - start-up: the wall time of the app's version command (`caddy version`, ...), which
#     decompresses the whole program when packed; best of RUNS, alternating packed and unpacked;
#   - memory: the peak resident size of that command (/usr/bin/time %M);
#   - a server: caddy serving a file on 127.0.0.1, the time from exec to its first answer and its
#     resident size then (VmRSS of /proc), best of RUNS.
# Prints a table (and OUT_DIR/upx.md). The machine may be shared: compare packed with unpacked
# in the same run, not the seconds across runs.
#
# Usage: scripts/bench-upx.sh OUT_DIR [APP...]   OUT_DIR: a `recipe build` output folder holding
#                                               OUT_DIR/APP/bin/amd64/ (scripts/catalogue.sh's
#                                               OUT/out, or `recipe build caddy --out OUT_DIR`)
#        scripts/bench-upx.sh --short           CI's short mode: a small Go program of the
#                                               fixtures built and packed here; one run; checks
#                                               that the script works, not speed
# Environment: RUNS (default 5), RECIPE_CACHE (where the pinned UPX is provisioned).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export LC_ALL=C
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench-upx: $TIME is missing (apt-get install time)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/recipe-bench-upx.XXXXXX)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

if [ "${1:-}" = --short ]; then
  RUNS=1
  cargo build -q
  BIN=$ROOT/target/debug/recipe
  export RECIPE_CACHE=${RECIPE_CACHE:-$ROOT/target/test-cache}
  # A fixture Go program (hello-go prints its version), built here and packed by the pinned UPX.
  OUT=$WORK/out
  mkdir -p "$WORK/recipes"
  sed -e "s#path = \"../hello-go\"#path = \"$ROOT/tests/fixtures/hello-go\"#" \
    -e 's#^files = \["/usr/local/bin/hello-go"\]#&\ncompress = "upx"#' \
    tests/fixtures/recipes/hello-go.toml >"$WORK/recipes/hello-go.toml"
  (cd "$WORK" && RECIPE_RECIPES="$WORK/recipes" "$BIN" --quiet build hello-go --arch amd64 --out "$OUT" >/dev/null)
  APPS=(hello-go)
else
  [ -n "${1:-}" ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2; }
  RUNS=${RUNS:-5}
  cargo build --release -q
  BIN=$ROOT/target/release/recipe
  OUT=$(cd "$1" && pwd)
  shift
  if [ $# -gt 0 ]; then APPS=("$@"); else APPS=(caddy coredns syncthing traefik); fi
fi
UPX=$("$BIN" --quiet toolchain --print upx)

# The version command of each app (its binary is the app's only file).
version_args() {
  case "$1" in
    caddy | traefik) echo version ;;
    coredns) echo -version ;;
    syncthing) echo --version ;;
    *) echo --version ;;
  esac
}

now() { date +%s.%N; }

# best: the smallest of the numbers on stdin, one a line.
best() { sort -g | head -1; }

printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' app packed_mb unpacked_mb start_packed_s start_unpacked_s rss_packed_mb rss_unpacked_mb >"$WORK/rows.tsv"
for app in "${APPS[@]}"; do
  packed=$(find "$OUT/$app/bin/amd64" -maxdepth 1 -type f | head -1)
  [ -n "$packed" ] || { echo "bench-upx: no binary in $OUT/$app/bin/amd64 (build it first)" >&2; exit 1; }
  head -c 1024 "$packed" | grep -q 'UPX!' || { echo "bench-upx: $packed is not packed with UPX" >&2; exit 1; }
  unpacked=$WORK/$app.unpacked
  "$UPX" -q -d -o "$unpacked" "$packed" >/dev/null
  args=$(version_args "$app")
  home=$WORK/home-$app
  mkdir -p "$home"
  : >"$WORK/t-packed" && : >"$WORK/t-unpacked"
  for _ in $(seq "$RUNS"); do
    for kind in packed unpacked; do
      if [ $kind = packed ]; then b=$packed; else b=$unpacked; fi
      # shellcheck disable=SC2086 # one or no argument
      HOME=$home "$TIME" -f '%e %M' -o "$WORK/one" "$b" $args >/dev/null 2>&1 || true
      read -r secs kib <"$WORK/one"
      echo "$secs $kib" >>"$WORK/t-$kind"
    done
  done
  sp=$(cut -d' ' -f1 "$WORK/t-packed" | best)
  su=$(cut -d' ' -f1 "$WORK/t-unpacked" | best)
  rp=$(cut -d' ' -f2 "$WORK/t-packed" | sort -n | tail -1)
  ru=$(cut -d' ' -f2 "$WORK/t-unpacked" | sort -n | tail -1)
  mb() { awk -v b="$1" 'BEGIN{printf "%.1f", b/1048576}'; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$app" "$(mb "$(stat -c %s "$packed")")" "$(mb "$(stat -c %s "$unpacked")")" \
    "$sp" "$su" "$(mb $((rp * 1024)))" "$(mb $((ru * 1024)))" >>"$WORK/rows.tsv"
done

# caddy as a server: exec to first answer, and its resident size then.
serve() { # BINARY PORT -> "seconds rss_kib"
  local t0 t1 rss
  t0=$(now)
  "$1" file-server --listen "127.0.0.1:$2" --root "$WORK/site" >/dev/null 2>&1 &
  SERVER_PID=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$2/index.html" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench-upx: caddy exited" >&2; exit 1; }
    sleep 0.005
  done
  t1=$(now)
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$SERVER_PID/status")
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  echo "$(echo "$t1 - $t0" | bc -l) $rss"
}
server_rows=
if printf '%s\n' "${APPS[@]}" | grep -qx caddy; then
  mkdir -p "$WORK/site" && echo hello >"$WORK/site/index.html"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  : >"$WORK/s-packed" && : >"$WORK/s-unpacked"
  for _ in $(seq "$RUNS"); do
    serve "$(find "$OUT/caddy/bin/amd64" -maxdepth 1 -type f | head -1)" "$port" >>"$WORK/s-packed"
    serve "$WORK/caddy.unpacked" "$port" >>"$WORK/s-unpacked"
  done
  server_rows=$(printf 'caddy file-server: first answer %.3f s packed, %.3f s unpacked; resident %.1f MB packed, %.1f MB unpacked' \
    "$(cut -d' ' -f1 "$WORK/s-packed" | best)" "$(cut -d' ' -f1 "$WORK/s-unpacked" | best)" \
    "$(cut -d' ' -f2 "$WORK/s-packed" | sort -n | tail -1 | awk '{print $1/1024}')" \
    "$(cut -d' ' -f2 "$WORK/s-unpacked" | sort -n | tail -1 | awk '{print $1/1024}')")
fi

table=$(python3 - "$WORK/rows.tsv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print("| app (amd64) | packed | unpacked | start-up packed | unpacked | packed/unpacked | peak RSS packed | unpacked | packed/unpacked |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    sp, su = float(r["start_packed_s"]), float(r["start_unpacked_s"])
    rp, ru = float(r["rss_packed_mb"]), float(r["rss_unpacked_mb"])
    print(f"| {r['app']} | {r['packed_mb']} MB | {r['unpacked_mb']} MB | {sp:.2f} s | {su:.2f} s | "
          f"{sp / max(su, 0.01):.1f} | {rp:.1f} MB | {ru:.1f} MB | {rp / max(ru, 0.1):.1f} |")
EOF
)
echo "$table"
[ -z "$server_rows" ] || echo "$server_rows"
if [ "$RUNS" -gt 1 ]; then { echo "$table"; [ -z "$server_rows" ] || echo "$server_rows"; } >"$OUT/upx.md"; fi
echo "bench-upx: ${#APPS[@]} apps, best of $RUNS runs (start-up: the version command)"
