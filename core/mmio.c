#include "core/mmio.h"
#include "core/irq.h"
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
static uint64_t rip_linear(uint64_t rip)
{
        rip += vmcs_readnat(GUEST_CS_BASE);
        return (vmcs_read32(GUEST_CS_AR_BYTES) & AR_L) ? rip : (rip & 0xffffffffULL);
}

static enum insn_mode cpu_mode(void)
{
        uint32_t ar = vmcs_read32(GUEST_CS_AR_BYTES);
        if ((ar & AR_L) && (vmcs_read64(GUEST_IA32_EFER) & EFER_LMA))
                return INSN_MODE_64;
        return (ar & AR_DB) ? INSN_MODE_32 : INSN_MODE_16;
}

static uint64_t read_gpr(void *ctx, unsigned reg)
{
        return vcpu_gpr(ctx, reg);
}

/* The guest-linear address of the memory operand: its segment's base plus
 * the effective address, wrapping at 4 GiB outside 64-bit mode, where only
 * FS and GS have a base (SDM vol. 3 3.4.4, vol. 1 3.3.7.1).  The limit
 * and canonical checks the CPU made before the access reached the EPT. */
static uint64_t segment_base(unsigned seg)
{
        switch (seg) {
        case INSN_SEG_ES:
                return vmcs_readnat(GUEST_ES_BASE);
        case INSN_SEG_CS:
                return vmcs_readnat(GUEST_CS_BASE);
        case INSN_SEG_SS:
                return vmcs_readnat(GUEST_SS_BASE);
        case INSN_SEG_FS:
                return vmcs_readnat(GUEST_FS_BASE);
        case INSN_SEG_GS:
                return vmcs_readnat(GUEST_GS_BASE);
        default:
                return vmcs_readnat(GUEST_DS_BASE);
        }
}

static uint64_t operand_linear(struct vcpu *v, const struct insn_mmio *insn, enum insn_mode mode,
                               uint64_t rip)
{
        uint64_t ea = insn_mmio_ea(insn, read_gpr, v, rip);
        if (mode == INSN_MODE_64) {
                if (insn->seg == INSN_SEG_FS || insn->seg == INSN_SEG_GS)
                        ea += segment_base(insn->seg);
                return ea;
        }
        return (ea + segment_base(insn->seg)) & 0xffffffffULL;
}

/* ---- Accesses that straddle two pages ----
 *
 * The CPU performs each page's part on whatever backs it there (RAM, a
 * device, unbacked memory), but reports only one EPT violation, for the
 * first part that is not RAM; the instruction is emulated here part by
 * part.  Each part is cut into naturally aligned pieces of 1, 2, 4 or 8
 * bytes, low address first, since that is what device models take. */

/* Unbacked memory's accesses, here and in core/exit.c: the first
 * UNBACKED_LOG_MAX of a VM are logged. */
#define UNBACKED_LOG_MAX 8

void mmio_note_unbacked(struct vcpu *v, const char *what, gpa_t gpa)
{
        struct vm *vm = v->vm;
        if (vm->unbacked_logged >= UNBACKED_LOG_MAX)
                return;
        vm->unbacked_logged++;
        log_line("vm %s: %s at guest-physical 0x%llx, which is not backed (rip 0x%llx)%s",
                 vm->cfg.name, what, (unsigned long long)gpa,
                 (unsigned long long)vmcs_readnat(GUEST_RIP),
                 vm->unbacked_logged == UNBACKED_LOG_MAX ? "; further ones not logged" : "");
}

/* The size of the piece at gpa with left bytes to go: the largest power of
 * two that gpa is aligned to, and that stays within the device region r
 * (when there is one). */
static unsigned piece_size(gpa_t gpa, unsigned left, const struct mmio_region *r)
{
        unsigned n = 8;
        while (n > left || (gpa & (n - 1)))
                n >>= 1;
        while (r && n > 1 && gpa + n - 1 - r->base >= r->size)
                n >>= 1;
        return n;
}

/* What backs the byte at gpa: RAM (*ram set, NULL returned), a device
 * region, or nothing (NULL, *ram NULL: unbacked memory). */
static const struct mmio_region *piece_region(struct vcpu *v, gpa_t gpa, void **ram)
{
        *ram = vm_gpa_ptr(v->vm, gpa, 1);
        return *ram ? NULL : irq_mmio_region(v, gpa);
}

struct part {
        uint64_t la; /* guest-linear */
        gpa_t gpa;
        unsigned size, shift; /* its bytes are those from bit `shift` of the value */
};

/* Performs one part: a load ORs what it reads into *val, a store writes
 * its bytes of *val.  RAM goes byte by byte (the part lies in one page, so
 * it is all RAM or none of it), a device in pieces. */
static void part_access(struct vcpu *v, const struct part *p, bool store, uint64_t *val)
{
        for (unsigned done = 0; done < p->size;) {
                gpa_t gpa = p->gpa + done;
                unsigned shift = p->shift + 8 * done;
                uint8_t *ram;
                const struct mmio_region *r = piece_region(v, gpa, (void **)&ram);
                if (ram) {
                        if (store)
                                *ram = (uint8_t)(*val >> shift);
                        else
                                *val |= (uint64_t)*ram << shift;
                        done++;
                        continue;
                }
                unsigned n = piece_size(gpa, p->size - done, r);
                uint64_t mask = n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
                uint64_t piece = mask; /* unbacked: all ones, writes dropped */
                if (r && store)
                        r->ops->write(v, r->dev, gpa - r->base, n, (*val >> shift) & mask);
                else if (r)
                        piece = r->ops->read(v, r->dev, gpa - r->base, n) & mask;
                else
                        mmio_note_unbacked(v, store ? "write dropped" : "read of all ones", gpa);
                if (!store)
                        *val |= piece << shift;
                done += n;
        }
}

