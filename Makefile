# drawbridge: `make test` runs every test on a fresh machine (installing
# what the tests need when it is missing), `make bench` the benchmarks.
GO ?= go
export DRAWBRIDGE_VECTORS ?= $(abspath ../shared/vectors)

.PHONY: test deps lint bench fuzz build

build:
	$(GO) build -o drawbridge ./cmd/drawbridge

deps:
	@./scripts/test-deps.sh

test: deps
	$(GO) test -count=1 -timeout 20m ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# Short fuzz runs of every parser of attacker bytes.
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list 'Fuzz.*' $$pkg | grep ^Fuzz); do \
	    echo "== $$pkg $$t"; $(GO) test $$pkg -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; \
	  done; \
	done

BENCHFLAGS ?=
bench:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y wrk >/dev/null)) || echo "wrk not installed: using the Go load generator"; }
	$(GO) run ./bench $(BENCHFLAGS)
	$(GO) run ./bench verifiers
	@echo "memory limiter: heap per tracked key with one million keys"
	$(GO) test ./internal/ratelimit -run '^$$' -bench MemoryMillionKeys -benchtime 1x
