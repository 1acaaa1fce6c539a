#include "core/mmio.h"
#include "emulate/insn_decode.h"
#include "lib/log.h"
#include "core/vcpu.h"
#include "lib/printf.h"
#include "vmx/vmcs.h"

#define INSN_MAX 15

/* Copies the instruction bytes at guest-linear gva into buf[from, to).
 * Returns false after injecting a fault or stopping the VM. */
static bool fetch_bytes(struct vcpu *v, uint64_t gva, uint8_t *buf, size_t from, size_t to)
{
        uint64_t gpa;
        /* A fetch: an NX page, or a supervisor page at CPL 3, faults. */
        if (!vcpu_translate(v, gva, WALK_FETCH, &gpa))
                return false;
        const uint8_t *p = vm_gpa_ptr(v->vm, gpa, to - from);
        if (!p) {
                vm_stop(v->vm, "executing outside its RAM at guest-physical 0x%llx",
                        (unsigned long long)gpa);
                return false;
        }
        for (size_t i = from; i < to; i++)
                buf[i] = p[i - from];
        return true;
}

/* The guest-linear address of CS:RIP. */
static uint64_t rip_linear(void)
{
        uint64_t rip = vmcs_readnat(GUEST_RIP) + vmcs_readnat(GUEST_CS_BASE);
        return (vmcs_read32(GUEST_CS_AR_BYTES) & AR_L) ? rip : (rip & 0xffffffffULL);
}

static enum insn_mode cpu_mode(void)
{
        uint32_t ar = vmcs_read32(GUEST_CS_AR_BYTES);
        if ((ar & AR_L) && (vmcs_read64(GUEST_IA32_EFER) & EFER_LMA))
                return INSN_MODE_64;
        return (ar & AR_DB) ? INSN_MODE_32 : INSN_MODE_16;
}

void mmio_emulate(struct vcpu *v, const struct mmio_region *r, gpa_t gpa)
{
        uint8_t buf[INSN_MAX] = { 0 };
        /* Bytes on the next page are fetched only if the decoder needs
         * them: a fault there matters only then. */
        uint64_t gva = rip_linear();
        size_t n = PAGE_SIZE - (gva & (PAGE_SIZE - 1));
        if (n > INSN_MAX)
                n = INSN_MAX;
        if (!fetch_bytes(v, gva, buf, 0, n))
                return;

        struct insn_mmio insn;
        enum insn_mode mode = cpu_mode();
        int err = insn_decode_mmio(buf, n, mode, &insn);
        if (err == INSN_ERR_TRUNCATED && n < INSN_MAX) {
                if (!fetch_bytes(v, gva + n, buf, n, INSN_MAX))
                        return;
                n = INSN_MAX;
                err = insn_decode_mmio(buf, n, mode, &insn);
        }
        if (err != INSN_OK) {
                char bytes[3 * INSN_MAX + 1];
                size_t pos = 0;
                for (size_t i = 0; i < n && i < INSN_MAX; i++)
                        pos += vtv_snprintf(bytes + pos, sizeof(bytes) - pos, "%02x%s", buf[i],
                                            i + 1 < n ? " " : "");
                vm_stop(v->vm,
                        "%s access at guest-physical 0x%llx by an instruction vtvisor cannot "
                        "emulate (%s; bytes %s) at rip 0x%llx",
                        r->ops->name, (unsigned long long)gpa, insn_decode_error_name(err), bytes,
                        (unsigned long long)vmcs_readnat(GUEST_RIP));
                return;
        }

        uint64_t off = gpa - r->base;
        if (insn_mmio_is_store(&insn)) {
                uint64_t val = insn_mmio_store_value(&insn, vcpu_gpr(v, insn.reg));
                r->ops->write(v, r->dev, off, insn.size, val);
        } else {
                uint64_t mem = r->ops->read(v, r->dev, off, insn.size);
                vcpu_set_gpr(v, insn.reg, insn_mmio_load_value(&insn, vcpu_gpr(v, insn.reg), mem));
        }
        if (!v->vm->stopped)
                vcpu_advance_rip(v, insn.length);
}
