#!/usr/bin/env bash
# `make e2e`: a one-node Kubernetes cluster on this machine (etcd, kube-apiserver, controller-manager,
# scheduler, containerd + runc + the CNI bridge, kubelet, kube-proxy, CoreDNS and metrics-server as
# host processes), with PostgreSQL, Redis and MinIO on the node's address, the images from `make
# image` imported; then it runs a command (the journey in test/e2e) with the cluster's settings in its
# environment, and tears everything down: on exit, on failure and on Ctrl-C. It also tears down what
# a run killed too hard to clean up left behind, before it starts.
#
#   scripts/e2e/cluster.sh -- node --test test/e2e/journey.test.ts
#
# It changes the machine (network bridge, iptables, sysctls, mounts, cgroups) and puts every change
# back, but it refuses to run unless it is root and told the machine is disposable: STOWAGE_E2E=1 or
# CI=true.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${TOOLS_DIR:-$root/.tools}/bin
export PATH=$bin:$PATH

if [[ $(id -u) != 0 ]]; then
  echo "make e2e runs a kubelet and changes the network and kernel settings: it must run as root" >&2
  exit 2
fi
if [[ ${STOWAGE_E2E:-} != 1 && ${CI:-} != true ]]; then
  echo "make e2e changes this machine while it runs: set STOWAGE_E2E=1 (or CI=true) on a disposable one" >&2
  exit 2
fi
[[ ${1:-} == --check ]] && exit 0 # allowed to run: what `make e2e` asks before it builds anything
[[ ${1:-} == -- ]] && shift

# Every path, address and name the cluster uses; nothing else on the machine is touched.
state=/var/lib/stowage-e2e
run=/run/stowage-e2e
node_ip=10.213.0.1
node_bridge=stowage-node0
cni_bridge=stowage-cni0
pod_cidr=10.244.0.0/24
service_cidr=10.96.0.0/24
api_service_ip=10.96.0.1
node_name=stowage-e2e
images=${E2E_IMAGES:-$root/dist/images}
# What the kubelet and kube-proxy change, and what this script changes itself.
sysctls=(kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom kernel.keys.root_maxkeys
  kernel.keys.root_maxbytes net.ipv4.ip_forward net.ipv4.conf.all.route_localnet
  net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.netfilter.nf_conntrack_max)
# Paths outside $state that the kubelet, containerd or CNI create when missing.
created_paths=(/run/netns /var/log/containers /var/lib/cni /var/lib/kubelet)

log() { printf '[e2e] %s\n' "$*" >&2; }

# --- processes, by pid file ------------------------------------------------------------------------
# start <name> <command...>: in the background, output in $state/logs/<name>.log, in a session of its
# own, so that Ctrl-C reaches this script alone and the teardown stops everything in order.
start() {
  local name=$1
  shift
  setsid "$@" >>"$state/logs/$name.log" 2>&1 </dev/null &
  echo "$! $1" >"$state/pids/$name"
}

# stop <name>...: SIGTERM, up to 20 s, then SIGKILL; only a pid whose command is still the one started.
stop() {
  local name file pid cmd i
  for name in "$@"; do
    file=$state/pids/$name
    [[ -f $file ]] || continue
    read -r pid cmd <"$file"
    if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(readlink -f "$(command -v "$cmd")")"* ]]; then
      kill -TERM "$pid" 2>/dev/null
      for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$file"
  done
}

# --- teardown --------------------------------------------------------------------------------------
kill_containers() {
  local ctr=(ctr --address "$run/containerd.sock" -n k8s.io) id f pid
  if [[ -S $run/containerd.sock ]] && "${ctr[@]}" version >/dev/null 2>&1; then
    for id in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks kill -s SIGKILL "$id" >/dev/null 2>&1; done
    sleep 1
    for id in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks delete -f "$id" >/dev/null 2>&1; done
  fi
  # Whatever is left (containerd gone, or a task it could not delete): each container's first process
  # (which takes its pid namespace with it), from the pid files containerd keeps, and the shims of
  # this containerd, known by its socket.
  for f in "$run"/containerd/io.containerd.runtime.v2.task/*/*/init.pid; do
    [[ -f $f ]] && kill -KILL "$(cat "$f")" 2>/dev/null
  done
  for pid in $(pgrep -f -- "^/usr/bin/containerd-shim-runc-v2 .*-address $run/containerd.sock\$"); do
    kill -KILL "$pid" 2>/dev/null
  done
  return 0
}

