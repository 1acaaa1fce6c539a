#include "ept/ept.h"
#include "arch/x86/cpu.h"
#include "arch/x86/mm.h"
#include "lib/log.h"
#include "vmx/vmx.h"

const struct pt_format ept_format = {
        .name = "ept",
        .present_mask = EPT_RWX,
        .table_flags = EPT_RWX,
        .large_levels = 1u << 1,
};

static uint64_t ept_alloc_table(void *ctx)
{
        UNUSED(ctx);
        return mm_alloc_pages(1, PAGE_SIZE);
}

static void *ept_phys_to_virt(void *ctx, uint64_t pa)
{
        UNUSED(ctx);
        return hpa_to_hva(pa);
}

static void ept_free_table(void *ctx, uint64_t pa)
{
        UNUSED(ctx);
        mm_free_pages(pa, 1);
}

static const struct pt_mem ept_mem = {
        .alloc_table = ept_alloc_table,
        .phys_to_virt = ept_phys_to_virt,
        .free_table = ept_free_table,
};

/* EPTP (SDM 24.6.11): memory type WB in bits 2:0, walk length - 1 in 5:3. */
#define EPTP_WB    6
#define EPTP_WALK4 (3 << 3)

const char *ept_create(struct ept *ept)
{
        if (pt_init(&ept->pt, &ept_format, &ept_mem) != PT_OK)
                return "out of memory for EPT tables";
        ept->eptp = ept->pt.root | EPTP_WALK4 | EPTP_WB;
        /* A reused root page may still have translations cached under this
         * EPTP from an earlier VM. */
        ept_invalidate(ept);
        return NULL;
}

const char *ept_map_ram(struct ept *ept, gpa_t gpa, hpa_t hpa, uint64_t size)
{
        enum pt_status st = pt_map(&ept->pt, gpa, hpa, size, EPT_RWX | EPT_MT_WB);
        return st == PT_OK ? NULL : pt_status_name(st);
}

void ept_invalidate(const struct ept *ept)
{
        if (invept(INVEPT_SINGLE_CONTEXT, ept->eptp) != VMX_OK)
                panic("INVEPT single-context of EPTP 0x%llx failed", (unsigned long long)ept->eptp);
}

void ept_destroy(struct ept *ept)
{
        if (!ept->pt.root)
                return;
        ept_invalidate(ept);
        pt_destroy(&ept->pt);
        ept->eptp = 0;
}
