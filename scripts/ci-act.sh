#!/usr/bin/env bash
# Runs the GitHub Actions workflow `recipe ci github` writes, end to end, with act (nektos/act)
# on this machine: its jobs run on the host (`-P ubuntu-latest=-self-hosted`), against a
# registry on 127.0.0.1 (Debian's docker-registry) holding both the signed build cache and the
# pushed images. The graph is the fixture graph (hello-dep on libgreet, hello-gen with its host
# tool gen-word) for amd64, arm64 and armv7: 10 jobs in 2 levels.
#
# It checks that:
#   - the workflow passes actionlint and act runs it to success (plan, level0, level1, images);
#   - each job is built exactly once across the matrix jobs, each in a cache of its own;
#   - the pushed images' index digests equal those of `recipe build --arch all` on one machine;
#   - a second run builds nothing (every level is empty and skipped) and pushes the same index;
#   - the images job signed each pushed image and attested its SBOM and provenance
#     (`recipe check --key`);
#   - a pull_request run (no signing key) reads the cache and signs, pushes nothing.
# act and actionlint are installed with `go install` through the Go module proxy when missing.
#
# Usage: scripts/ci-act.sh [--short]   (the whole run takes seconds: --short, CI's, is the same)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/lib.sh   # install_act, install_actionlint, fresh_cache, start_registry
install_act
install_actionlint
cargo build -q
BIN_DIR=$ROOT/target/debug
SHARED=${RECIPE_CACHE:-$ROOT/target/test-cache}
WORK=$(mktemp -d /tmp/recipe-act.XXXXXX)
REG_PID=
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; [ -n "${KEEP:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"; }
trap cleanup EXIT

start_registry "$WORK/registry"
PORT=$REG_PORT

# A repository as a maintainer's: the recipes, a signing key (its secret outside the repo).
REPO=$WORK/repo
mkdir -p "$REPO"
cp -r tests/fixtures "$REPO/fixtures"
export PATH=$BIN_DIR:$TOOLS:$PATH
recipe key generate ci-act --out "$WORK/keys" >/dev/null
PUBLIC=$(cat "$WORK/keys/ci-act.pub")
# Each job gets a build cache of its own under its runner's temp folder; zig, its musl caches
# and the sources are linked in from SHARED (fresh_cache of scripts/lib.sh), as a runner
# restores its toolchain cache.
SEED="SHARED='$SHARED' && . '$ROOT/scripts/lib.sh' && fresh_cache \"\$RUNNER_TEMP/cache\" && echo \"RECIPE_CACHE=\$RUNNER_TEMP/cache\" >>\"\$GITHUB_ENV\""
(
  cd "$REPO"
  recipe --recipes fixtures/recipes ci github hello-dep hello-gen --arch all \
    --remote-cache "127.0.0.1:$PORT/cache" --remote-cache-insecure --trust "$PUBLIC" \
    --image-repo "127.0.0.1:$PORT/images" --setup "$SEED" --output .github/workflows/recipe.yml
  actionlint .github/workflows/recipe.yml
  git init -q -b main && git add -A && git -c user.name=ci -c user.email=ci@example.invalid commit -qm fixtures
)

act_run() { # EVENT LOG
  (cd "$REPO" && act "$1" -P ubuntu-latest=-self-hosted --rm --no-cache-server \
    -s RECIPE_CACHE_SIGNING_KEY="$(cat "$WORK/keys/ci-act.secret")" </dev/null >"$2" 2>&1) \
    || { tail -60 "$2" >&2; echo "ci-act: act $1 failed (log above)" >&2; exit 1; }
}
count() { grep -c "$1" "$2" || true; }
ours() { # the image index digest of the one-machine layout (its index.json names it)
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$WORK/out/$1/oci/index.json"
}
digest() { # the index digest the registry holds for images/APP:1.0
  curl -fsS -o /dev/null -D - -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://127.0.0.1:$PORT/v2/images/$1/manifests/1.0" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}'
}

t0=$(date +%s.%N)
act_run push "$WORK/act1.log"
t1=$(date +%s.%N)
built=$(count ': stored in the build cache' "$WORK/act1.log")
twice=$(grep -o '[a-z-]*/[a-z0-9]*: stored in the build cache' "$WORK/act1.log" | sort | uniq -d)
[ "$built" -eq 10 ] && [ -z "$twice" ] || { echo "ci-act: $built builds, 10 jobs (twice: $twice)" >&2; exit 1; }

# One machine, no remote cache.
fresh_cache "$WORK/one"
(cd "$WORK" && RECIPE_CACHE=$WORK/one recipe --quiet --recipes "$REPO/fixtures/recipes" build hello-dep hello-gen --arch all >/dev/null)
for app in hello-dep hello-gen; do
  ours=$(ours "$app")
  pushed=$(digest "$app")
  [ "$ours" = "$pushed" ] || { echo "ci-act: $app: pushed $pushed, one machine $ours" >&2; exit 1; }
  echo "ci-act: $app: the pushed index is the one-machine index ($ours)"
  # The images job signed it (its index and each platform) and attested its SBOM and provenance.
  recipe check --insecure --key "$WORK/keys/ci-act.pub" "127.0.0.1:$PORT/images/$app:1.0" >"$WORK/check-$app.txt" \
    || { cat "$WORK/check-$app.txt" >&2; echo "ci-act: $app: its signatures do not hold" >&2; exit 1; }
  grep -q 'signed by the key (4 images' "$WORK/check-$app.txt" && grep -q 'attested: https://slsa.dev/provenance/v1' "$WORK/check-$app.txt" \
    || { cat "$WORK/check-$app.txt" >&2; echo "ci-act: $app: not signed and attested" >&2; exit 1; }
  echo "ci-act: $app: signed and attested, $(grep -m1 'built by' "$WORK/check-$app.txt" | sed 's/^ *//')"
done

# Again: nothing to build.
act_run push "$WORK/act2.log"
[ "$(count ': stored in the build cache' "$WORK/act2.log")" -eq 0 ] || { echo "ci-act: the second run built something" >&2; exit 1; }
grep -q 'level0=\[\]' "$WORK/act2.log" || { echo "ci-act: the second run's plan was not empty" >&2; exit 1; }
for app in hello-dep hello-gen; do
  [ "$(digest "$app")" = "$(ours "$app")" ] || { echo "ci-act: $app changed" >&2; exit 1; }
done

# A pull request: no signing key, nothing pushed.
act_run pull_request "$WORK/act3.log"
[ "$(count 'pushed to the remote cache' "$WORK/act3.log")" -eq 0 ] || { echo "ci-act: a pull request pushed" >&2; exit 1; }

printf 'ci-act: act ran the workflow: first run %.0f s (10 jobs built once each), second run built nothing, pull request pushed nothing\n' \
  "$(echo "$t1 - $t0" | bc)"
