# zeek-rst pipeline image: `docker build -t zeek-rst .` then `docker run zeek-rst` (runs `zeek-rst run`;
# any other subcommand replaces the default: `docker run zeek-rst classify --help`).
# Configuration comes from ZEEK_RST_* environment variables (see README).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
# bin/zeek-rst itself: its shebang gives node its V8 options (src/cli/node-flags.ts).
ENTRYPOINT ["/app/bin/zeek-rst"]
CMD ["run"]
