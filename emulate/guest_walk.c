#include "emulate/guest_walk.h"

#define CR0_PG   BIT(31)
#define CR0_WP   BIT(16)
#define CR4_PSE  BIT(4)
#define CR4_PAE  BIT(5)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

#define PTE_P  BIT(0)
#define PTE_W  BIT(1)
#define PTE_U  BIT(2)
#define PTE_PS BIT(7)
#define PTE_NX BIT(63)

/* Physical-address bits 51:12 of 64-bit entries.  Bits above MAXPHYADDR are
 * reserved; vtvisor guests see at most 52 bits, and anything above their
 * RAM fails the read anyway. */
#define PTE64_ADDR 0x000ffffffffff000ULL

static uint32_t fault_code(enum walk_access access, unsigned cpl, bool present, bool rsvd, bool nxe)
{
        uint32_t e = present ? PF_P : 0;
        if (access == WALK_WRITE)
                e |= PF_W;
        if (cpl == 3)
                e |= PF_U;
        if (rsvd)
                e |= PF_RSVD | PF_P;
        /* SDM 4.7: I/D reports a fetch only with PAE or 4-level paging and
         * EFER.NXE = 1 (or CR4.SMEP = 1, which guests do not get). */
        if (access == WALK_FETCH && nxe)
                e |= PF_I;
        return e;
}

/* Checks the accumulated rights of a completed walk (SDM 4.6). */
static bool allowed(const struct walk_ctx *w, enum walk_access access, bool writable, bool user,
                    bool nx)
{
        bool supervisor = w->cpl < 3;
        if (!supervisor && !user)
                return false;
        if (access == WALK_WRITE && !writable && (!supervisor || (w->cr0 & CR0_WP)))
                return false;
        if (access == WALK_FETCH && nx)
                return false;
        return true;
}

static enum walk_result walk64(const struct walk_ctx *w, uint64_t gva, enum walk_access access,
                               int levels, uint64_t *gpa, uint32_t *err)
{
        bool nxe = (w->efer & EFER_NXE) != 0;
        uint64_t table = levels == 4 ? (w->cr3 & PTE64_ADDR) : (w->cr3 & 0xffffffe0ULL);
        bool writable = true, user = true, nx = false;

        if (levels == 4) {
                /* Non-canonical addresses fault with #GP, not #PF; treat them
                 * as not present so the caller stops rather than guesses. */
                uint64_t top = gva >> 47;
                if (top != 0 && top != 0x1ffff) {
                        *err = fault_code(access, w->cpl, false, false, nxe);
                        return WALK_PAGE_FAULT;
                }
        }

        for (int level = levels; level >= 1; level--) {
                unsigned shift = 12 + 9 * (unsigned)(level - 1);
                unsigned idx = (unsigned)(gva >> shift) & 511;
                if (levels == 3 && level == 3)
                        idx = (unsigned)(gva >> 30) & 3;
                uint64_t e;
                if (!w->read_gpa(w->ctx, table + 8ULL * idx, 8, &e))
                        return WALK_BAD_GPA;
                if (!(e & PTE_P)) {
                        *err = fault_code(access, w->cpl, false, false, nxe);
                        return WALK_PAGE_FAULT;
                }
                bool rsvd = !nxe && (e & PTE_NX);
                if (levels == 3 && level == 3) {
                        /* PAE PDPTEs: no R/W, U/S, NX; bits 2:1 and 8:5 reserved. */
                        rsvd = (e & 0x1e6ULL) || (e & PTE_NX);
                        if (rsvd) {
                                *err = fault_code(access, w->cpl, true, true, nxe);
                                return WALK_PAGE_FAULT;
                        }
                        table = e & PTE64_ADDR;
                        continue;
                }
                if (level == 4 && (e & PTE_PS))
                        rsvd = true;
                if (rsvd) {
                        *err = fault_code(access, w->cpl, true, true, nxe);
                        return WALK_PAGE_FAULT;
                }
                writable = writable && (e & PTE_W);
                user = user && (e & PTE_U);
                nx = nx || (nxe && (e & PTE_NX));
                bool leaf = level == 1 || ((level == 2 || level == 3) && (e & PTE_PS));
                if (leaf) {
                        uint64_t size = 1ULL << shift;
                        uint64_t base = e & PTE64_ADDR & ~(size - 1);
                        if (level > 1 && (e & PTE64_ADDR & (size - 1) & ~0x1000ULL)) {
                                /* Large-page address bits below the page size
                                 * (except PAT, bit 12) are reserved. */
                                *err = fault_code(access, w->cpl, true, true, nxe);
                                return WALK_PAGE_FAULT;
                        }
                        if (!allowed(w, access, writable, user, nx)) {
                                *err = fault_code(access, w->cpl, true, false, nxe);
                                return WALK_PAGE_FAULT;
                        }
                        *gpa = base | (gva & (size - 1));
                        return WALK_OK;
                }
                table = e & PTE64_ADDR;
        }
        return WALK_BAD_GPA; /* not reached */
}

static enum walk_result walk32(const struct walk_ctx *w, uint64_t gva, enum walk_access access,
                               uint64_t *gpa, uint32_t *err)
{
        uint32_t va = (uint32_t)gva;
        uint64_t pde, pte;
        if (!w->read_gpa(w->ctx, (w->cr3 & 0xfffff000ULL) + 4ULL * (va >> 22), 4, &pde))
                return WALK_BAD_GPA;
        if (!(pde & PTE_P)) {
                *err = fault_code(access, w->cpl, false, false, false);
                return WALK_PAGE_FAULT;
        }
        if ((pde & PTE_PS) && (w->cr4 & CR4_PSE)) {
                /* 4 MiB page; bits 20:13 carry physical bits 39:32 (PSE-36). */
                if (!allowed(w, access, pde & PTE_W, pde & PTE_U, false)) {
                        *err = fault_code(access, w->cpl, true, false, false);
                        return WALK_PAGE_FAULT;
                }
                uint64_t base = (pde & 0xffc00000ULL) | ((pde >> 13) & 0xffULL) << 32;
                *gpa = base | (va & 0x3fffff);
                return WALK_OK;
        }
        if (!w->read_gpa(w->ctx, (pde & 0xfffff000ULL) + 4ULL * ((va >> 12) & 1023), 4, &pte))
                return WALK_BAD_GPA;
        if (!(pte & PTE_P)) {
                *err = fault_code(access, w->cpl, false, false, false);
                return WALK_PAGE_FAULT;
        }
        if (!allowed(w, access, (pde & PTE_W) && (pte & PTE_W), (pde & PTE_U) && (pte & PTE_U),
                     false)) {
                *err = fault_code(access, w->cpl, true, false, false);
                return WALK_PAGE_FAULT;
        }
        *gpa = (pte & 0xfffff000ULL) | (va & 0xfff);
        return WALK_OK;
}

enum walk_result guest_walk(const struct walk_ctx *w, uint64_t gva, enum walk_access access,
                            uint64_t *gpa, uint32_t *pf_error)
{
        *pf_error = 0;
        if (!(w->cr0 & CR0_PG)) {
                *gpa = (w->efer & EFER_LMA) ? gva : (gva & 0xffffffffULL);
                return WALK_OK;
        }
        if (w->efer & EFER_LMA)
                return walk64(w, gva, access, 4, gpa, pf_error);
        if (w->cr4 & CR4_PAE)
                return walk64(w, gva & 0xffffffffULL, access, 3, gpa, pf_error);
        return walk32(w, gva, access, gpa, pf_error);
}
