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

BUILD        ?= build
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
# Recursive so that WARN may be defined after this file is included.
FUZZ_CFLAGS   = -std=c11 $(WARN) -O1 -g -I. -DVTV_HOST_TEST \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer

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

# Small valid inputs in each target's own format (tests/fuzz/seeds.py).
FUZZ_SEED_DEPS_guest_walk   := tests/fuzz/seeds.py
FUZZ_SEED_CMD_guest_walk    := python3 tests/fuzz/seeds.py guest_walk
FUZZ_SEED_DEPS_loader_linux := tests/fuzz/seeds.py
FUZZ_SEED_CMD_loader_linux  := python3 tests/fuzz/seeds.py loader_linux

.PHONY: fuzz fuzz-build $(addprefix fuzz-run-,$(FUZZ_NAMES))

fuzz-build: $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_NAMES))

fuzz: $(addprefix fuzz-run-,$(FUZZ_NAMES))

# Every header a target can reach: a change to one rebuilds the fuzzers.
FUZZ_HEADERS := $(wildcard $(addsuffix /*.h,lib boot emulate devices loaders config) tests/fuzz/*.h)

define fuzz_rule
$(BUILD)/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c tests/fuzz/fuzz_$(1).srcs $(shell cat tests/fuzz/fuzz_$(1).srcs 2>/dev/null) $(FUZZ_HEADERS)
	@mkdir -p $(BUILD)/fuzz
	$(FUZZ_CC) $$(FUZZ_CFLAGS) -o $$@ tests/fuzz/fuzz_$(1).c $(shell cat tests/fuzz/fuzz_$(1).srcs 2>/dev/null)

fuzz-run-$(1): $(BUILD)/fuzz/fuzz_$(1) $(FUZZ_SEED_DEPS_$(1))
	@mkdir -p $(BUILD)/fuzz/corpus/$(1) $(BUILD)/fuzz/artifacts/$(1)
	$(if $(wildcard tests/fuzz/corpus/$(1)/*),cp tests/fuzz/corpus/$(1)/* $(BUILD)/fuzz/corpus/$(1)/)
	$(if $(FUZZ_SEED_CMD_$(1)),$(FUZZ_SEED_CMD_$(1)) $(BUILD)/fuzz/corpus/$(1))
	$(BUILD)/fuzz/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/artifacts/$(1)/ \
		$(if $(wildcard tests/fuzz/$(1).dict),-dict=tests/fuzz/$(1).dict) \
		$(FUZZ_OPTS_$(1)) $(FUZZ_FLAGS) $(BUILD)/fuzz/corpus/$(1)
endef
$(foreach t,$(FUZZ_NAMES),$(eval $(call fuzz_rule,$(t))))
