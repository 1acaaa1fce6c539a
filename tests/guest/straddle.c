/* straddle: MOV-family loads and stores whose bytes straddle a page
 * boundary between RAM, unbacked memory and device pages must behave as on
 * hardware: each page's part reaches what backs that page.  vtvisor gets one
 * EPT violation for such an access (for the first page that is not RAM) and
 * emulates it part by part (core/mmio.c).
 *
 *   ram-*     the last 8 bytes of RAM (from the multiboot memory
 *             information) hold a pattern; 2- and 4-byte loads (MOV, MOVZX,
 *             MOVSX, a base+index*2+disp form) across the end of RAM read
 *             the RAM bytes and all ones above; stores across it change
 *             exactly the RAM bytes.
 *   ioapic-*  across the I/O APIC page's end (0xfec00ffe: the model's
 *             offsets 0xffe-0xfff read as zero and ignore writes, the next
 *             page is unbacked) and into its start from unbacked memory
 *             (0xfebffffe: the upper half lands in IOREGSEL, offset 0, which
 *             reads back).
 *   lapic-*   from unbacked memory into the local APIC page (0xfedffffe):
 *             the upper half reads the APIC's offset 0, a reserved register
 *             that reads as zero (a read sets ESR's illegal-register bit,
 *             as on hardware; not checked).  No store: the APIC's registers
 *             all start 16-byte aligned, so no straddling store reaches one.
 *   paged-*   under 32-bit paging, where the pages of one access map to
 *             unrelated frames: RAM then unbacked memory, both ways; a store
 *             whose first page is unbacked memory or the I/O APIC and whose
 *             second page is not present raises #PF with CR2 = the second
 *             page's first byte, error code 2 (write, not present), at the
 *             store, writing nothing.  The same with the first page in RAM
 *             is the CPU's own #PF (no exit): the RAM bytes stay unchanged.
 * With mode=stop (and unmapped=stop on the VM's line) only a load from the
 * I/O APIC page's end into the unbacked page above: vtvisor must stop the
 * VM naming the unbacked address, 0xfec01000.
 * The VM needs ram=8M (the pattern is in the last 4 MiB page of the paged
 * tests' identity map). */
#include "guest.h"

#define IOAPIC      0xfec00000u
#define LAPIC       0xfee00000u
#define UNBACKED    0x20000000u /* 512 MiB: above any RAM this test gets */
#define LINEAR      0x40000000u /* the paged-* tests' pages */
#define IOREGSEL_TO 1u          /* the version register */

static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt[1024] __attribute__((aligned(4096)));

extern char st_pf_insn[];

static uint32_t ld32(uint32_t a)
{
        uint32_t v;
        __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
        return v;
}

static uint32_t ld16(uint32_t a, uint32_t old)
{
        __asm__ volatile("movw (%1), %w0" : "+r"(old) : "r"(a) : "memory");
        return old;
}

static uint32_t ldzx16(uint32_t a)
{
        uint32_t v;
        __asm__ volatile("movzwl (%1), %0" : "=r"(v) : "r"(a) : "memory");
        return v;
}

static uint32_t ldsx16(uint32_t a)
{
        uint32_t v;
        __asm__ volatile("movswl (%1), %0" : "=r"(v) : "r"(a) : "memory");
        return v;
}

/* -2(base, index, 2) */
static uint32_t ld32_sib(uint32_t base, uint32_t index)
{
        uint32_t v;
        __asm__ volatile("movl -2(%1,%2,2), %0" : "=r"(v) : "r"(base), "r"(index) : "memory");
        return v;
}

static void st32(uint32_t a, uint32_t v)
{
        __asm__ volatile("movl %1, (%0)" : : "r"(a), "r"(v) : "memory");
}

static void st32_imm(uint32_t a)
{
        __asm__ volatile("movl $0xaabbccdd, (%0)" : : "r"(a) : "memory");
}

static void st16(uint32_t a, uint32_t v)
{
        __asm__ volatile("movw %w1, (%0)" : : "r"(a), "r"(v) : "memory");
}

