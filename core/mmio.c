#include "core/mmio.h"
#include "core/insn_decode.h"
#include "core/log.h"
#include "core/vcpu.h"
#include "lib/printf.h"
#include "vmx/vmcs.h"

#define INSN_MAX 15

/* Fetches up to INSN_MAX bytes at the guest's CS:RIP.  Returns the number
 * fetched (> 0), or 0 after injecting a fault or stopping the VM.  A fault
 * past the first byte only matters if the decoder needs those bytes, so
 * the fetch stops there and the caller decides. */
static size_t fetch(struct vcpu *v, uint8_t *buf, bool *faulted_later, uint64_t *fault_gva)
{
        uint64_t rip = vmcs_readnat(GUEST_RIP) + vmcs_readnat(GUEST_CS_BASE);
        if (!(vmcs_read32(GUEST_CS_AR_BYTES) & AR_L))
                rip &= 0xffffffffULL;
        size_t n = 0;
        *faulted_later = false;
        while (n < INSN_MAX) {
                uint64_t gva = rip + n, gpa;
                uint64_t chunk = PAGE_SIZE - (gva & (PAGE_SIZE - 1));
                if (chunk > INSN_MAX - n)
                        chunk = INSN_MAX - n;
                if (n > 0) {
                        /* Later page: translate without injecting yet. */
                        *faulted_later = true;
                        *fault_gva = gva;
                        return n;
                }
                if (!vcpu_translate(v, gva, false, &gpa))
                        return 0;
                const uint8_t *p = vm_gpa_ptr(v->vm, gpa, chunk);
                if (!p) {
                        vm_stop(v->vm, "executing outside its RAM at guest-physical 0x%llx",
                                (unsigned long long)gpa);
                        return 0;
                }
                for (uint64_t i = 0; i < chunk; i++)
                        buf[n++] = p[i];
        }
        return n;
}

static size_t fetch_rest(struct vcpu *v, uint8_t *buf, size_t n, uint64_t gva)
{
        uint64_t gpa;
        if (!vcpu_translate(v, gva, false, &gpa))
                return 0;
        const uint8_t *p = vm_gpa_ptr(v->vm, gpa, INSN_MAX - n);
        if (!p) {
                vm_stop(v->vm, "executing outside its RAM at guest-physical 0x%llx",
                        (unsigned long long)gpa);
                return 0;
        }
        for (size_t i = n; i < INSN_MAX; i++)
                buf[i] = p[i - n];
        return INSN_MAX;
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
        bool later;
        uint64_t later_gva = 0;
        size_t n = fetch(v, buf, &later, &later_gva);
        if (!n)
                return;

        struct insn_mmio insn;
        enum insn_mode mode = cpu_mode();
        int err = insn_decode_mmio(buf, n, mode, &insn);
        if (err == INSN_ERR_TRUNCATED && later) {
                n = fetch_rest(v, buf, n, later_gva);
                if (!n)
                        return;
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
