# loadshed serve: the whole bot in one small container, for a token and no AWS account.
#   docker build -t loadshed .
#   docker run -d --name loadshed -e TELEGRAM_BOT_TOKEN=... -v loadshed:/data loadshed
# Stops cleanly on `docker stop` (SIGTERM, exit 0 well within its 10 s).

ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
COPY . .
# Only the CLI: the Lambda functions and their SDK clients are not built.
RUN cargo build --release --locked -p loadshed --bin loadshed \
    && cp target/release/loadshed /usr/local/bin/loadshed

FROM debian:bookworm-slim
# The HTTPS clients trust the system's root certificates.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin loadshed \
    && mkdir /data && chown loadshed:loadshed /data
COPY --from=build /usr/local/bin/loadshed /usr/local/bin/loadshed
USER loadshed
# The SQLite store (subscriptions, ledger, Telegram offset): keep it on a volume.
VOLUME ["/data"]
ENV RUST_LOG=info
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/loadshed", "serve", "--data", "/data"]