static uint32_t read_cr2(void)
{
        uint32_t v;
        __asm__ volatile("movl %%cr2, %0" : "=r"(v));
        return v;
}

/* A store of 4 bytes at a that should fault; returns the vector. */
static int __attribute__((noinline)) try_st32(uint32_t a, uint32_t v)
{
        fault_arm();
        __asm__ volatile(TRY_BEGIN ".global st_pf_insn\nst_pf_insn:\n\t"
                                   "movl %1, (%0)" TRY_END
                         :
                         : "r"(a), "r"(v)
                         : "memory");
        return g_fault_vector;
}

static void ram_end_tests(uint32_t ram)
{
        volatile uint32_t *lo = (volatile uint32_t *)(ram - 8),
                          *hi = (volatile uint32_t *)(ram - 4);
        *lo = 0x44332211;
        *hi = 0x88776655;

        expect_eq32("ram-word-load", ld16(ram - 1, 0x12345678), 0x1234ff88);
        expect_eq32("ram-dword-load-1", ld32(ram - 1), 0xffffff88);
        expect_eq32("ram-dword-load-2", ld32(ram - 2), 0xffff8877);
        expect_eq32("ram-dword-load-3", ld32(ram - 3), 0xff887766);
        expect_eq32("ram-movzx-word", ldzx16(ram - 1), 0x0000ff88);
        expect_eq32("ram-movsx-word", ldsx16(ram - 1), 0xffffff88);
        expect_eq32("ram-dword-load-sib", ld32_sib(ram - 0x100, 0x80), 0xffff8877);

        st32_imm(ram - 2);
        expect_eq32("ram-dword-store-imm", *hi, 0xccdd6655);
        expect_eq32("ram-dword-store-below-unchanged", *lo, 0x44332211);
        expect_eq32("ram-dword-store-reads-back", ld32(ram - 2), 0xffffccdd);
        st16(ram - 1, 0x5a01);
        expect_eq32("ram-word-store", *hi, 0x01dd6655);
        st32(ram - 3, 0x0c0b0a09);
        expect_eq32("ram-dword-store-3", *hi, 0x0b0a0955);
        expect_eq32("ram-stores-below-unchanged", *lo, 0x44332211);
}

static void device_tests(void)
{
        volatile uint32_t *regsel = (volatile uint32_t *)IOAPIC,
                          *win = (volatile uint32_t *)(IOAPIC + 0x10);
        *regsel = 0;
        expect_eq32("ioapic-out-load", ld32(IOAPIC + 0xffe), 0xffff0000);
        /* The upper half, 0x0001, is IOREGSEL's low 16 bits. */
        st32(IOAPIC - 2, (IOREGSEL_TO << 16) | 0x5a5a);
        expect_eq32("ioapic-into-store-ioregsel", *regsel, IOREGSEL_TO);
        expect_eq32("ioapic-into-store-selects-version", *win, 0x00170011);
        expect_eq32("ioapic-into-load", ld32(IOAPIC - 2), (IOREGSEL_TO << 16) | 0xffff);
        st32(IOAPIC + 0xffe, 0x12345678);
        expect_eq32("ioapic-out-store-ioregsel-unchanged", *regsel, IOREGSEL_TO);
        expect_eq32("lapic-into-load", ld32(LAPIC - 2), 0x0000ffff);
}

