# The hostile-guest suite (docs/security.md, tests/hostile/): attacker and
# companion guests, built like tests/guest/*.c with guest.mk's flags and
# library into $(BUILD)/guests/NAME.elf.  Their cases are the hostile-*
# section of tests/guest/cases.py.

HOSTILE_DIR   := tests/hostile
HOSTILE_NAMES := $(patsubst $(HOSTILE_DIR)/%.c,%,$(wildcard $(HOSTILE_DIR)/*.c))
HOSTILE_OBJS  := $(HOSTILE_NAMES:%=$(GUEST_OUT)/hostile/%.c.o)
HOSTILE_BINS  := $(HOSTILE_NAMES:%=$(GUEST_OUT)/%.elf)

guests: $(HOSTILE_BINS)

$(GUEST_OUT)/hostile/%.c.o: $(HOSTILE_DIR)/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

# The attacker's 64-bit code (attack=long-mode) is assembly of its own.
HOSTILE_ASM_OBJS := $(GUEST_OUT)/hostile/longmode.S.o

$(GUEST_OUT)/hostile/%.S.o: $(HOSTILE_DIR)/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/attack.elf: $(HOSTILE_ASM_OBJS)

# A static pattern rule: it takes precedence over guest.mk's %.elf rule.
$(HOSTILE_BINS): $(GUEST_OUT)/%.elf: $(GUEST_OUT)/hostile/%.c.o $(GUEST_LIB_OBJS) $(GUEST_DIR)/lib/guest.ld \
                 $(HOSTILE_DIR)/end.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $(GUEST_LIB_OBJS) $< $(filter $(HOSTILE_ASM_OBJS),$^) \
	        $(HOSTILE_DIR)/end.ld

.SECONDARY: $(HOSTILE_OBJS) $(HOSTILE_ASM_OBJS)

-include $(wildcard $(GUEST_OUT)/hostile/*.d)
