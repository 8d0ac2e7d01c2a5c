# syntax=docker/dockerfile:1
# One image runs every Stowage process: `stowage api | worker | operator | migrate` (the Helm chart passes
# the command as the container's args).
#
# `make image` builds the same image without a daemon or a registry (scripts/image/main.ts): it runs
# the same scripts/image/build-app.sh for the build stage, copies the context this stage's COPY lines
# name, and takes ENV, WORKDIR, USER, EXPOSE, ENTRYPOINT and the COPY --from=build lines from the final
# stage below. Only the base differs: there, the node make runs (the one scripts/node pins when the
# machine's is older) and the Debian packages of the libraries it loads; test/image/dockerfile.test.ts
# holds its major to .nvmrc and to NODE_IMAGE.
ARG NODE_IMAGE=node:24-bookworm-slim

# Compile the TypeScript workspaces, then drop the dev dependencies from node_modules.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY scripts/image/build-app.sh scripts/image/
COPY package.json package-lock.json .npmrc ./
COPY services/core/package.json services/core/
COPY services/api/package.json services/api/
COPY services/image-worker/package.json services/image-worker/
COPY services/sdk/package.json services/sdk/
COPY services/stw/package.json services/stw/
COPY services/cli/package.json services/cli/
COPY operator/package.json operator/
RUN scripts/image/build-app.sh deps
COPY tsconfig.base.json tsconfig.build.json ./
COPY services services
COPY operator operator
RUN scripts/image/build-app.sh build

# Production dependencies and compiled output only, run as an unprivileged user with a fixed uid
# (the chart's runAsUser) and no writable paths besides /tmp.
FROM ${NODE_IMAGE}
# HOME on /tmp: the one writable path under the chart's read-only root filesystem.
ENV NODE_ENV=production HOME=/tmp
WORKDIR /app
RUN groupadd --system --gid 10001 stowage \
  && useradd --system --uid 10001 --gid stowage --no-create-home --shell /usr/sbin/nologin stowage
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/services services
COPY --from=build /src/operator operator
USER 10001:10001
EXPOSE 8080 9464
# Node 24's V8 lets the young generation grow to 64-128 MiB; a streamed upload cycles through all of it,
# and the 64 KiB socket buffers it reads into are freed only when a collection finds them. 8 MiB
# semi-spaces keep the API of a 2 GiB upload at about 190 MiB instead of 215 (BENCHMARKS.md).
# The benchmarks run the built binary with these flags too (test/support/cli.ts reads them here).
ENTRYPOINT ["node", "--max-semi-space-size=8", "services/cli/dist/main.js"]
