# Vigil. `make run` builds and serves on 127.0.0.1:7474; `make test` runs
# everything CI runs. Targets owned by a subsystem are marked.
SHELL := bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/vigil-sec/vigil/internal/cli.Version=$(VERSION)
BIN := bin/vigil
SHARED ?= ../shared
export CGO_ENABLED := 0

.PHONY: all build run test test-go vet fmt-check fuzz bench bench-go bench-hook detect loki loki-run bench-loki ui clean

all: build

# vigil does everything; vigil-hook is the same hook in a lean binary that
# starts faster (connect uses it when it sits next to vigil).
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/vigil
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)-hook ./cmd/vigil-hook

run: build
	./$(BIN) serve

# The full suite: formatting, vet, unit + integration + browser + Loki tests
# (race detector on), the normaliser fuzz target for 30 s and the event
# encoder's and decoder's for 10 s each.
test: fmt-check vet loki test-go fuzz

fmt-check:
	@out=$$(gofmt -l cmd internal apptest); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test-go:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 20m ./...

# Minimising a newly interesting input is capped at 1 s: uncapped (60 s)
# a short run could spend all its time minimising one input and fuzz
# nothing (FuzzUnmarshal did: 16 executions in 10 s). A failing input is
# still written to testdata/fuzz, minimised or not.
FUZZ = $(GO) test -run '^$$' -fuzzminimizetime 1s
fuzz:
	$(FUZZ) -fuzz '^FuzzNormalize$$' -fuzztime 30s ./internal/event
	$(FUZZ) -fuzz '^FuzzAppendJSON$$' -fuzztime 10s ./internal/event
	$(FUZZ) -fuzz '^FuzzUnmarshal$$' -fuzztime 10s ./internal/event

bench: bench-go bench-hook

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./...

bench-hook: build
	$(GO) run ./apptest/cmd/hookbench -bin $(BIN)-hook -fixture $(SHARED)/fixtures/hooks/PreToolUse-Bash.json -n 2000
	$(GO) run ./apptest/cmd/hookbench -bin $(BIN)-hook -fixture $(SHARED)/fixtures/hooks/PreToolUse-Bash.json -n 2000 -env VIGIL_ENFORCEMENT=enforce
	$(GO) run ./apptest/cmd/hookbench -bin $(BIN)-hook -fixture $(SHARED)/fixtures/hooks/PostToolUse-Bash.json -n 2000
	$(GO) run ./apptest/cmd/hookbench -bin $(BIN) -fixture $(SHARED)/fixtures/hooks/PreToolUse-Bash.json -n 2000

# Score the rule engine on the labelled corpus (detection, false positives,
# categories, latency).
detect: build
	./$(BIN) replay -q --score $(SHARED)/corpus/labels.json $(SHARED)/corpus/sessions/*.jsonl

# Loki for the integration tests (owned by the Loki work): builds once into
# ~/.cache/vigil and prints the binary path.
loki:
	@bash scripts/install-loki.sh >/dev/null

# The web UI (web/, owned by the UI work): Vite + TypeScript build into
# internal/server/ui/dist, which is committed so `go build` needs no npm.
ui:
	cd web && npm install --no-audit --no-fund && npm run build

# Run the pinned Loki locally with deploy/loki/loki.yaml (http://127.0.0.1:3100, data in /tmp/vigil-loki).
loki-run:
	"$$(bash scripts/install-loki.sh 2>/dev/null | tail -n1)" -config.file=deploy/loki/loki.yaml -querier.frontend-address=127.0.0.1:9096

# Loki figures for docs/BENCHMARKS.md: forwarder throughput and the 60,000-event outage backlog.
bench-loki: loki
	$(GO) test -count=1 -run '^$$' -bench 'ForwarderThroughput|EncodeSnappy' -benchtime 3x ./internal/loki/
	VIGIL_LOKI_BACKLOG=60000 $(GO) test -count=1 -run TestBacklogDrain -v ./internal/loki/

clean:
	rm -rf bin
