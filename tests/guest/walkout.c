/* walkout: the CPU itself, not an instruction vtvisor could decode,
 * reaches guest-physical memory that is not RAM:
 *   mode=walk  a page-directory entry points at a page table at 512 MiB,
 *              and the guest touches a linear address through it: the
 *              CPU's page walk reads there;
 *   mode=idt   the IDT is at 512 MiB and the guest raises INT 0x30: the
 *              CPU reads the gate there while delivering it.
 * vtvisor must stop the VM saying so (it cannot emulate such an access by
 * decoding the instruction at RIP), and the VM beside it runs on. */
#include "guest.h"

#define OUTSIDE 0x20000000u

static uint32_t pd[1024] __attribute__((aligned(4096)));

static void walk(void)
{
        pd[0] = 0x83;           /* 0-4 MiB: a 4 MiB page, present, writable */
        pd[1] = OUTSIDE | 0x3;  /* 4-8 MiB: a page table outside RAM */
        uint32_t cr4 = 1u << 4; /* PSE */
        __asm__ volatile("movl %0, %%cr4" : : "r"(cr4));
        __asm__ volatile("movl %0, %%cr3" : : "r"((uint32_t)pd) : "memory");
        uint32_t cr0 = read_cr0() | (1u << 31);
        gprintf("walkout: paging on, touching linear 0x400000\n");
        uart_drain();
        __asm__ volatile("movl %0, %%cr0" : : "r"(cr0) : "memory");
        (void)*(volatile uint32_t *)0x400000;
        report("walkout-stopped-vm", false);
}

static void idt(void)
{
        struct {
                uint16_t limit;
                uint32_t base;
        } __attribute__((packed)) desc = { 0x7ff, OUTSIDE };
        gprintf("walkout: IDT at 0x%x, int 0x30\n", OUTSIDE);
        uart_drain();
        __asm__ volatile("lidt %0\n\tint $0x30" : : "m"(desc) : "memory");
        report("walkout-stopped-vm", false);
}

void guest_main(void)
{
        char mode[8] = "walk";
        cmdline_value("mode", mode, sizeof(mode));
        if (mode[0] == 'i')
                idt();
        else
                walk();
}
