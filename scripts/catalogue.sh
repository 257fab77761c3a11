#!/usr/bin/env bash
# The whole catalogue from an empty build cache: every app recipe of recipes/ built for amd64,
# arm64 and armv7 (each app and arch timed on its own, in this order, so an app's libraries are
# built with it unless an earlier app built them), then a no-op `recipe build --all --arch all`
# (timed), `recipe test` of every image under podman (read-only, no capabilities, its user;
# the recipe's smoke requests from outside), and Syft reading every image's SBOM (how many
# packages carry a CPE). Writes OUT/catalogue.md: per image the build's table (size on disk of
# the largest platform, compressed size, user, distroless, arches), the amd64 image's size and
# the hand-made image's published (amd64) size where ../shared/notes/field.md gives one, ours
# over theirs, the build time per arch, armv7 over
# amd64, the container test and the CPEs. The machine is shared: compare the ratios, not the
# seconds.
#
# Usage: scripts/catalogue.sh [OUT]        (default OUT: a new folder under /tmp; release build)
#        scripts/catalogue.sh --short      CI's short mode: the hello-svc fixture alone, amd64,
#                                          the debug build and the tests' toolchains: checks that
#                                          every stage of the script works, not speed
# Environment: RECIPE_RECIPES (default recipes/), ARCHES (default "amd64 arm64 armv7"),
# APPS (default: every recipe with an [app] table).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHORT=no
if [ "${1:-}" = --short ]; then
  SHORT=yes
  shift
fi
if [ -n "${1:-}" ]; then
  OUT=$1
else
  OUT=$(mktemp -d /tmp/recipe-catalogue.XXXXXX)
  # the short mode's scratch output (cache, images, podman storage) is not kept
  [ $SHORT = yes ] && trap 'rm -rf "$OUT"' EXIT
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CACHE=$OUT/cache
rm -rf "$CACHE" "$OUT/images"
mkdir -p "$CACHE"

