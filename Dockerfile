# syntax=docker/dockerfile:1
# One image for every role: the gateway, each service of shared/src/service-manifest.ts, the ingest
# worker. The role is the command (`docker run IMAGE responses`) or ROLE; default: the gateway.
# Built once, tagged once; docker-compose.yml and the Helm chart run it with a role each.
# Checked by test/integration/deploy-dockerfile.test.ts (no Docker engine in CI): base image, user,
# volume, healthcheck, the COPY sources, one package.json line per workspace, and the build command.

FROM node:22-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 falls back to a native build when no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
# The package files first, so the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY gateway/package.json gateway/
COPY services/responses/package.json services/responses/
COPY services/conversations/package.json services/conversations/
COPY services/prompts/package.json services/prompts/
COPY services/files/package.json services/files/
COPY services/vector-stores/package.json services/vector-stores/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY scripts/build.ts scripts/build-bundle.ts scripts/
COPY deploy/bin deploy/bin
COPY shared shared
COPY gateway gateway
COPY services services
# TypeScript compiled here, into /app as a workspace tree of plain JavaScript (scripts/build.ts), and
# each entry point bundled into /app/bundle (esbuild, scripts/build-bundle.ts: one file to load
# instead of thousands is most of the start time); then production dependencies only, installed
# into that tree (the native addons and the few packages loaded from node_modules at run time).
RUN npm run build -- --out /app
WORKDIR /app
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    # The gateway refuses to start open (no API key) here unless HOST=0.0.0.0 asks for it (README "API keys").
    RGW_CONTAINER=1 \
    # SQLite, local file bytes and the embedded vector index live here (embedded mode); mount a volume.
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
VOLUME /data
# The image's own non-root user (uid 1000); the code stays root-owned and read-only to it.
USER node
EXPOSE 8321
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 CMD ["node", "deploy/bin/healthcheck.js"]
ENTRYPOINT ["node", "deploy/bin/start-role.js"]
