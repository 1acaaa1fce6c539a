# Host unit tests: tests/unit/test_NAME.c plus the hypervisor sources listed
# (one path per line, relative to the repository root) in
# tests/unit/test_NAME.srcs, built natively under ASan and UBSan and linked
# with Debian's Check framework.  Each test binary lands in $(BUILD)/unit/.

UNIT_CC      ?= gcc
UNIT_CFLAGS  := -std=c11 $(WARN) -Wno-missing-prototypes -O1 -g -I. -DVTV_HOST_TEST \
                -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
                $(shell pkg-config --cflags check 2>/dev/null)
UNIT_LDLIBS  := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

UNIT_NAMES   := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS    := $(addprefix $(BUILD)/unit/,$(UNIT_NAMES))

unit: $(UNIT_BINS)

# The .srcs file is read at parse time; its sources become prerequisites so a
# change to a hypervisor module rebuilds its tests.
define unit_rule
$(BUILD)/unit/$(1): tests/unit/$(1).c tests/unit/$(1).srcs $(shell cat tests/unit/$(1).srcs 2>/dev/null) $(wildcard tests/unit/*.h)
	@mkdir -p $(BUILD)/unit
	$(UNIT_CC) $(UNIT_CFLAGS) -o $$@ tests/unit/$(1).c $(shell cat tests/unit/$(1).srcs 2>/dev/null) $(UNIT_LDLIBS)
endef
$(foreach t,$(UNIT_NAMES),$(eval $(call unit_rule,$(t))))

# Each binary compiles several sources in one gcc call, which -MMD cannot
# describe; every header counts instead (the tests take seconds to build).
UNIT_HEADERS := $(wildcard lib/*.h boot/*.h arch/x86/*.h vmx/*.h ept/*.h emulate/*.h devices/*.h devices/virtio/*.h \
                           loaders/*.h config/*.h core/*.h)
$(UNIT_BINS): $(UNIT_HEADERS)
