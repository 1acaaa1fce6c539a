# libFuzzer targets: tests/fuzz/fuzz_NAME.c plus the hypervisor sources
# listed (one path per line) in tests/fuzz/fuzz_NAME.srcs, built with clang
# under libFuzzer, ASan and UBSan into $(BUILD)/fuzz/fuzz_NAME.
#
# `make fuzz` builds every target and runs each for FUZZ_SECONDS (default
# 60; with -j, targets run side by side); `make fuzz-build` only builds.
# A target's corpus lives in $(BUILD)/fuzz/corpus/NAME and is seeded from
# tests/fuzz/corpus/NAME/ (if present) and from the command in
# FUZZ_SEED_CMD_NAME, which is given the corpus directory as its last
# argument and may list what it needs in FUZZ_SEED_DEPS_NAME.  A dictionary
# tests/fuzz/NAME.dict is used when present.  Crashing inputs are written
# to $(BUILD)/fuzz/artifacts/NAME/; rerun one with
# `$(BUILD)/fuzz/fuzz_NAME FILE`.  FUZZ_FLAGS adds libFuzzer options.
#
# `make fuzz-long` runs every target for FUZZ_RUNS inputs (default 10^7;
# -runs=N) instead, logging to $(BUILD)/fuzz/logs/NAME.log, then prints one
# line per target (name, inputs run, crashes) and fails if any crashed.
# With -j, targets run side by side; one target's crash does not stop the
# others.

BUILD        ?= build
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= 10000000
FUZZ_FLAGS   ?=
# Recursive so that WARN may be defined after this file is included.
# tests/fuzz/coverage_ignore.txt lists functions left without coverage
# instrumentation (the byte-copy loops; see the file).
FUZZ_CFLAGS   = -std=c11 $(WARN) -O1 -g -I. -DVTV_HOST_TEST \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer \
                -fsanitize-coverage-ignorelist=tests/fuzz/coverage_ignore.txt

FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

# The unit test's encoding tables are the seeds: valid forms in every mode
# plus each kind of reject.
FUZZ_SEED_DEPS_insn_decode := $(BUILD)/unit/test_insn_decode
FUZZ_SEED_CMD_insn_decode  := $(BUILD)/unit/test_insn_decode --write-corpus
# An instruction is at most 15 bytes; longer inputs only add noise.
FUZZ_OPTS_insn_decode      := -max_len=32

# The ACPI unit test's tables, laid out as the fuzzer's fake memory.
FUZZ_SEED_DEPS_fw_acpi := $(BUILD)/unit/test_fw_acpi
FUZZ_SEED_CMD_fw_acpi  := $(BUILD)/unit/test_fw_acpi --write-corpus

# Small valid inputs in each target's own format (tests/fuzz/seeds.py);
# tests/fuzz/corpus/NAME/ keeps them too, with the inputs of fixed bugs.
FUZZ_SEEDS_PY := guest_walk loader_linux uart lapic ioapic rtc pci acpi_pm bootinfo \
                 loader_multiboot loader_multiboot2 loader_flat
$(foreach t,$(FUZZ_SEEDS_PY),$(eval FUZZ_SEED_DEPS_$(t) := tests/fuzz/seeds.py))
$(foreach t,$(FUZZ_SEEDS_PY),$(eval FUZZ_SEED_CMD_$(t) := python3 tests/fuzz/seeds.py $(t)))
# Kernel images: the multiboot header must lie in the first 8 KiB.
FUZZ_OPTS_loader_multiboot := -max_len=20000
# The multiboot2 header must lie in the first 32 KiB.
FUZZ_OPTS_loader_multiboot2 := -max_len=40000

.PHONY: fuzz fuzz-build fuzz-long $(addprefix fuzz-run-,$(FUZZ_NAMES)) \
        $(addprefix fuzz-long-run-,$(FUZZ_NAMES)) $(addprefix fuzz-seed-,$(FUZZ_NAMES))

fuzz-build: $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_NAMES))

fuzz: $(addprefix fuzz-run-,$(FUZZ_NAMES))

