# Guest test programs (see tests/guest/README.md).  `make guests` builds
#   tests/guest/NAME.c       -> $(BUILD)/guests/NAME.elf  32-bit multiboot v1 kernel,
#                                                         linked with tests/guest/lib
#                                                         (multiboot2.c: a multiboot2
#                                                         kernel, lib/entry_mb2.S)
#   tests/guest/flat/NAME.S  -> $(BUILD)/guests/NAME.bin  flat 16-bit image for 0x7C00
# The cases that run them are in tests/guest/cases.py (tools/run_tests.py).

GUEST_DIR     := tests/guest
GUEST_OUT     := $(BUILD)/guests
GUEST_CC      ?= $(CC)
GUEST_LD      ?= $(LD)
GUEST_OBJCOPY ?= objcopy

GUEST_CFLAGS  := -std=c11 $(WARN) -m32 -march=i686 -O2 -g -ffreestanding -fno-builtin -nostdinc \
                 -isystem $(shell $(GUEST_CC) -print-file-name=include) \
                 -fno-stack-protector -fno-pic -fno-pie -mno-sse -mno-sse2 -mno-mmx -mno-80387 \
                 -fno-asynchronous-unwind-tables -fno-omit-frame-pointer -I$(GUEST_DIR)/lib
GUEST_ASFLAGS := -m32 -I$(GUEST_DIR)/lib -D__ASSEMBLY__
GUEST_LDFLAGS := -m elf_i386 -nostdlib -static -z max-page-size=4096 -z noexecstack \
                 --build-id=none -T $(GUEST_DIR)/lib/guest.ld
GUEST_FLAT_LDFLAGS := -m elf_i386 -nostdlib -static -Ttext=0x7c00 -e _start -z noexecstack \
                 --build-id=none

GUEST_NAMES      := $(patsubst $(GUEST_DIR)/%.c,%,$(wildcard $(GUEST_DIR)/*.c))
GUEST_FLAT_NAMES := $(patsubst $(GUEST_DIR)/flat/%.S,%,$(wildcard $(GUEST_DIR)/flat/*.S))
GUEST_LIB_OBJS   := $(GUEST_OUT)/lib/entry.S.o $(GUEST_OUT)/lib/guest.c.o
GUEST_BINS       := $(GUEST_NAMES:%=$(GUEST_OUT)/%.elf) $(GUEST_FLAT_NAMES:%=$(GUEST_OUT)/%.bin)

# The disk image of the virtio case: byte o is (7 o + o / 512) mod 256;
# the Debian guests' ext4 disk (tools/mkdisk.sh).
GUEST_DATA       := $(GUEST_OUT)/pattern.img $(GUEST_OUT)/disk.img $(GUEST_OUT)/mb2-mips.elf

guests: $(GUEST_BINS) $(GUEST_DATA)

$(GUEST_OUT)/pattern.img: $(GUEST_DIR)/guest.mk
	@mkdir -p $(dir $@)
	python3 -c 'import sys; open(sys.argv[1], "wb").write(bytes((7 * o + o // 512) & 255 for o in range(65536)))' $@

$(GUEST_OUT)/disk.img: tools/mkdisk.sh tests/system/initramfs/pattern.sh
	@mkdir -p $(dir $@)
	bash tools/mkdisk.sh $@ 16M

$(GUEST_OUT)/lib/%.c.o: $(GUEST_DIR)/lib/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/lib/%.S.o: $(GUEST_DIR)/lib/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj/%.c.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/%.elf: $(GUEST_OUT)/obj/%.c.o $(GUEST_LIB_OBJS) $(GUEST_DIR)/lib/guest.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $(GUEST_LIB_OBJS) $<

# The multiboot2 guest: the same library with a multiboot2 header.  Its
# copy mb2-mips.elf claims architecture 4 (MIPS) with a correct checksum,
# for the refusal case.
GUEST_MB2_OBJS := $(GUEST_OUT)/lib/entry_mb2.S.o $(GUEST_OUT)/lib/guest.c.o
$(GUEST_OUT)/multiboot2.elf: $(GUEST_OUT)/obj/multiboot2.c.o $(GUEST_MB2_OBJS) $(GUEST_DIR)/lib/guest.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $(GUEST_MB2_OBJS) $<

$(GUEST_OUT)/mb2-mips.elf: $(GUEST_OUT)/multiboot2.elf $(GUEST_DIR)/guest.mk
	python3 -c 'import struct, sys; d = bytearray(open(sys.argv[1], "rb").read()); \
		o = d.index(struct.pack("<I", 0xE85250D6)); m, a, n, s = struct.unpack_from("<4I", d, o); \
		struct.pack_into("<III", d, o + 4, 4, n, -(m + 4 + n) & 0xFFFFFFFF); open(sys.argv[2], "wb").write(d)' $< $@

$(GUEST_OUT)/flat/%.S.o: $(GUEST_DIR)/flat/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/%.bin: $(GUEST_OUT)/flat/%.S.o
	$(GUEST_LD) $(GUEST_FLAT_LDFLAGS) -o $(GUEST_OUT)/flat/$*.elf $<
	$(GUEST_OBJCOPY) -O binary -j .text $(GUEST_OUT)/flat/$*.elf $@

# Keep the intermediate objects (they carry the dependency files).
.SECONDARY: $(GUEST_LIB_OBJS) $(GUEST_MB2_OBJS) $(GUEST_NAMES:%=$(GUEST_OUT)/obj/%.c.o) \
             $(GUEST_FLAT_NAMES:%=$(GUEST_OUT)/flat/%.S.o)

-include $(wildcard $(GUEST_OUT)/lib/*.d $(GUEST_OUT)/obj/*.d $(GUEST_OUT)/flat/*.d)
