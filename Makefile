# iotdns - a thin front door over meson. See README.md and docs/testing.md.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
MESON_TEST_ARGS ?=

.PHONY: all deps build demo test test-asan bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	rm -f demo.db demo.db-wal demo.db-shm
	$(BUILD)/iotdns analyze --db demo.db pcaps/demo/smart-home.pcap
	@echo
	$(BUILD)/iotdns devices --db demo.db
	$(BUILD)/iotdns devices --db demo.db --json > demo-devices.json
	@echo
	@echo "Database: demo.db   Device report (JSON lines): demo-devices.json"

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

# Every suite in the normal build, then every suite again
# under AddressSanitizer + UndefinedBehaviorSanitizer; one closing line.
test: build $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	-meson test -C $(BUILD) --print-errorlogs $(MESON_TEST_ARGS)
	-ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN_BUILD) --print-errorlogs --suite unit --suite golden --suite cli --suite corpus --suite fuzz-replay $(MESON_TEST_ARGS)
	@scripts/test-summary.py $(BUILD) $(ASAN_BUILD)

bench: build
	python3 tests/bench/run.py --iotdns $(BUILD)/iotdns

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false

fuzz:
	@scripts/install-deps.sh --fuzz
	$(MAKE) $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	@for t in $(FUZZ_BUILD)/tests/fuzz_*; do \
	  n=$$(basename $$t | sed 's/^fuzz_//'); mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  $$t -max_total_time=$(FUZZ_SECONDS) $(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) demo.db demo.db-wal demo.db-shm demo-devices.json
