# incidentflow worker and API image (one image, the role is chosen by the command).
# Build: docker build -t incidentflow .   Run: node dist/src/main.js --role=worker|api|all
FROM node:20.18.1-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build

FROM bitnami/kubectl:1.31.4 AS kubectl

FROM node:20.18.1-bookworm-slim
ENV NODE_ENV=production INCIDENTFLOW_CONFIG_DIR=/app/config
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=kubectl /opt/bitnami/kubectl/bin/kubectl /usr/local/bin/kubectl
COPY config ./config
ENV KUBECTL_PATH=/usr/local/bin/kubectl
USER node
EXPOSE 8080 9464
CMD ["node", "dist/src/main.js", "--role=all"]
