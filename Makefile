# vtvisor build.  `make` builds everything; `make test` runs every test and
# ends with "N passed, N failed"; `make run` boots the demo in Bochs.
# See README.md.

BUILD    ?= build
CC       ?= gcc
LD       ?= ld
PYTHON   ?= python3

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wvla -Wno-unused-parameter
HV_CFLAGS := -std=c11 $(WARN) -O2 -g -ffreestanding -fno-builtin -nostdinc \
            -isystem $(shell $(CC) -print-file-name=include) \
            -fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mcmodel=small \
            -mno-sse -mno-sse2 -mno-mmx -mno-avx -mno-80387 -fno-omit-frame-pointer \
            -fno-asynchronous-unwind-tables -I.
HV_ASFLAGS := -I. -D__ASSEMBLY__
HV_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack -T boot/linker.ld

HV_DIRS  := lib boot arch/x86 vmx ept emulate devices devices/virtio loaders config core
HV_C     := $(foreach d,$(HV_DIRS),$(wildcard $(d)/*.c))
HV_S     := $(foreach d,$(HV_DIRS),$(wildcard $(d)/*.S))
HV_OBJS  := $(patsubst %,$(BUILD)/hv/%.o,$(HV_C) $(HV_S))

.PHONY: all image vtvisor vtvisor-check guests unit guest-linux test unit-test guest-test run bench bench-check fuzz format check check-format check-layers iso clean deps

all: vtvisor guests unit vtvisor-check

vtvisor: $(BUILD)/vtvisor.elf

$(BUILD)/vtvisor.elf: $(HV_OBJS) boot/linker.ld
	$(LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS)
	$(PYTHON) tools/check_image.py $@

# Stack canaries in the hypervisor (the guard is a global, as GS and FS
# hold no TLS here; lib/log.c sets it at boot and panics on a mismatch).
HV_SSP := -fstack-protector-strong -mstack-protector-guard=global

$(BUILD)/hv/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HV_CFLAGS) $(HV_SSP) -MMD -MP -c $< -o $@

$(BUILD)/hv/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(HV_ASFLAGS) -MMD -MP -c $< -o $@

-include $(HV_OBJS:.o=.d)

# The configuration checker (tools/vtvisor-check): the boot-time parser and
# schema built natively, so the host and vtvisor print the same messages.
HOST_CC          ?= gcc
CHECK_TOOL_SRCS  := tools/vtvisor_check.c config/toml.c config/vmconfig.c config/config.c \
                    lib/string.c lib/printf.c
vtvisor-check: $(BUILD)/vtvisor-check
$(BUILD)/vtvisor-check: $(CHECK_TOOL_SRCS) $(wildcard config/*.h lib/*.h)
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=c11 $(WARN) -O2 -g -I. -DVTV_HOST_TEST -o $@ \
		$(CHECK_TOOL_SRCS)

# Host unit tests, guest programs and their runners add to these.
include tests/unit/unit.mk
include tests/guest/guest.mk
include tests/hostile/hostile.mk
-include tests/fuzz/fuzz.mk

# The Debian guest kernel and initramfs for the system tests, kept outside
# the clone so runs share them (tools/get-guest-linux.sh).
GUEST_CACHE ?= /var/cache/vtvisor
guest-linux:
	VTVISOR_CACHE=$(GUEST_CACHE) tools/get-guest-linux.sh

test: all guest-linux
	VTVISOR_CACHE=$(GUEST_CACHE) $(PYTHON) tools/run_tests.py

unit-test: unit
	$(PYTHON) tools/run_tests.py --only unit

guest-test: vtvisor guests
	$(PYTHON) tools/run_tests.py --only guest

# The demo: the small guests, then a shell in the Debian guest on the serial
# console (README.md, "The demo").  DEMO_ARGS go to tools/demo.py.
# CONFIG: the configuration file that describes the VMs (docs/configuration.md).
DEMO_ARGS ?=
CONFIG ?= examples/demo.toml
run: vtvisor guests
	VTVISOR_CACHE=$(GUEST_CACHE) tools/get-guest-linux.sh --shell
	VTVISOR_CACHE=$(GUEST_CACHE) $(PYTHON) tools/demo.py --config $(CONFIG) $(DEMO_ARGS)

# A bootable image (hybrid ISO: CD, USB stick, PXE chain-loading) of vtvisor,
# the configuration file CONFIG and every module it names (tools/mkimage.py).
image: vtvisor guests
	VTVISOR_CACHE=$(GUEST_CACHE) $(PYTHON) tools/mkimage.py --config $(CONFIG) \
		--out $(BUILD)/vtvisor.iso

# The benchmark's baseline: the same Linux loaded natively (no VMX).
BAREBOOT_SRCS := boot/boot.S tools/bareboot/enter.S tools/bareboot/bareboot.c arch/x86/serial.c \
                 boot/bootinfo.c loaders/loader_linux.c lib/string.c lib/printf.c lib/libc_names.c
BAREBOOT_OBJS := $(patsubst %,$(BUILD)/bareboot/%.o,$(BAREBOOT_SRCS))

$(BUILD)/bareboot.elf: $(BAREBOOT_OBJS) boot/linker.ld
	$(LD) $(HV_LDFLAGS) -o $@ $(BAREBOOT_OBJS)

$(BUILD)/bareboot/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HV_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/bareboot/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(HV_ASFLAGS) -MMD -MP -c $< -o $@

bench: vtvisor guests guest-linux $(BUILD)/bareboot.elf
	VTVISOR_CACHE=$(GUEST_CACHE) $(PYTHON) tools/bench.py --record

# Exit path lengths and IPI latencies held to tests/bench/budgets.txt (CI).
bench-check: vtvisor guests
	$(PYTHON) tools/bench.py --check

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

check-format:
	clang-format --dry-run --Werror $(FORMAT_FILES)

# Every #include points down the layers (docs/architecture.md).
check-layers:
	$(PYTHON) tools/check_layers.py

# The static checks CI runs before building.
check: check-format check-layers

# Installs what building and testing need on a Debian machine.
deps:
	tools/install-deps.sh

clean:
	rm -rf $(BUILD)
