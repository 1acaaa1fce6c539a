#include "loaders/guest_state.h"
#include "lib/string.h"

static void common(struct guest_state *s)
{
        vtv_memset(s, 0, sizeof(*s));
        s->rflags = 0x2;
        /* A busy 32-bit TSS and an unusable LDTR satisfy the VM-entry checks
         * on TR and LDTR in every mode (SDM 26.3.1.2). */
        s->tr = (struct seg_state){ 0, 0, 0xffff, AR_TYPE_TSS_BUSY | AR_P };
        s->ldtr = (struct seg_state){ 0, 0, 0, AR_UNUSABLE };
        s->gdtr_limit = 0xffff;
        s->idtr_limit = 0xffff;
}

void guest_state_real_mode(struct guest_state *s)
{
        common(s);
        struct seg_state data = { 0, 0, 0xffff, AR_TYPE_DATA_RW | AR_S | AR_P };
        struct seg_state code = { 0, 0, 0xffff, AR_TYPE_CODE_RX | AR_S | AR_P };
        s->cs = code;
        s->ss = s->ds = s->es = s->fs = s->gs = data;
        s->cr0 = 0x10; /* ET, as after RESET (SDM 9.1.1); NE is added by the VMX layer */
}

void guest_state_flat32(struct guest_state *s, uint16_t cs_sel, uint16_t ds_sel)
{
        common(s);
        struct seg_state data = { ds_sel, 0, 0xffffffff,
                                  AR_TYPE_DATA_RW | AR_S | AR_P | AR_DB | AR_G };
        struct seg_state code = { cs_sel, 0, 0xffffffff,
                                  AR_TYPE_CODE_RX | AR_S | AR_P | AR_DB | AR_G };
        s->cs = code;
        s->ss = s->ds = s->es = s->fs = s->gs = data;
        s->cr0 = 0x11; /* PE, ET */
}