if [ $SHORT = yes ]; then
  cargo build -q
  BIN=$ROOT/target/debug/recipe
  RECIPES=$OUT/recipes
  mkdir -p "$RECIPES"
  sed "s#path = \"../hello-svc\"#path = \"$ROOT/tests/fixtures/hello-svc\"#" tests/fixtures/recipes/hello-svc.toml >"$RECIPES/hello-svc.toml"
  printf '\n[image]\ncmd = ["-addr", "0.0.0.0:8080"]\nports = [8080, "8080/udp"]\n' >>"$RECIPES/hello-svc.toml"
  ARCHES=${ARCHES:-amd64}
  # the tests' toolchains (zig, Go) instead of new downloads; the build cache is still empty
  mkdir -p "$ROOT/target/test-cache/toolchains" "$ROOT/target/test-cache/go" "$CACHE/toolchains"
  for t in "$ROOT"/target/test-cache/toolchains/*; do
    case "$t" in *-wrappers) ;; *) ln -s "$t" "$CACHE/toolchains/$(basename "$t")" ;; esac
  done
  ln -s "$ROOT/target/test-cache/go" "$CACHE/go"
else
  # The whole catalogue's cache, work folders and images take about 20 GB (more with
  # qbittorrent); a full disk fails a build midway with ENOSPC.
  avail=$(df --output=avail -B1G "$OUT" | tail -1 | tr -d ' ')
  if [ "${avail:-0}" -lt 25 ]; then
    echo "catalogue: warning: only ${avail} GB free under $OUT; the whole catalogue needs about 20 GB" >&2
  fi
  cargo build --release -q
  BIN=$ROOT/target/release/recipe
  RECIPES=${RECIPE_RECIPES:-$ROOT/recipes}
  ARCHES=${ARCHES:-amd64 arm64 armv7}
fi
export RECIPE_RECIPES=$RECIPES RECIPE_CACHE=$CACHE
SELECT=${APPS:+given}
if [ -z "${APPS:-}" ]; then
  APPS=$(grep -l '^\[app\]' "$RECIPES"/*.toml | xargs -n1 basename | sed 's/\.toml$//' | grep -vx healthcheck | tr '\n' ' ')
fi
now() { date +%s.%N; }
TIMES=$OUT/times.tsv
: >"$TIMES"

echo "catalogue: toolchains (timed apart)" >&2
t0=$(now)
"$BIN" --quiet toolchain >/dev/null
echo "toolchains	all	$(echo "$(now) - $t0" | bc)" >>"$TIMES"

for app in $APPS; do
  for arch in $ARCHES; do
    echo "catalogue: $app for $arch" >&2
    t0=$(now)
    # wall seconds, and the CPU seconds of recipe and every process of the build (user + system)
    if /usr/bin/time -f '%U %S' -o "$OUT/cpu-$app-$arch" "$BIN" --quiet build "$app" --arch "$arch" --out "$OUT/images" >"$OUT/build-$app-$arch.log" 2>&1; then
      echo "$app	$arch	$(echo "$(now) - $t0" | bc)	$(awk '{print $1 + $2}' "$OUT/cpu-$app-$arch")" >>"$TIMES"
    else
      echo "$app	$arch	failed" >>"$TIMES"
      echo "catalogue: $app for $arch failed: $OUT/build-$app-$arch.log" >&2
      tail -n 30 "$OUT/build-$app-$arch.log" >&2
    fi
  done
done

# Everything is in the cache now: the whole catalogue again (`build --all`, or the APPS given)
# is a no-op, and writes the table.
arch_list=$(echo $ARCHES | tr ' ' ',')
if [ -n "$SELECT" ] || [ $SHORT = yes ]; then set -- $APPS; else set -- --all; fi
# The first build of all arches at once writes the multi-arch images (and the table); the
# second one is the no-op that is timed.
"$BIN" --quiet build "$@" --arch "$arch_list" --out "$OUT/images" >"$OUT/table.txt"
t0=$(now)
"$BIN" --quiet build "$@" --arch "$arch_list" --out "$OUT/images" >/dev/null
noop=$(echo "$(now) - $t0" | bc)
echo "noop	$arch_list	$noop" >>"$TIMES"
# Each job's build time, and each of its commands', as its cache entry recorded them.
"$BIN" --quiet cache ls --steps >"$OUT/jobs.txt"

# Every image in a hardened podman container (private storage), answering its smoke requests.
PODMAN=$OUT/podman
mkdir -p "$PODMAN"
printf '[engine]\nruntime = "runc"\n[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n' >"$PODMAN/containers.conf"
cat >"$PODMAN/engine" <<EOF
#!/bin/sh
export CONTAINERS_CONF=$PODMAN/containers.conf
exec podman --root $PODMAN/root --runroot $PODMAN/run --storage-driver vfs "\$@"
EOF
chmod +x "$PODMAN/engine"
: >"$OUT/containers.tsv"
for app in $APPS; do
  if "$BIN" test "$app" --out "$OUT/images" --engine "$PODMAN/engine" >"$OUT/test-$app.log" 2>&1; then
    echo "$app	yes" >>"$OUT/containers.tsv"
  else
    echo "$app	no" >>"$OUT/containers.tsv"
    echo "catalogue: the container test of $app failed: $OUT/test-$app.log" >&2
    tail -n 20 "$OUT/test-$app.log" >&2
  fi
done
"$PODMAN/engine" rmi -a -f >/dev/null 2>&1 || true

# Syft reads each image's SBOM: packages in all, and how many have a CPE.
SYFT=$(command -v syft || echo /opt/recipe-tools/bin/syft)
: >"$OUT/cpes.tsv"
for app in $APPS; do
  if [ -x "$SYFT" ] && [ -d "$OUT/images/$app/oci" ]; then
    "$SYFT" scan "oci-dir:$OUT/images/$app/oci" --platform linux/amd64 \
      --override-default-catalogers sbom-cataloger -o json -q >"$OUT/syft-$app.json" 2>"$OUT/syft-$app.log" || true
    python3 - "$OUT/syft-$app.json" "$app" >>"$OUT/cpes.tsv" <<'EOF'
import json, sys
try:
    arts = json.load(open(sys.argv[1])).get("artifacts", [])
except Exception:
    arts = []
with_cpe = sum(1 for a in arts if a.get("cpes"))
print(f"{sys.argv[2]}\t{with_cpe}/{len(arts)}")
EOF
  fi
done

python3 - "$OUT" >"$OUT/catalogue.md" <<'EOF'
import sys, re, collections, json, os
out = sys.argv[1]
def amd64_mb(app):
    # The hand-made sizes are amd64's: compare with our amd64 image, not the largest platform.
    try:
        stamp = json.load(open(os.path.join(out, "images", app, ".recipe-image.json")))
    except OSError:
        return None
    sizes = {p["arch"]: p["uncompressed_size"] for p in stamp["written"]["platforms"]}
    return sizes["amd64"] / 1e6 if "amd64" in sizes else None
# Published sizes of the hand-made distroless images (amd64, uncompressed), from
# ../shared/notes/field.md and the issue.
theirs = {"nginx": 6, "redis": 66, "unbound": 12, "chrony": 2, "traefik": 36, "caddy": 34, "syncthing": 17,
          "qbittorrent": 27}
times = collections.defaultdict(dict)
cpu = collections.defaultdict(dict)
for line in open(f"{out}/times.tsv"):
    app, arch, t, *c = line.rstrip("\n").split("\t")
    times[app][arch] = t
    if c:
        cpu[app][arch] = float(c[0])
containers = dict(l.rstrip("\n").split("\t") for l in open(f"{out}/containers.tsv") if l.strip())
cpes = dict(l.rstrip("\n").split("\t") for l in open(f"{out}/cpes.tsv") if l.strip())
def mb(s):
    m = re.fullmatch(r"([\d.]+)(kB|MB|GB|B)", s)
    if not m: return None
    return float(m.group(1)) * {"B": 1e-6, "kB": 1e-3, "MB": 1, "GB": 1e3}[m.group(2)]
rows = []
lines = open(f"{out}/table.txt").read().splitlines()
for l in lines[1:]:
    cols = re.split(r"\s{2,}", l.strip())
    if len(cols) < 6: continue
    image, size, comp, user, distroless, arches = cols[:6]
    app = image.split(":")[0]
    t = times.get(app, {})
    def secs(a):
        v = t.get(a)
        return f"{float(v):.0f} s" if v and v != "failed" else (v or "")
    ratio = ""
    if t.get("amd64") not in (None, "failed") and t.get("armv7") not in (None, "failed"):
        ratio = f"{float(t['armv7']) / float(t['amd64']):.2f}"
    hand = theirs.get(app)
    ours = amd64_mb(app)
    ours_text = f"{ours:.1f} MB" if ours is not None else ""
    rel = f"{ours / hand:.2f}" if hand and ours else ""
    rows.append([image, size, comp, user, distroless, arches, ours_text,
                 f"{hand} MB" if hand else "", rel, secs("amd64"), secs("arm64"),
                 secs("armv7"), ratio, containers.get(app, ""), cpes.get(app, "")])
head = ["image", "size", "compressed", "user", "distroless", "architectures", "amd64 size",
        "hand-made (amd64)", "ours/theirs", "amd64", "arm64", "armv7", "armv7/amd64", "podman",
        "CPEs (syft)"]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
tool = times.get("toolchains", {}).get("all", "")
noop = times.get("noop", {})
print(f"Toolchains provisioned in {float(tool):.0f} s (not in the build times). "
      f"No-op rebuild of the whole catalogue: {float(list(noop.values())[0]):.2f} s.")
# Where the cold build's time goes: each app and arch's wall and CPU seconds (CPU over wall: how
# many of the cores it kept busy), then the longest jobs as the cache recorded them.
print()
print("| app | arch | wall | CPU | CPU/wall |")
print("|---|---|---|---|---|")
for app in sorted(cpu):
    for arch, c in cpu[app].items():
        w = times[app].get(arch)
        if w and w != "failed":
            print(f"| {app} | {arch} | {float(w):.0f} s | {c:.0f} s | {c / max(float(w), 0.01):.2f} |")
print()
# jobs.txt: the jobs' table (wall and CPU seconds, then a total line), a blank line, and each
# job's commands (`cache ls --steps`).
jobs_part, _, steps_part = open(f"{out}/jobs.txt").read().partition("\n\n")
jobs = []
for l in jobs_part.splitlines()[1:-1]:
    m = re.search(r"(\d+) s\s+(\d+) s$", l)
    if m:
        cols = l.split()
        jobs.append((int(m.group(1)), int(m.group(2)), f"{cols[0]}/{cols[2]}"))
jobs.sort(reverse=True)
print(f"Jobs built: {len(jobs)}, {sum(j[0] for j in jobs)} s of job time and "
      f"{sum(j[1] for j in jobs)} s of CPU in all; the longest (wall / CPU): " +
      ", ".join(f"{n} {w} / {c} s" for w, c, n in jobs[:12]) + ".")
steps = []
for l in steps_part.splitlines()[1:]:
    m = re.fullmatch(r"(\S+)\s+(\S+)\s+\S+\s+(.+?)\s+([\d.]+) s\s+([\d.]+) s", l.strip())
    if m:
        steps.append((float(m.group(5)), float(m.group(4)), f"{m.group(1)}/{m.group(2)} {m.group(3)}"))
if steps:
    steps.sort(reverse=True)
    print()
    print("The commands that took the most CPU (CPU / wall): " +
          ", ".join(f"{n} {c:.0f} / {w:.0f} s" for c, w, n in steps[:15]) + ".")
EOF
cat "$OUT/catalogue.md"
echo "catalogue: $OUT/catalogue.md" >&2
if grep -q failed "$TIMES" || grep -q "	no$" "$OUT/containers.tsv"; then
  exit 1
fi
