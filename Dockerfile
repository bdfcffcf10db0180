# bunch: one image for every role — `bunch worker`, `bunch run`, `bunch status`, `bunch emulator`.
#   docker build -t bunch .
#   docker run --rm bunch --help

# --- build: compile TypeScript with the dev dependencies ------------------------------------
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; we build explicitly below.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
RUN npm run build

# --- runtime: production dependencies and the compiled output only ----------------------------
FROM node:20-slim
ENV NODE_ENV=production \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY jobs ./jobs
RUN chmod +x bin/bunch.js && ln -s /app/bin/bunch.js /usr/local/bin/bunch \
 && chown node:node /app
# The node image's unprivileged user; bunch needs no root. It may create directories in /app
# (e.g. `bunch demo` writes ./bunch-demo-out) but not change the installed files.
USER node
ENTRYPOINT ["bunch"]
CMD ["--help"]
