# Shell helpers the scripts share (sourced, not run).

# build_bin debug|release: builds recipe and sets BIN to it.
build_bin() {
  if [ "$1" = debug ]; then cargo build -q; else cargo build --release -q; fi
  BIN=$PWD/target/$1/recipe
}

# fresh_cache DIR: a recipe cache that shares SHARED's tool installs, zig caches, Go and the
# sources, nothing else (the wrappers of unsandboxed steps are not shared: they name the cache
# they live in; the sandbox's name only fixed paths).
fresh_cache() {
  mkdir -p "$1/toolchains"
  for d in zig sources go; do mkdir -p "$SHARED/$d"; ln -s "$SHARED/$d" "$1/$d"; done
  for t in "$SHARED"/toolchains/*; do
    case "$t" in *-wrappers) ;; *) ln -s "$t" "$1/toolchains/$(basename "$t")" ;; esac
  done
}

# start_registry DIR: Debian's docker-registry on a free port of 127.0.0.1, storage in DIR;
# sets REG_PORT and REG_PID (kill it on exit) and waits until it answers.
start_registry() {
  REG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$1"
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$1/storage" "$REG_PORT" >"$1/config.yml"
  docker-registry serve "$1/config.yml" >"$1/registry.log" 2>&1 &
  REG_PID=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$REG_PORT") 2>/dev/null && return 0; sleep 0.1; done
  echo "the registry did not start:" >&2; cat "$1/registry.log" >&2; return 1
}

# Tools built from source with `go install` through the Go module proxy into TOOLS, each pinned
# here once (scripts/setup.sh installs them all, scripts/ci-act.sh the two it runs).
TOOLS=/opt/recipe-tools/bin
ACTIONLINT_VERSION=v1.7.12
ACT_VERSION=v0.2.89

# go_tool NAME MODULE VERSION: true when TOOLS/NAME was built from MODULE@VERSION.
go_tool() {
  go version -m "$TOOLS/$1" 2>/dev/null \
    | grep -q "^[[:space:]]*mod[[:space:]]*$2[[:space:]]*$3[[:space:]]"
}
go_install() { mkdir -p "$TOOLS" && GOBIN=$TOOLS GOFLAGS=-buildvcs=false go install "$@"; }

# The workflow checkers: actionlint and act.
install_actionlint() {
  go_tool actionlint github.com/rhysd/actionlint "$ACTIONLINT_VERSION" \
    || go_install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
}
install_act() {
  go_tool act github.com/nektos/act "$ACT_VERSION" \
    || go_install "github.com/nektos/act@$ACT_VERSION"
}
