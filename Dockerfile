# syntax=docker/dockerfile:1
# linkerd-cert-rotator image: TypeScript compiled and bundled (esbuild: tree-shaken ES modules with their
# production dependencies, an entry and the chunks it imports only when a command needs them) in a full Node.js stage, run on distroless Node.js (no shell, no package
# manager, nonroot). The runtime stage adds the bundle and its licence file, about 2.5 MiB, to the base. scripts/image-build.sh builds it with podman where no base
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
# skipped: only dev dependencies have them (the `node` binary package used by local tests, a file
# watcher, esbuild's binary check), and none is needed to compile and bundle.
COPY package.json package-lock.json ./
RUN npm "${NPM_INSTALL}" --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/bundle.mjs
COPY src ./src
RUN npm run bundle

FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="linkerd-cert-rotator" \
      org.opencontainers.image.description="Rotates Linkerd's trust anchor and identity issuer with cert-manager and trust-manager, restarting the mesh in a safe order" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# `version` reports the commit the image was built from.
ENV NODE_ENV=production \
    LCR_BUILD_COMMIT=${REVISION}
WORKDIR /app
# Owned by root and read-only for the runtime user: the rotator never writes to its own files.
COPY --from=build /app/bundle/main.mjs /app/bundle/main.mjs.LEGAL.txt ./
COPY --from=build /app/bundle/chunks ./chunks
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/main.mjs"]
CMD ["rotate"]
