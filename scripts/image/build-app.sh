#!/usr/bin/env bash
# The application part of the Stowage image, run in the build context's copy of the repository by both
# the Dockerfile's build stage and `make image` (scripts/image/main.ts), so the two cannot drift:
#   build-app.sh deps    install every dependency from the lockfile
#   build-app.sh build   compile the workspaces, then keep production dependencies and compiled output only
set -euo pipefail

case ${1:-} in
  deps)
    npm ci --no-audit --no-fund --loglevel=error
    ;;
  build)
    npm run build
    npm prune --omit=dev --no-audit --no-fund --loglevel=error
    rm -rf services/*/src operator/src services/*/tsconfig*.json operator/tsconfig*.json
    find . -name '*.tsbuildinfo' -delete
    ;;
  *)
    echo "usage: $0 deps|build" >&2
    exit 2
    ;;
esac