unmount_all() {
  local target
  findmnt -rn -o TARGET | sed 's/\\x20/ /g' | grep -E "^($state|$run|/run/netns/cni-|/var/run/netns/cni-)" |
    sort -r | while read -r target; do umount -l "$target" 2>/dev/null; done
  rm -f /run/netns/cni-* 2>/dev/null
  return 0
}

remove_cgroups() {
  local dir
  for dir in /sys/fs/cgroup/*/kubepods; do
    [[ -d $dir ]] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return 0
}

restore_host() {
  local saved=$state/host line
  [[ -d $saved ]] || return 0
  if [[ -f $saved/ruleset.nft ]]; then
    nft flush ruleset && nft -f "$saved/ruleset.nft"
  fi
  if [[ -f $saved/sysctl ]]; then
    while read -r line; do sysctl -q -w "$line" >/dev/null 2>&1 || log "could not restore $line"; done <"$saved/sysctl"
  fi
  if [[ -f $saved/absent ]]; then
    while read -r line; do rm -rf "$line"; done <"$saved/absent"
  fi
}

teardown() {
  set +e
  trap - EXIT INT TERM HUP
  [[ -d $state ]] || return 0
  log "tearing down"
  stop command kubelet
  kill_containers
  stop kube-proxy coredns metrics-server kube-scheduler kube-controller-manager containerd
  kill_containers
  stop kube-apiserver etcd servers
  unmount_all
  remove_cgroups
  ip link del "$cni_bridge" 2>/dev/null
  ip link del "$node_bridge" 2>/dev/null
  restore_host
  rm -rf "$state" "$run"
  log "torn down"
}

on_signal() {
  log "interrupted"
  teardown
  exit 130
}

# --- set-up ----------------------------------------------------------------------------------------
save_host() {
  local saved=$state/host k p
  mkdir -p "$saved"
  nft list ruleset >"$saved/ruleset.nft"
  for k in "${sysctls[@]}"; do
    [[ -e /proc/sys/${k//.//} ]] && echo "$k=$(sysctl -n "$k")"
  done >"$saved/sysctl"
  for p in "${created_paths[@]}"; do [[ -e $p ]] || echo "$p"; done >"$saved/absent"
}

certificates() {
  local pki=$state/pki
  mkdir -p "$pki"
  cd "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=stowage-e2e-ca -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout apiserver.key -out apiserver.csr 2>/dev/null
  printf 'subjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,%s,IP:%s,IP:%s\n' \
    DNS:kubernetes.default.svc.cluster.local "$api_service_ip" "$node_ip" >apiserver.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile apiserver.ext \
    -out apiserver.crt 2>/dev/null
  # The aggregation layer (metrics-server): the apiserver proves itself to it with a front-proxy cert.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=front-proxy-ca -keyout front-proxy-ca.key \
    -out front-proxy-ca.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=front-proxy-client -keyout front-proxy-client.key \
    -out front-proxy-client.csr 2>/dev/null
  openssl x509 -req -in front-proxy-client.csr -CA front-proxy-ca.crt -CAkey front-proxy-ca.key -CAcreateserial \
    -days 2 -out front-proxy-client.crt 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  token=$(openssl rand -hex 24)
  echo "$token,admin,admin,\"system:masters\"" >tokens.csv
  chmod 600 ./*.key tokens.csv
  cd - >/dev/null
  kubeconfig=$state/kubeconfig
  cat >"$kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: 'https://$node_ip:6443', certificate-authority: '$pki/ca.crt'}}]
users: [{name: admin, user: {token: '$token'}}]
contexts: [{name: e2e, context: {cluster: e2e, user: admin}}]
current-context: e2e
EOF
  chmod 600 "$kubeconfig"
}

wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 seconds=$2 i
  shift 2
  for ((i = 0; i < seconds * 2; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  log "$what: not ready after ${seconds} s; logs in $state/logs"
  return 1
}

start_control_plane() {
  local pki=$state/pki
  start etcd etcd --data-dir "$state/etcd" --listen-client-urls "http://$node_ip:2379" \
    --advertise-client-urls "http://$node_ip:2379" --listen-peer-urls "http://$node_ip:2380" \
    --initial-advertise-peer-urls "http://$node_ip:2380" --initial-cluster "default=http://$node_ip:2380" \
    --unsafe-no-fsync --log-level warn
  start kube-apiserver kube-apiserver --etcd-servers "http://$node_ip:2379" \
    --bind-address "$node_ip" --advertise-address "$node_ip" --secure-port 6443 \
    --service-cluster-ip-range "$service_cidr" --tls-cert-file "$pki/apiserver.crt" \
    --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
    --token-auth-file "$pki/tokens.csv" --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --requestheader-client-ca-file "$pki/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- --proxy-client-cert-file "$pki/front-proxy-client.crt" \
    --proxy-client-key-file "$pki/front-proxy-client.key" --enable-aggregator-routing=true \
    --kubelet-preferred-address-types InternalIP --allow-privileged=true
  wait_for kube-apiserver 60 kubectl --kubeconfig "$kubeconfig" get --raw /readyz
  start kube-controller-manager kube-controller-manager --kubeconfig "$kubeconfig" \
    --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
    --bind-address "$node_ip" --secure-port 10257 --leader-elect=false \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-cidr "$pod_cidr" --service-cluster-ip-range "$service_cidr"
  start kube-scheduler kube-scheduler --kubeconfig "$kubeconfig" --authentication-kubeconfig "$kubeconfig" \
    --authorization-kubeconfig "$kubeconfig" --bind-address "$node_ip" --secure-port 10259 --leader-elect=false
}

start_node() {
  mkdir -p "$state/cni" "$run"
  cat >"$state/containerd.toml" <<EOF
version = 2
root = "$state/containerd"
state = "$run/containerd"
# The opt plugin would install into /opt/containerd.
disabled_plugins = ["io.containerd.internal.v1.opt"]
[grpc]
  address = "$run/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  # No process here may lower oom_score_adj below 0 (no CAP_SYS_RESOURCE); containerd would ask runc
  # for -998 on every sandbox and each would fail to start.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$state/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
EOF
  cat >"$state/cni/10-stowage.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "stowage-e2e", "plugins": [
  {"type": "bridge", "bridge": "$cni_bridge", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$pod_cidr"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$state/cni-ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}
]}
EOF
  start containerd containerd --config "$state/containerd.toml"
  wait_for containerd 30 ctr --address "$run/containerd.sock" version
  local archive
  for archive in "$images/pause.tar" "$images/stowage.tar"; do
    log "importing $archive"
    ctr --address "$run/containerd.sock" -n k8s.io images import "$archive" >/dev/null
  done

  cat >"$state/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
healthzBindAddress: $node_ip
readOnlyPort: 0
# The apiserver and metrics-server reach the kubelet with no client certificate.
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
# cgroup v1 and no systemd here.
cgroupDriver: cgroupfs
failCgroupV1: false
containerRuntimeEndpoint: unix://$run/containerd.sock
clusterDNS: [$node_ip]
clusterDomain: cluster.local
failSwapOn: false
podLogsDir: $state/pod-logs
serializeImagePulls: false
# Never evict or collect the imported images: nothing can pull them back.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
  start kubelet kubelet --config "$state/kubelet.yaml" --kubeconfig "$kubeconfig" --root-dir "$state/kubelet" \
    --cert-dir "$state/kubelet-pki" \
    --hostname-override "$node_name" --node-ip "$node_ip" --v=1
  cat >"$state/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $kubeconfig}
hostnameOverride: $node_name
mode: iptables
clusterCIDR: $pod_cidr
bindAddress: $node_ip
healthzBindAddress: $node_ip:10256
metricsBindAddress: $node_ip:10249
# Leave the kernel's conntrack settings alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  start kube-proxy kube-proxy --config "$state/kube-proxy.yaml"
  # CoreDNS on the node's address, the kubelet's clusterDNS: cluster names only (there is no upstream).
  cat >"$state/Corefile" <<EOF
.:53 {
  bind $node_ip
  errors
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig $kubeconfig
    pods insecure
  }
  cache 5
}
EOF
  start coredns coredns -conf "$state/Corefile"
  wait_for "node $node_name" 120 kubectl --kubeconfig "$kubeconfig" wait "node/$node_name" --for=condition=Ready --timeout=1s
  start_metrics_server
}

# metrics-server on the node's address, registered as the metrics.k8s.io API through a Service with
# no selector whose endpoint is that address.
start_metrics_server() {
  start metrics-server metrics-server --kubeconfig "$kubeconfig" --authentication-kubeconfig "$kubeconfig" \
    --authorization-kubeconfig "$kubeconfig" --bind-address "$node_ip" --secure-port 4443 \
    --cert-dir "$state/metrics-server" --kubelet-insecure-tls --kubelet-preferred-address-types InternalIP \
    --metric-resolution 15s
  kubectl --kubeconfig "$kubeconfig" apply -f - >>"$state/logs/metrics-server.log" 2>&1 <<EOF
apiVersion: v1
kind: Service
metadata: {name: metrics-server, namespace: kube-system}
spec: {ports: [{name: https, port: 443, targetPort: 4443}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: metrics-server, namespace: kube-system}
subsets: [{addresses: [{ip: $node_ip}], ports: [{name: https, port: 4443}]}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec:
  service: {name: metrics-server, namespace: kube-system, port: 443}
  group: metrics.k8s.io
  version: v1beta1
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 100
EOF
}

start_servers() {
  local env=$state/servers.env
  : >"$env"
  start servers node --import tsx "$root/scripts/test-env/main.ts" --only postgres,redis,minio --host "$node_ip"
  # The launcher prints export lines once every server answers, then serves until it is stopped.
  wait_for "PostgreSQL, Redis and MinIO" 120 grep -q '^export S3_FORCE_PATH_STYLE' "$state/logs/servers.log"
  grep '^export ' "$state/logs/servers.log" >"$env"
  # shellcheck disable=SC1090
  source "$env"
}

main() {
  local pause_image
  pause_image=$(tar -xOf "$images/pause.tar" manifest.json | sed -n 's/.*"RepoTags":\["\([^"]*\)".*/\1/p')
  [[ -n $pause_image ]] || {
    log "no images in $images: run make image"
    exit 2
  }
  cd "$root"
  teardown # what a run killed too hard to clean up left behind
  trap teardown EXIT
  trap on_signal INT TERM HUP
  mkdir -p "$state/logs" "$state/pids" "$run"
  save_host

  local started=$SECONDS
  sysctl -q -w net.ipv4.ip_forward=1 >/dev/null
  ip link add "$node_bridge" type bridge
  ip addr add "$node_ip/24" dev "$node_bridge"
  ip link set "$node_bridge" up
  certificates
  start_servers
  start_control_plane
  start_node
  log "cluster ready in $((SECONDS - started)) s (logs in $state/logs)"

  export KUBECONFIG=$kubeconfig E2E_DNS_SERVER=$node_ip E2E_CONTAINERD=$run/containerd.sock
  if [[ $# == 0 ]]; then
    log "serving until Ctrl-C: KUBECONFIG=$kubeconfig; PostgreSQL, Redis and MinIO in $state/servers.env"
    set -- sleep infinity
  fi
  "$@" &
  echo "$! $1" >"$state/pids/command"
  wait $! && status=0 || status=$?
  return "$status"
}

main "$@"
