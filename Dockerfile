# One image for kvserver, kvgate and kvctl; pick the program with the
# entrypoint: `node packages/<kvserver|kvgate|kvctl>/dist/src/main.js`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Manifests first, so that `npm ci` stays cached while only sources change.
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/cluster/package.json packages/cluster/
COPY packages/kvclient/package.json packages/kvclient/
COPY packages/kvserver/package.json packages/kvserver/
COPY packages/kvgate/package.json packages/kvgate/
COPY packages/kvctl/package.json packages/kvctl/
RUN npm ci
COPY packages packages
RUN npx tsc -b packages/protocol packages/cluster packages/kvclient packages/kvserver packages/kvgate packages/kvctl \
 && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
# Named volumes mounted on /data and /secret take this ownership, so
# replicas can write their data and compose's cluster-secret service its secret.
RUN mkdir /data /secret && chown node:node /data /secret
USER node
ENTRYPOINT ["node"]
CMD ["packages/kvgate/dist/src/main.js"]