/* Emulates a load or store of insn whose bytes [la, la + insn->size) cross
 * a page boundary; gpa is where the EPT violation (or APIC access) was.
 * Returns false when it injected a fault or stopped the VM. */
static bool straddle(struct vcpu *v, const struct insn_mmio *insn, enum insn_mode mode, uint64_t la,
                     gpa_t gpa)
{
        bool store = insn_mmio_is_store(insn);
        unsigned first = (unsigned)(PAGE_SIZE - (la & (PAGE_SIZE - 1)));
        struct part p[2] = {
                { .la = la, .size = first, .shift = 0 },
                { .la = la + first, .size = insn->size - first, .shift = 8 * first },
        };
        if (mode != INSN_MODE_64)
                p[1].la &= 0xffffffffULL;
        /* Both pages are translated before either is touched, as the CPU
         * does: a #PF on the second (CR2 = its first byte) leaves the first
         * unwritten.  A non-canonical second page is a #GP (the CPU checks
         * the whole access first; only a changed instruction gets here). */
        uint64_t top = p[1].la >> 47;
        if (mode == INSN_MODE_64 && top != 0 && top != 0x1ffff) {
                vcpu_inject_gp(v);
                return false;
        }
        for (int i = 0; i < 2; i++)
                if (!vcpu_translate(v, p[i].la, store ? WALK_WRITE : WALK_READ, &p[i].gpa))
                        return false;
        if (((gpa ^ p[0].gpa) & ~(PAGE_SIZE - 1)) && ((gpa ^ p[1].gpa) & ~(PAGE_SIZE - 1))) {
                vm_stop(v->vm,
                        "MMIO emulation mismatch: the exit was at guest-physical 0x%llx, but the "
                        "instruction at rip 0x%llx now accesses linear 0x%llx (guest-physical "
                        "0x%llx and 0x%llx): its code or page tables changed under it",
                        (unsigned long long)gpa, (unsigned long long)vmcs_readnat(GUEST_RIP),
                        (unsigned long long)la, (unsigned long long)p[0].gpa,
                        (unsigned long long)p[1].gpa);
                return false;
        }
        /* Under unmapped=stop, unbacked memory in either part stops the VM
         * before any part is performed. */
        if (v->vm->cfg.unmapped_stop) {
                for (int i = 0; i < 2; i++) {
                        for (unsigned k = 0; k < p[i].size; k++) {
                                void *ram;
                                if (!piece_region(v, p[i].gpa + k, &ram) && !ram) {
                                        vm_stop(v->vm,
                                                "EPT violation: %s at guest-physical 0x%llx (rip "
                                                "0x%llx)",
                                                store ? "write" : "read",
                                                (unsigned long long)(p[i].gpa + k),
                                                (unsigned long long)vmcs_readnat(GUEST_RIP));
                                        return false;
                                }
                        }
                }
        }
        if (store) {
                uint64_t val = insn_mmio_store_value(insn, vcpu_gpr(v, insn->reg));
                part_access(v, &p[0], true, &val);
                part_access(v, &p[1], true, &val);
        } else {
                uint64_t mem = 0;
                part_access(v, &p[0], false, &mem);
                part_access(v, &p[1], false, &mem);
                vcpu_set_gpr(v, insn->reg, insn_mmio_load_value(insn, vcpu_gpr(v, insn->reg), mem));
        }
        return true;
}

void mmio_emulate(struct vcpu *v, const struct mmio_region *r, gpa_t gpa)
{
        uint8_t buf[INSN_MAX] = { 0 };
        /* Bytes on the next page are fetched only if the decoder needs
         * them: a fault there matters only then. */
        uint64_t rip = vmcs_readnat(GUEST_RIP);
        uint64_t gva = rip_linear(rip);
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

        /* The operand's linear address, from the decoded instruction.  An
         * access that crosses a page boundary is carried out page by page
         * (straddle).  One within a page must have the exit's page offset:
         * another means a vCPU rewrote the instruction since the CPU ran
         * it, and the VM is stopped rather than the access guessed at. */
        uint64_t la = operand_linear(v, &insn, mode, rip);
        if (__builtin_expect((la & (PAGE_SIZE - 1)) + insn.size > PAGE_SIZE, 0)) {
                if (straddle(v, &insn, mode, la, gpa) && !v->vm->stopped)
                        vcpu_advance_rip(v, insn.length);
                return;
        }
        if (__builtin_expect((la ^ gpa) & (PAGE_SIZE - 1), 0)) {
                vm_stop(v->vm,
                        "MMIO emulation mismatch: the exit was at guest-physical 0x%llx, but the "
                        "instruction at rip 0x%llx now accesses linear 0x%llx: its code changed "
                        "under it",
                        (unsigned long long)gpa, (unsigned long long)rip, (unsigned long long)la);
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
