# syntax=docker/dockerfile:1
# Tessera: ONE image for every service. The command picks the role:
#   docker run … tessera router …   |   … shard …   |   … launch …   (see docs/deploy.md)
# CPU build. NVIDIA GPUs (onnxruntime's CUDA provider, WebGPU over Vulkan): Dockerfile.gpu.

# --- stage 1: Node and the workspace manifests ----------------------------------------------------
FROM node:20-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# npm ci needs every workspace's package.json to link @tessera/* (test/deploy checks this list).
COPY packages/grammar/package.json packages/grammar/
COPY packages/logging/package.json packages/logging/
COPY packages/model-files/package.json packages/model-files/
COPY packages/options/package.json packages/options/
COPY packages/protocol/package.json packages/protocol/
COPY packages/testing/package.json packages/testing/
COPY packages/tokenization/package.json packages/tokenization/
COPY services/launcher/package.json services/launcher/
COPY services/router/package.json services/router/
COPY services/shard/package.json services/shard/

# --- production dependencies only -----------------------------------------------------------------
FROM manifests AS deps
# onnxruntime-node's postinstall would fetch CUDA libraries; the CPU build ships its own .so.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- build: the TypeScript compiled to JavaScript in dist/ (scripts/build.mjs); no loader at run time ---
FROM manifests AS build
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY proto ./proto
COPY packages ./packages
COPY services ./services
RUN node scripts/build.mjs

# --- runtime ---------------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ARG TESSERA_GIT_SHA=""
LABEL org.opencontainers.image.title="tessera" \
      org.opencontainers.image.description="Tessera text-generation inference server (router + shards), CPU" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    TESSERA_GIT_SHA=${TESSERA_GIT_SHA} \
    TESSERA_DOCKER_LABEL="tessera-cpu" \
    TESSERA_CACHE_DIR=/cache \
    TESSERA_MODEL_ID=/models \
    TESSERA_HOSTNAME=0.0.0.0 \
    TESSERA_RUNTIME=dist
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY --from=build /app/dist ./dist
# A fixed non-root uid (Kubernetes runAsNonRoot can check it); /cache holds compiled graphs.
RUN groupadd --system --gid 10001 tessera \
 && useradd --system --uid 10001 --gid tessera --home-dir /home/tessera --create-home tessera \
 && mkdir -p /models /cache \
 && chown tessera:tessera /cache \
 && ln -s /app/bin/tessera.js /usr/local/bin/tessera
USER 10001:10001
# The model is mounted here read-only; nothing is downloaded at run time.
VOLUME ["/models", "/cache"]
# router HTTP, shard gRPC
EXPOSE 8080 50051
# Checks whatever this container serves on $TESSERA_PORT: the router's GET /health or the shard's
# gRPC Health (compose and Kubernetes name the exact target per service).
HEALTHCHECK --interval=15s --timeout=10s --start-period=300s --retries=3 CMD ["tessera", "health"]
ENTRYPOINT ["tessera"]
CMD ["launch"]
