# syntax=docker/dockerfile:1
# linkerd-cert-rotator image: TypeScript compiled in a full Node.js stage, run on distroless Node.js
# (no shell, no package manager, nonroot). scripts/image-build.sh builds it with podman where no base
# image can be pulled, from stand-in bases tagged with these names.
ARG BUILD_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12
# `ci` installs exactly the lockfile. `install` is only for lockfiles that lack other platforms' optional
# packages (written against a registry that filters them), which `npm ci` refuses as out of sync.
ARG NPM_INSTALL=ci

FROM ${BUILD_IMAGE} AS build
ARG NPM_INSTALL
WORKDIR /app
# Dependencies first, from the lockfile only, so that source edits reuse this layer. Install scripts are
# skipped: only dev dependencies have them (the `node` binary package used by local tests and a file
# watcher), and neither is needed to compile.
COPY package.json package-lock.json ./
RUN npm "${NPM_INSTALL}" --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="linkerd-cert-rotator" \
      org.opencontainers.image.description="Rotates Linkerd's trust anchor and identity issuer with cert-manager and trust-manager, restarting the mesh in a safe order" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only for the runtime user: the rotator never writes to its own files.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli/main.js"]
CMD ["rotate"]
