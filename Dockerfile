# scim-gateway: docker build -t scim-gateway . && docker run -p 8080:8080 scim-gateway
# Config: mount your file at /etc/scim-gateway/config.yaml (the default one is baked in).
# State (SQLite): /var/lib/scim-gateway (mount a volume there), or PostgreSQL: store.kind postgres.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    SCIM_GATEWAY__LISTEN__HOST=0.0.0.0 \
    SCIM_GATEWAY__STORE__PATH=/var/lib/scim-gateway/gateway.db

WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
RUN pip install '.[postgres]' && rm -rf /src

RUN useradd --system --uid 10001 --home-dir /var/lib/scim-gateway scim \
    && mkdir -p /var/lib/scim-gateway /etc/scim-gateway \
    && chown scim /var/lib/scim-gateway
COPY config.yaml /etc/scim-gateway/config.yaml

USER 10001  # numeric, so that Kubernetes can check runAsNonRoot (the user "scim")
WORKDIR /var/lib/scim-gateway
VOLUME ["/var/lib/scim-gateway"]
EXPOSE 8080
ENTRYPOINT ["scim-gateway", "serve", "--config", "/etc/scim-gateway/config.yaml"]
