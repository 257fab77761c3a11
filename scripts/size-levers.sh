#!/usr/bin/env bash
# The size levers of one app, measured one by one and together: for each lever, a copy of
# recipes/ where the app's recipe and the recipes of the libraries it links say
# `optimize = "size"` and/or `lto = true` in `[build]`, built for one arch with one shared cache
# (so a variant rebuilds only the recipes it changes), then the app's stripped binary, the
# image's size on disk and compressed, the build's wall time and whether its smoke test passed
# (a build whose smoke test fails fails). Sizes are exact (the builds are reproducible); times
# are rough (the machine may be shared). Writes OUT/levers.md.
#
# Usage: scripts/size-levers.sh OUT [LEVER...]
#   LEVER: base (the recipes as they are, less `optimize` and `lto`), size, lto, size+lto
#          (default: all four)
# Environment: APP (default qbittorrent), LIBS (default: the recipes of qbittorrent's graph
#              that compile code for the target: openssl zlib libtorrent-rasterbar qt6-base),
#              ARCH (default amd64), RECIPE_CACHE (default OUT/cache). Heavy: qBittorrent's graph takes about 15 minutes a
#              variant on 2 cores, and 15 more once for Qt's host tools.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${1:?usage: scripts/size-levers.sh OUT [LEVER...]}
shift
LEVERS=("$@")
[ ${#LEVERS[@]} -gt 0 ] || LEVERS=(base size lto size+lto)
APP=${APP:-qbittorrent}
LIBS=${LIBS:-openssl zlib libtorrent-rasterbar qt6-base}
ARCH=${ARCH:-amd64}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cargo build --release -q
RECIPE=$ROOT/target/release/recipe
export RECIPE_CACHE=${RECIPE_CACHE:-$OUT/cache}

# variant NAME SIZE LTO: OUT/NAME/recipes, a copy of recipes/ whose app and libraries say
# `optimize` and `lto` as given (the keys already there are dropped first).
variant() {
  local dir=$OUT/$1 r f
  rm -rf "$dir"
  mkdir -p "$dir"
  cp -r "$ROOT/recipes" "$dir/recipes"
  ln -s "$ROOT/probes" "$dir/probes"
  for r in $APP $LIBS; do
    f=$dir/recipes/$r.toml
    sed -i -e '/^optimize = /d' -e '/^lto = /d' "$f"
    awk -v size="$2" -v lto="$3" '
      { print }
      /^system = / && !done {
        if (size == "yes") print "optimize = \"size\""
        if (lto == "yes") print "lto = true"
        done = 1
      }' "$f" >"$f.new"
    mv "$f.new" "$f"
  done
}

printf '| lever | %s bytes | image bytes on disk | compressed | build | smoke |\n|---|---|---|---|---|---|\n' "$APP" >"$OUT/levers.md"
for lever in "${LEVERS[@]}"; do
  case $lever in
    base) variant base no no ;;
    size) variant size yes no ;;
    lto) variant lto no yes ;;
    size+lto) variant size+lto yes yes ;;
    *) echo "size-levers: unknown lever $lever (base, size, lto, size+lto)" >&2; exit 2 ;;
  esac
  echo "== $lever" >&2
  start=$(date +%s)
  if "$RECIPE" build "$APP" --arch "$ARCH" --recipes "$OUT/$lever/recipes" --out "$OUT/$lever/out" \
    >"$OUT/$lever/build.log" 2>&1; then
    smoke=passed
  else
    smoke="failed (see $lever/build.log)"
  fi
  secs=$(($(date +%s) - start))
  # the app's files (OUT/APP/bin/ARCH/) and the image's line of the build's table
  bytes=$(find "$OUT/$lever/out/$APP/bin/$ARCH" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s ? s : "?" }')
  # the image's platform: its tar's size (on disk) and its gzip's, from the image's stamp
  stamp=$OUT/$lever/out/$APP/.recipe-image.json
  disk=$(grep -oE '"uncompressed_size": [0-9]+' "$stamp" 2>/dev/null | grep -oE '[0-9]+$' | head -1 || true)
  comp=$(grep -oE '"compressed_size": [0-9]+' "$stamp" 2>/dev/null | grep -oE '[0-9]+$' | head -1 || true)
  printf '| %s | %s | %s | %s | %s s | %s |\n' "$lever" "$bytes" "${disk:-?}" "${comp:-?}" "$secs" "$smoke" >>"$OUT/levers.md"
  cat "$OUT/levers.md" >&2
done
cat "$OUT/levers.md"
