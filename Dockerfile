# kikimimi: one image for every service (migrate, worker, web, or both with `start`).
# Node 24 runs the TypeScript sources directly (docs/adr/001), so there is no build stage for the code;
# the first stage only installs the production dependencies.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/cli/package.json apps/cli/
COPY apps/web/package.json apps/web/
COPY apps/worker/package.json apps/worker/
COPY packages/connectors/package.json packages/connectors/
COPY packages/db/package.json packages/db/
COPY packages/desk/package.json packages/desk/
COPY packages/rules/package.json packages/rules/
COPY packages/runtime/package.json packages/runtime/
COPY packages/sandbox/package.json packages/sandbox/
# Behind a TLS-inspecting proxy (a company's, or a CI machine's) npm rejects the registry's certificate
# (SELF_SIGNED_CERT_IN_CHAIN): pass the proxy's CA certificates, PEM text, as the build argument
# EXTRA_CA_CERTS (compose: KIKIMIMI_BUILD_CA_CERTS; see the README's Docker section). Only this stage
# sees them; the final image does not.
ARG EXTRA_CA_CERTS=""
RUN if [ -n "$EXTRA_CA_CERTS" ]; then printf '%s\n' "$EXTRA_CA_CERTS" >/tmp/extra-ca.pem; export NODE_EXTRA_CA_CERTS=/tmp/extra-ca.pem; fi \
  && npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
  && rm -f /tmp/extra-ca.pem

FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node . .
# /data keeps the generated encryption key when none is configured (a named volume in compose,
# created from this directory, so it belongs to `node`).
RUN mkdir -p /data && chown node:node /data
# The image runs as the unprivileged `node` user of the base image.
USER node
EXPOSE 3000 9464
ENTRYPOINT ["node", "--max-semi-space-size=8", "apps/cli/bin/kikimimi.js"]
CMD ["start"]
