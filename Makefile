# pvs — make help lists the targets.
SHELL := /bin/bash
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN := bin/pvs
GO_SOURCES := $(shell find cmd pkg internal -name '*.go' 2>/dev/null) go.mod go.sum
# The web client: web/client bundled with esbuild into pkg/webclient/dist,
# which the binary embeds (the bundle is not kept in git).
CLIENT := pkg/webclient/dist/client.js
CLIENT_SOURCES := $(shell find web/client/src -type f 2>/dev/null) web/client/index.html web/client/build.mjs
CLIENT_MODULES := web/client/node_modules/.package-lock.json

.PHONY: help deps build client up down demo test stack-test images bench bench-deps lint fmt clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install GDAL, PostGIS, Redis (apt) and build versitygw and Traefik once per machine
	@bash scripts/deps.sh

$(BIN): $(GO_SOURCES) $(CLIENT)
	go build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/pvs

build: deps $(BIN) ## build bin/pvs

$(CLIENT_MODULES): web/client/package.json web/client/package-lock.json
	cd web/client && npm ci --no-audit --no-fund

$(CLIENT): $(CLIENT_MODULES) $(CLIENT_SOURCES)
	cd web/client && npm run --silent build

client: $(CLIENT) ## bundle the web client (OpenLayers from npm, esbuild) into pkg/webclient/dist

up: deps ## start Redis, PostgreSQL+PostGIS, the S3 server and Traefik as local processes
	@bash scripts/up.sh

down: ## stop the pvs daemons and the local services
	@bash scripts/down.sh

demo: build up ## ingest a sample product end to end and print the WMS and WMTS URLs
	@bash scripts/demo.sh

test: build ## run every test against the real services (started, then stopped)
	@bash scripts/test.sh

images: deps client ## build every image of the stacks from Debian and the Go module proxy (cached)
	@bash scripts/images.sh

stack-test: deps client ## deploy the stacks on a single-node swarm and test them (starts Docker)
	@bash scripts/stack-test.sh

bench: build bench-deps ## run the benchmarks (against MapServer, MapCache, nginx too) and print the figures
	@bash scripts/bench.sh

bench-deps: ## install the reference servers the benchmarks compare with
	@bash scripts/bench-deps.sh

lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l cmd pkg internal bench 2>/dev/null)" || { gofmt -l cmd pkg internal bench; echo "gofmt: files above need formatting"; exit 1; }
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.6.1 ./...

clean: down ## stop everything and remove bin/, var/ and the PostgreSQL data
	@. scripts/env.sh; case "$$PVS_PG_DIR" in /var/lib/postgresql/pvs-*) rm -rf "$$PVS_PG_DIR";; esac
	rm -rf bin var
