# attune — the two commands a new user needs are `make run` and `make test`.
GO        ?= go
BIN       := bin/attune
SQLC      := github.com/sqlc-dev/sqlc/cmd/sqlc@v1.31.1
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test test-short test-chaos generate verify-generate lint bench bench-quick clean

all: build

build: ## Build bin/attune
	$(GO) build -o $(BIN) ./cmd/attune

run: build ## Run attune on its embedded PostgreSQL with the core and demo packs
	./$(BIN) start

test: ## Run every test against one throwaway PostgreSQL cluster that the run starts and stops
	$(GO) run ./internal/pgtest/withpg -- $(GO) test -count=1 -timeout 20m ./...

test-short: ## Run the tests that need no database
	$(GO) test -count=1 -short ./...

generate: ## Regenerate the sqlc code under db/internal/dbsqlc
	$(GO) run $(SQLC) generate

verify-generate: ## Fail when the committed sqlc output is stale
	$(GO) run $(SQLC) diff

lint: ## go vet and staticcheck
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

bench: ## Measure throughput, latency and timer precision against raw River, process spawn and PostgreSQL (< 5 min; BENCH_FLAGS="--json f.json")
	$(GO) build -o $(BIN) ./cmd/attune
	./$(BIN) bench $(BENCH_FLAGS)

bench-quick: ## A smaller bench, under a minute, for a smoke check
	$(GO) build -o $(BIN) ./cmd/attune
	./$(BIN) bench --quick $(BENCH_FLAGS)

clean:
	rm -rf bin

test-chaos: ## Kill, stop and restart real attune processes and PostgreSQL; prints one row per scenario
	@mkdir -p bin
	@ATTUNE_CHAOS_REPORT=$(CURDIR)/bin/chaos-report.md $(GO) test -count=1 -v -timeout 15m ./internal/chaos/ > bin/chaos.log 2>&1; \
	  status=$$?; grep -v '^        {' bin/chaos.log; exit $$status
