# One image for every AUREN Realtime app: the processors (enrichment, aggregation, alerting,
# archival, event-store) and the gateway. The entrypoint is `node --import tsx`; the app is the
# argument, e.g. `docker run IMAGE processors/alerting/main.ts` (the Helm chart, helm/auren, sets
# it per Deployment). Production dependencies only; runs as a fixed non-root user (uid 10001)
# and writes nothing but /tmp (tsx's cache), so the root filesystem can be read-only.
#
#   docker build -t auren-realtime:0.1.0 .
#
# What an app reads at run time: processors/, gateway/, schemas/ (Avro schemas, generated
# files included), prometheus/auren-stream-rules.yml (alerting's default rule file),
# package.json and tsconfig.json (tsx). scripts/ carries the `auren` CLI, whose `topics`
# command creates the contract topics and registers their schemas
# (`docker run IMAGE scripts/auren.ts topics`; the chart runs it as a hook Job). The CLI's
# demo dashboard pictures need development packages and are not part of the image.

FROM node:20.20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install` from the lock file, not `npm ci`: see scripts/bootstrap.sh (npm 11 lock files
# lack rollup's per-platform optional packages, which `npm ci` refuses as out of sync).
RUN npm install --omit=dev --no-audit --no-fund --loglevel=error && npm cache clean --force

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production \
    TMPDIR=/tmp \
    AUREN_HTTP_HOST=0.0.0.0 \
    AUREN_GATEWAY_HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY schemas ./schemas
COPY processors ./processors
COPY gateway ./gateway
COPY scripts ./scripts
COPY prometheus/auren-stream-rules.yml ./prometheus/auren-stream-rules.yml
USER 10001:10001
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["processors/enrichment/main.ts"]