# Every header a target can reach: a change to one rebuilds the fuzzers.
FUZZ_HEADERS := $(wildcard $(addsuffix /*.h,lib boot emulate devices loaders config) tests/fuzz/*.h)

define fuzz_rule
$(BUILD)/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c tests/fuzz/fuzz_$(1).srcs $(shell cat tests/fuzz/fuzz_$(1).srcs 2>/dev/null) $(FUZZ_HEADERS) tests/fuzz/coverage_ignore.txt
	@mkdir -p $(BUILD)/fuzz
	$(FUZZ_CC) $$(FUZZ_CFLAGS) -o $$@ tests/fuzz/fuzz_$(1).c $(shell cat tests/fuzz/fuzz_$(1).srcs 2>/dev/null)

fuzz-seed-$(1): $(BUILD)/fuzz/fuzz_$(1) $(FUZZ_SEED_DEPS_$(1))
	@mkdir -p $(BUILD)/fuzz/corpus/$(1) $(BUILD)/fuzz/artifacts/$(1)
	$(if $(wildcard tests/fuzz/corpus/$(1)/*),cp tests/fuzz/corpus/$(1)/* $(BUILD)/fuzz/corpus/$(1)/)
	$(if $(FUZZ_SEED_CMD_$(1)),$(FUZZ_SEED_CMD_$(1)) $(BUILD)/fuzz/corpus/$(1))

fuzz-run-$(1): fuzz-seed-$(1)
	$(BUILD)/fuzz/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/artifacts/$(1)/ \
		$(if $(wildcard tests/fuzz/$(1).dict),-dict=tests/fuzz/$(1).dict) \
		$(FUZZ_OPTS_$(1)) $(FUZZ_FLAGS) $(BUILD)/fuzz/corpus/$(1)

# The exit status goes to a file so that the summary sees every target.
fuzz-long-run-$(1): fuzz-seed-$(1)
	@mkdir -p $(BUILD)/fuzz/logs
	@rm -f $(BUILD)/fuzz/logs/$(1).log $(BUILD)/fuzz/logs/$(1).rc
	@echo "fuzz-long: $(1), $(FUZZ_RUNS) inputs, log in $(BUILD)/fuzz/logs/$(1).log"
	@$(BUILD)/fuzz/fuzz_$(1) -runs=$(FUZZ_RUNS) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/artifacts/$(1)/ \
		$(if $(wildcard tests/fuzz/$(1).dict),-dict=tests/fuzz/$(1).dict) \
		$(FUZZ_OPTS_$(1)) $(FUZZ_FLAGS) $(BUILD)/fuzz/corpus/$(1) \
		>$(BUILD)/fuzz/logs/$(1).log 2>&1; echo $$$$? >$(BUILD)/fuzz/logs/$(1).rc
endef
$(foreach t,$(FUZZ_NAMES),$(eval $(call fuzz_rule,$(t))))

# One line per target: inputs run (libFuzzer's final stats, else its last
# progress line) and crashes (artifacts the run wrote; at least 1 when it
# exited non-zero).
fuzz-long: $(addprefix fuzz-long-run-,$(FUZZ_NAMES))
	@fail=0; \
	printf '%-20s %14s %8s\n' target inputs crashes; \
	for t in $(FUZZ_NAMES); do \
		log=$(BUILD)/fuzz/logs/$$t.log; rc=$$(cat $(BUILD)/fuzz/logs/$$t.rc 2>/dev/null || echo 1); \
		runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -n 1); \
		[ -n "$$runs" ] || runs=$$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' $$log | tail -n 1); \
		crashes=$$(grep -c 'Test unit written to' $$log); \
		if [ "$$rc" != 0 ] && [ "$$crashes" = 0 ]; then crashes=1; fi; \
		[ "$$crashes" = 0 ] || fail=1; \
		printf '%-20s %14s %8s\n' $$t "$${runs:-0}" $$crashes; \
	done; \
	if [ $$fail != 0 ]; then echo "fuzz-long: crashes found (see $(BUILD)/fuzz/logs/ and $(BUILD)/fuzz/artifacts/)"; exit 1; fi
