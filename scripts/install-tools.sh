#!/usr/bin/env bash
# Installs every server and tool the tests need, at the versions in tool-versions.env.
# Idempotent: a step whose pinned version is already installed is skipped, so a cached run takes seconds.
# Debian packages go to the system (apt); Go-built binaries go to $TOOLS_DIR/bin (default .tools/bin);
# Python tools get a venv of their own under $TOOLS_DIR, with their command linked into $TOOLS_DIR/bin.
#
#   install-tools.sh            what `make test` needs
#   install-tools.sh --cluster  that, plus a one-node cluster for `make e2e`: containerd, runc, the CNI
#                               plugins, kubelet & co., CoreDNS, metrics-server and the pause binary
set -euo pipefail
cluster=0
case ${1:-} in
  --cluster) cluster=1 ;;
  '') ;;
  *) echo "usage: $0 [--cluster]" >&2 && exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tool-versions.env
source "$root/scripts/tool-versions.env"
tools=${TOOLS_DIR:-$root/.tools}
bin=$tools/bin
mkdir -p "$bin" "$tools/stamps" "$tools/src" "$tools/crds"

export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false GOBIN=$bin
log() { printf '[tools] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
apt_updated=0
apt_ensure() { # apt_ensure <package> <version-glob>
  local pkg=$1 want=$2 have
  have=$(dpkg-query -W -f='${Status}|${Version}' "$pkg" 2>/dev/null || true)
  # shellcheck disable=SC2053 # $want is a glob on purpose
  if [[ $have == "install ok installed|"* && ${have#*|} == $want ]]; then return; fi
  if [[ $apt_updated == 0 ]]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  log "installing $pkg=$want"
  # RUNLEVEL=1 keeps the packages' init scripts from starting system-wide daemons we never use.
  RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg=$want" >/dev/null
}

apt_ensure "$POSTGRESQL_PACKAGE" "$POSTGRESQL_APT_VERSION"
apt_ensure redis-server "$REDIS_APT_VERSION"
apt_ensure prometheus "$PROMETHEUS_APT_VERSION"

# --- Go-built binaries -----------------------------------------------------------------------
# Each build is stamped with its version; a matching stamp and binary mean nothing to do.
fresh() { [[ -x $bin/$1 && "$(cat "$tools/stamps/$1" 2>/dev/null)" == "$2" ]]; }
stamp() { echo "$2" >"$tools/stamps/$1"; log "$1 $2 ready"; }

# wrapper_module <dir> <require lines...>: a throwaway module that pins what we build.
wrapper_module() {
  local dir=$1
  shift
  rm -rf "$dir" && mkdir -p "$dir"
  { echo "module stowage.local/tools"; echo; echo "go 1.24"; echo; printf '%s\n' "$@"; } >"$dir/go.mod"
}

if ! fresh minio "$MINIO_VERSION"; then
  log "building minio $MINIO_VERSION"
  go install "github.com/minio/minio@$MINIO_VERSION"
  stamp minio "$MINIO_VERSION"
fi

if ! fresh helm "$HELM_VERSION"; then
  log "building helm $HELM_VERSION"
  go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  stamp helm "$HELM_VERSION"
fi

if ! fresh k6 "$K6_VERSION"; then
  log "building k6 $K6_VERSION"
  go install "go.k6.io/k6@$K6_VERSION"
  stamp k6 "$K6_VERSION"
fi

# etcd's own go.mod has replace directives, so `go install` refuses it; a wrapper module builds it.
if ! fresh etcd "$ETCD_VERSION"; then
  log "building etcd $ETCD_VERSION"
  src=$tools/src/etcd
  wrapper_module "$src" "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  (cd "$src" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" &&
    go build -o "$bin/etcd" go.etcd.io/etcd/server/v3)
  stamp etcd "$ETCD_VERSION"
fi

# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local paths;
# the wrapper replaces each with the published v0.MINOR.PATCH instead. One wrapper builds every
# Kubernetes binary: build_kubernetes <binary>... builds those commands in one `go build`.
build_kubernetes() {
  local src=$tools/src/kubernetes staging=v0.${KUBERNETES_VERSION#v1.} minor kmod cmd pkgs=()
  log "building $* $KUBERNETES_VERSION"
  kmod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  mapfile -t replaces < <(awk '/^replace \(/{r=1;next} r&&/^\)/{r=0} r&&/=>/{print $1}' "$kmod" |
    sed "s|.*|replace & => & $staging|")
  wrapper_module "$src" "require k8s.io/kubernetes $KUBERNETES_VERSION" "${replaces[@]}"
  minor=${KUBERNETES_VERSION#v1.}
  minor=${minor%%.*}
  for cmd in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
  # Built into a scratch directory and moved into place only when every binary is there, so a failed
  # build leaves the binaries from before untouched.
  rm -rf "$src/out" && mkdir -p "$src/out"
  (cd "$src" && go get "${pkgs[@]/%/@$KUBERNETES_VERSION}" &&
    go build -o "$src/out/" -ldflags "-s -w \
      -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION \
      -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
      "${pkgs[@]}")
  for cmd in "$@"; do
    mv -f "$src/out/$cmd" "$bin/$cmd"
    stamp "$cmd" "$KUBERNETES_VERSION"
  done
}
fresh kube-apiserver "$KUBERNETES_VERSION" || build_kubernetes kube-apiserver

# --- CRDs of other projects, from their Go modules ------------------------------------------
crds_from_module() { # crds_from_module <name> <module@version> <file inside the module>...
  local name=$1 mod=$2 dir f
  shift 2
  [[ "$(cat "$tools/stamps/crds-$name" 2>/dev/null)" == "$mod" ]] && return
  dir=$(go mod download -json "$mod" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  rm -rf "${tools:?}/crds/$name" && mkdir -p "$tools/crds/$name"
  for f in "$@"; do install -m 0644 "$dir/$f" "$tools/crds/$name/"; done
  stamp "crds-$name" "$mod"
}
crds_from_module prometheus-operator "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" \
  example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml \
  example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml
crds_from_module keda "github.com/kedacore/keda/v2@$KEDA_VERSION" config/crd/bases/keda.sh_scaledobjects.yaml

# --- Python tools, from PyPI ----------------------------------------------------------------
# schemathesis gets a venv of its own, filled from a lock file of hashes (nothing unpinned, no source
# builds); the stamp holds the version and the lock file's hash, so editing either reinstalls.
install_schemathesis() {
  local lock=$root/scripts/schemathesis-requirements.txt venv want
  # The venv's scripts name its python by absolute path: the real one, not one through a symlink.
  venv=$(cd "$tools" && pwd -P)/schemathesis
  want="$SCHEMATHESIS_VERSION $(sha256sum <"$lock" | cut -d' ' -f1)"
  fresh st "$want" && return
  if ! grep -q "^schemathesis==$SCHEMATHESIS_VERSION " "$lock"; then
    log "$lock does not pin schemathesis $SCHEMATHESIS_VERSION: regenerate it (see tool-versions.env)"
    return 1
  fi
  log "installing schemathesis $SCHEMATHESIS_VERSION"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes --only-binary=:all: \
    --no-deps -r "$lock"
  ln -sfn ../schemathesis/bin/st "$bin/st"
  stamp st "$want"
}
install_schemathesis

# --- A one-node cluster, for `make e2e` (--cluster) -------------------------------------------
install_cluster() {
  apt_ensure containerd "$CONTAINERD_APT_VERSION"
  apt_ensure runc "$RUNC_APT_VERSION"
  apt_ensure containernetworking-plugins "$CNI_PLUGINS_APT_VERSION"
  apt_ensure iptables "$IPTABLES_APT_VERSION"
  apt_ensure nftables "$NFTABLES_APT_VERSION"
  apt_ensure conntrack "$CONNTRACK_APT_VERSION"

  local stale=() cmd
  for cmd in kubelet kube-controller-manager kube-scheduler kube-proxy kubectl; do
    fresh "$cmd" "$KUBERNETES_VERSION" || stale+=("$cmd")
  done
  [[ ${#stale[@]} == 0 ]] || build_kubernetes "${stale[@]}"

  # Neither has replace directives, so plain `go install` builds them.
  if ! fresh coredns "$COREDNS_VERSION"; then
    log "building coredns $COREDNS_VERSION"
    go install "github.com/coredns/coredns@$COREDNS_VERSION"
    stamp coredns "$COREDNS_VERSION"
  fi
  if ! fresh metrics-server "$METRICS_SERVER_VERSION"; then
    log "building metrics-server $METRICS_SERVER_VERSION"
    go install "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"
    stamp metrics-server "$METRICS_SERVER_VERSION"
  fi

  # The pod sandbox's pause process, from the C source Kubernetes ships in its module, linked
  # statically: `make image` wraps it into the pause image (no registry here to pull one from).
  if ! fresh pause "$KUBERNETES_VERSION"; then
    local dir
    dir=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
    log "building pause from k8s.io/kubernetes@$KUBERNETES_VERSION"
    gcc -Os -Wall -Werror -static "-DVERSION=$KUBERNETES_VERSION" -o "$bin/pause.tmp" "$dir/build/pause/linux/pause.c"
    mv -f "$bin/pause.tmp" "$bin/pause"
    stamp pause "$KUBERNETES_VERSION"
  fi
}
[[ $cluster == 0 ]] || install_cluster

log "all tools ready in $bin"
