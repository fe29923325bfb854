# Builds every service binary; each compose service runs one of them.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --workspace --bins

FROM debian:bookworm-slim
# curl: the compose stack's healthchecks probe the gateways' /readyz with it.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/tars-platform /src/target/release/tars-gateway \
     /src/target/release/tars-deployer /src/target/release/tars-task-runner \
     /src/target/release/tars-monitor /src/target/release/tarsnode-sim \
     /src/target/release/query-sim /usr/local/bin/
ENV TARS_DATA_DIR=/var/lib/tars
CMD ["tars-platform"]
