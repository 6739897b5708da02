# syntax=docker/dockerfile:1
# The testmesh image: one binary for every role (operator, executor, api, migrate, crds) and the
# dashboard's static build. Each RUN line calls scripts/build-release.sh, which
# scripts/check-docker-build.sh also runs outside a container, so the two cannot drift apart.
ARG RUST_VERSION=1.95
ARG NODE_VERSION=22

# Rust: dependencies first (a layer that changes only with Cargo.toml/Cargo.lock), then the code.
FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /src
COPY scripts/build-release.sh scripts/build-release.sh
COPY Cargo.toml Cargo.lock ./
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    scripts/build-release.sh deps
# .dockerignore lets through only what the build reads (sources, migrations, the dashboard).
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    TESTMESH_OUT=out scripts/build-release.sh binary

# Dashboard: npm ci on the lockfile alone (cached), then the static export to dashboard/out.
FROM node:${NODE_VERSION}-bookworm-slim AS dashboard
WORKDIR /src
COPY scripts/build-release.sh scripts/build-release.sh
COPY dashboard/package.json dashboard/package-lock.json dashboard/
RUN scripts/build-release.sh dashboard-deps
COPY dashboard dashboard
RUN scripts/build-release.sh dashboard

# Runtime: glibc and libgcc only, no shell, non-root (uid 65532). Kubernetes probes use the
# HTTP endpoints /healthz and /readyz that every long-running role serves.
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="testmesh" \
      org.opencontainers.image.description="Kubernetes-native end-to-end integration tests: operator, executor, API and dashboard in one binary" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /src/out/testmesh /usr/local/bin/testmesh
COPY --from=dashboard /src/dashboard/out /usr/share/testmesh/dashboard
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/testmesh"]
CMD ["--help"]