static void paged_tests(uint32_t ram)
{
        volatile uint32_t *hi = (volatile uint32_t *)(ram - 4);
        uint32_t last = ram - 0x1000;

        pd[0] = 0x83;             /* 0-4 MiB: a 4 MiB page, present, writable */
        pd[1] = 0x400000u | 0x83; /* 4-8 MiB */
        pd[LINEAR >> 22] = (uint32_t)pt | 3;
        pt[0] = UNBACKED | 3; /* then not present */
        pt[2] = last | 3;     /* RAM's last page, then unbacked memory */
        pt[3] = (UNBACKED + 0x1000) | 3;
        pt[4] = IOAPIC | 0x13; /* the I/O APIC (PCD), then not present */
        pt[6] = last | 3;      /* RAM's last page, then not present */
        pt[8] = UNBACKED | 3;  /* unbacked memory, then RAM's last page */
        pt[9] = last | 3;
        __asm__ volatile("movl %0, %%cr4" : : "r"(read_cr4() | (1u << 4))); /* PSE */
        __asm__ volatile("movl %0, %%cr3" : : "r"((uint32_t)pd) : "memory");
        __asm__ volatile("movl %0, %%cr0" : : "r"(read_cr0() | (1u << 31)) : "memory");

        uint32_t was = *hi;
        expect_eq32("paged-ram-unbacked-load", ld32(LINEAR + 0x2ffe), (was >> 16) | 0xffff0000);
        st32(LINEAR + 0x2ffe, 0x77665544);
        expect_eq32("paged-ram-unbacked-store", *hi, 0x55440000 | (was & 0xffff));
        /* Unbacked memory, then the first bytes of RAM's last page. */
        volatile uint32_t *first = (volatile uint32_t *)last;
        *first = 0xd4c3b2a1;
        expect_eq32("paged-unbacked-ram-load", ld32(LINEAR + 0x8ffe), 0xb2a1ffff);
        st32(LINEAR + 0x8ffe, 0x12345678);
        expect_eq32("paged-unbacked-ram-store", *first, 0xd4c31234);

        int vec = try_st32(LINEAR + 0xffe, 0x11223344);
        uint32_t cr2 = read_cr2();
        expect_eq32("paged-unbacked-notpresent-store-pf", (uint32_t)vec, 14);
        expect_eq32("paged-unbacked-notpresent-store-cr2", cr2, LINEAR + 0x1000);
        expect_eq32("paged-unbacked-notpresent-store-error", g_fault_error, 2);
        expect_eq32("paged-unbacked-notpresent-store-rip", g_fault_eip, (uint32_t)st_pf_insn);

        volatile uint32_t *regsel = (volatile uint32_t *)(LINEAR + 0x4000);
        *regsel = IOREGSEL_TO;
        vec = try_st32(LINEAR + 0x4ffe, 0x00025a5a);
        cr2 = read_cr2();
        expect_eq32("paged-ioapic-notpresent-store-pf", (uint32_t)vec, 14);
        expect_eq32("paged-ioapic-notpresent-store-cr2", cr2, LINEAR + 0x5000);
        expect_eq32("paged-ioapic-notpresent-ioregsel-unchanged", *regsel, IOREGSEL_TO);

        was = *hi;
        vec = try_st32(LINEAR + 0x6ffe, 0x99887766);
        cr2 = read_cr2();
        expect_eq32("paged-ram-notpresent-store-pf", (uint32_t)vec, 14);
        expect_eq32("paged-ram-notpresent-store-cr2", cr2, LINEAR + 0x7000);
        expect_eq32("paged-ram-notpresent-ram-unchanged", *hi, was);

        __asm__ volatile("movl %0, %%cr0" : : "r"(read_cr0() & ~(1u << 31)) : "memory");
}

void guest_main(void)
{
        if (!g_mbi || !(g_mbi->flags & MB_INFO_MEM)) {
                report("straddle-memory-info", false);
                return;
        }
        uint32_t ram = (g_mbi->mem_upper + 1024) * 1024;
        gprintf("straddle: RAM ends at 0x%08x\n", ram);
        if (ram != 8u << 20) {
                report("straddle-ram-8m", false);
                return;
        }
        char mode[8] = "";
        cmdline_value("mode", mode, sizeof(mode));
        if (gstrcmp(mode, "stop") == 0) {
                gprintf("straddle: load at 0x%08x\n", IOAPIC + 0xffe);
                uart_drain();
                (void)ld32(IOAPIC + 0xffe);
                report("straddle-unmapped-stopped-vm", false);
                return;
        }
        ram_end_tests(ram);
        device_tests();
        paged_tests(ram);
}
