# One image for every pvs daemon and operator verb.
FROM golang:1.26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libgdal-dev libturbojpeg0-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd cmd
COPY pkg pkg
# The web client's bundle is built on the host (make client: npm is not
# reachable from here) and embedded from pkg/webclient/dist.
RUN test -s pkg/webclient/dist/client.js || { echo "client bundle not built: run make client before building the image" >&2; exit 1; }
COPY internal internal
ARG VERSION=dev
RUN go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/pvs ./cmd/pvs

# The runtime carries the libraries pvs links (GDAL, with its data files and
# PROJ, and libjpeg-turbo) and CA certificates for S3 over TLS: no GDAL
# command-line tools and no curl (healthchecks use `pvs healthcheck`).
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libgdal32 libturbojpeg0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/pvs pvs && mkdir -p /var/lib/pvs/scratch /etc/pvs && chown -R pvs /var/lib/pvs
COPY --from=build /out/pvs /usr/local/bin/pvs
COPY config /etc/pvs
USER pvs
WORKDIR /var/lib/pvs
ENV PVS_CONFIG=/etc/pvs/collection.yaml PVS_LOG_FORMAT=json TMPDIR=/var/lib/pvs/scratch
ENTRYPOINT ["pvs"]
