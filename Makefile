# paykit's tasks. Everything installs what it needs through the Go toolchain.
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 20s
BENCHTIME   ?= 1s
PKGS        := ./...

.PHONY: test lint bench fuzz demo cover soak browser-test screenshots shop

## test: vet, then every test with the race detector (the redisstore tests need redis-server)
test:
	@command -v redis-server >/dev/null 2>&1 || echo "redis-server is not on PATH: the redisstore tests will be skipped (apt-get install redis-server; PAYKIT_REQUIRE_REDIS=1 fails them instead)"
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)
	$(MAKE) browser-test

## browser-test: headless Chromium through the demo shop and the fakes' buyer pages (module e2e;
## skipped without chromium unless PAYKIT_REQUIRE_BROWSER=1; screenshots in e2e/testdata/out)
browser-test:
	cd e2e && $(GO) vet ./... && $(GO) test -count=1 -timeout 5m ./...

## screenshots: remake the README's screenshots (docs/screenshots) from the browser test's
SHOTS := ecster-1-products:shop-products ecredits-3-payment-page:shop-payment-qr \
	ecster-4-ecster-checkout:ecster-checkout echelon-4-echelon-webapp:echelon-webapp \
	ecredits-5-ecredits-wallet:ecredits-wallet entrecard-4-entrecard-buy:entrecard-buy \
	ecster-7-order-paid:shop-order-paid
screenshots:
	rm -rf e2e/testdata/out
	cd e2e && PAYKIT_REQUIRE_BROWSER=1 $(GO) test -count=1 -timeout 5m ./...
	mkdir -p docs/screenshots
	@for s in $(SHOTS); do cp e2e/testdata/out/$${s%%:*}.png docs/screenshots/$${s##*:}.png; echo docs/screenshots/$${s##*:}.png; done

## shop: the demo shop over the in-process fakes, on http://127.0.0.1:8080 (SHOP_ADDR)
shop:
	$(GO) run ./examples/shop

## lint: gofmt, vet and staticcheck (pinned)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)

## bench: every benchmark, with allocations; paykit and bare net/http side by side
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) $(PKGS)

## fuzz: run each fuzz target for FUZZTIME (the seed corpora also run in `make test`)
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

## soak: the Router over the four fakes with random faults, 5,000 payments (SOAK_PAYMENTS), with -race
soak:
	$(GO) test -race -count=1 -timeout 30m -run '^TestSoak(Keyed)?$$' -v ./internal/soak -soak.payments=$(or $(SOAK_PAYMENTS),5000)
	$(GO) test -race -count=1 -timeout 30m -run '^TestSoakLost$$' -v ./internal/soak -soak.lost.payments=$(or $(SOAK_PAYMENTS),5000)

## demo: the checkout through every provider against the in-process fakes
demo:
	$(GO) run ./examples/checkout

## cover: test coverage per package, and cover.html
cover:
	$(GO) test -count=1 -coverprofile=cover.out $(PKGS)
	$(GO) tool cover -func=cover.out | tail -n 1
	$(GO) tool cover -html=cover.out -o cover.html
