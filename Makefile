# gopbx build and test entry points. `make test` is what CI runs (.ci/run).

GO        ?= go
BIN       ?= bin/gopbx
FUZZTIME  ?= 30s
BENCHTIME ?= 300ms

# Packages whose code runs on many goroutines at once get the race detector.
# Only directories that exist are listed, so the target works while the tree
# is still being filled in.
RACE_DIRS = $(wildcard internal/sipserver internal/registrar internal/location internal/storage internal/channel internal/chansip internal/dialplan internal/app internal/cdr internal/cli internal/security internal/rtp internal/media internal/trunk internal/dtmf internal/tones internal/sound internal/codec)
RACE_PKGS = $(if $(RACE_DIRS),$(shell $(GO) list -e $(addsuffix /...,$(addprefix ./,$(RACE_DIRS)))))
ALL_PKGS  = $(shell $(GO) list -e ./...)
REST_PKGS = $(filter-out $(RACE_PKGS),$(ALL_PKGS))

.PHONY: all build test test-deps vet test-race test-rest test-opus test-third-party test-integration fuzz bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/gopbx

test-deps:
	./scripts/install-test-deps.sh

# vet also fails on files gofmt would change.
vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# go test runs no benchmark without -bench, so `make test` never does.
test-race:
	$(if $(RACE_PKGS),$(GO) test -race -count=1 -timeout 4m $(RACE_PKGS),@echo "test-race: no concurrent core packages yet")

# Everything else, including the real-peer integration tests in ./test/...
# (./test/harness checks the harness itself against Kamailio).
test-rest:
	$(GO) test -count=1 -timeout 5m $(REST_PKGS)

test-integration:
	$(GO) test -count=1 -timeout 5m -v ./test/...

# The opus codec needs cgo and libopus (build tag opus); the default build
# has no opus. Runs when pkg-config finds libopus (test-deps installs it).
test-opus:
	@if pkg-config --exists opus 2>/dev/null; then \
		$(GO) test -tags opus -count=1 ./internal/codec/ ./internal/media/; \
	elif [ "$$CI" = "true" ]; then echo "test-opus: libopus not found (CI=true)"; exit 1; \
	else echo "test-opus: libopus not found, skipped"; fi

# gopbx's patches to sipgo (third_party/sipgo/PATCHES.md), a module of
# its own that ./... does not reach.
test-third-party:
	cd third_party/sipgo && $(GO) test -race -count=1 ./...
	# Allocation counts, which the race detector changes: without it.
	cd third_party/sipgo && $(GO) test -count=1 -run 'Allocs|Itoa' ./sip

test: test-deps vet test-race test-rest test-opus test-third-party

# Runs every Fuzz target of every package for FUZZTIME each.
fuzz:
	@set -e; for pkg in $(ALL_PKGS); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# Load benchmark (bench/README.md): gopbx and Kamailio side by side under
# SIPp load, then gopbx's media loads (calls with RTP through the relay,
# transcoded calls, held calls), written to bench/results/latest.md and
# latest.json. `bench` also runs every package's Go micro-benchmarks
# (-benchtime BENCHTIME) first and takes at most 15 minutes; `bench-quick`
# takes under 2. Neither is part of `make test`.
SIPBENCH ?= bin/sipbench

bench: build test-deps
	$(GO) build -o $(SIPBENCH) ./bench/cmd/sipbench
	$(SIPBENCH) -gopbx $(BIN) -go $(GO) -micro $(BENCHTIME)

.PHONY: bench-quick
bench-quick: build test-deps
	$(GO) build -o $(SIPBENCH) ./bench/cmd/sipbench
	$(SIPBENCH) -quick -gopbx $(BIN)

clean:
	rm -rf bin
