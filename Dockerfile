# syntax=docker/dockerfile:1
# OrderStream: one image for every shape and role. Node 24 runs the TypeScript sources directly
# (type stripping), so the server has no build step: the image is production dependencies, sources
# and the operations console's static files (built in the `console` stage).
#
#   docker build -t orderstream:local .
#   docker run --rm -p 8080:8080 orderstream:local                        # single process, embedded PostgreSQL
#   docker run --rm orderstream:local start --role orders                 # one role of the services shape
#
# deploy/docker-compose.yml and deploy/k8s/ run it; deploy/deploy-artifacts.test.ts checks them against the code.

# Production dependencies only, in a stage of their own so that the npm cache never reaches the image.
# --workspaces=false: the workspaces (packages/, the API client for integrators) are not part of the
# server, so their folders are not sent and their dependencies not installed.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --workspaces=false --no-audit --no-fund

# The operations console (console/, Vite + React), built into static files in a stage of its own:
# its build tools are dev dependencies, so only console/dist reaches the image. --ignore-scripts: the
# build needs no install script (and console/ is not there yet for `prepare` to build).
FROM node:24-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --workspaces=false --ignore-scripts --no-audit --no-fund
COPY console ./console
RUN npm run build:console

FROM node:24-bookworm-slim AS runtime
WORKDIR /app
# Listen on every interface inside the container; the operations listener (/metrics) too, for scrapers.
ENV HOST=0.0.0.0 \
    PORT=8080 \
    OPS_HOST=0.0.0.0 \
    OPS_PORT=9464
# Code and dependencies stay owned by root, so the process cannot rewrite them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY --from=console /app/console/dist ./console/dist
# The only writable folder: embedded PostgreSQL (single process), documents and emails of the file stores.
# Created here so that volumes mounted on these paths start owned by the `node` user.
RUN mkdir -p .data/documents .data/mail-outbox && chown -R node:node .data
USER node
EXPOSE 8080 9464
# Liveness only (GET /healthz on PORT); readiness (/readyz) is the orchestrator's probe.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((response) => process.exit(response.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "src/cli.ts"]
CMD ["start"]
