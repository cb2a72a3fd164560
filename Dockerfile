# syntax=docker/dockerfile:1
# The bulk-delete worker image used by temporal-compose.yml: compiled JavaScript on the current Node LTS,
# no dev dependencies (no tsx, no TypeScript, no webpack at start: the workflow bundle is prebuilt), non-root.
ARG NODE_IMAGE=node:24-bookworm-slim

# 1. Everything needed to build: all dependencies, then `npm run build` (tsc + the prebuilt workflow bundle).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY config ./config
COPY plan ./plan
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
COPY sandbox ./sandbox
COPY scripts ./scripts
COPY examples ./examples
RUN npm run build

# 2. The production dependencies only.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. What runs: dist/ and the production node_modules, as the unprivileged user of the Node image.
FROM ${NODE_IMAGE} AS runtime
# Read before the worker's code runs (worker/memory.ts, docs/operations.md "Memory"): NODE_OPTIONS, the main
# thread's young generation at 16 MB instead of up to 32 (the worker sets the rest itself, BULK_DELETE_V8_FLAGS);
# MALLOC_ARENA_MAX, 2 glibc arenas instead of up to 8 per core for the native threads.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=8" \
    MALLOC_ARENA_MAX=2 \
    BULK_DELETE_LOG_FORMAT=json \
    BULK_DELETE_HEALTH_BIND=127.0.0.1:9465 \
    BULK_DELETE_METRICS_BIND=0.0.0.0:9464
WORKDIR /app
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
USER node
EXPOSE 9464
# 200 while the worker polls its task queue (worker/health.ts).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9465/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM lets running activities finish for BULK_DELETE_SHUTDOWN_GRACE (compose's stop_grace_period is above it).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/bin/bulk-delete.js"]
CMD ["worker"]
