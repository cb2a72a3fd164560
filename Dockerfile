# The bulk-delete worker image used by temporal-compose.yml.
FROM node:20.19-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY plan ./plan
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
COPY sandbox ./sandbox
COPY scripts ./scripts
COPY tsconfig.json ./
USER node
CMD ["node", "bin/bulk-delete.js", "worker"]
