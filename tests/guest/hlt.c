/* hlt: cli; hlt.  vtvisor must stop the VM with "halted with interrupts
 * disabled at rip 0x...".  The guest prints the addresses of the HLT
 * instruction and of the one after it so the runner can check the rip. */
#include "guest.h"

extern char hlt_insn[], hlt_next[];

static void __attribute__((noinline)) do_hlt(void)
{
        __asm__ volatile("cli\n\t"
                         ".global hlt_insn\n"
                         "hlt_insn:\n\t"
                         "hlt\n"
                         ".global hlt_next\n"
                         "hlt_next:\n\t"
                         "nop" ::
                             : "memory");
}

void guest_main(void)
{
        report("hlt-interrupts-off", (read_eflags() & (1u << 9)) == 0);
        gprintf("hlt: hlt at 0x%08x next 0x%08x\n", (uint32_t)hlt_insn, (uint32_t)hlt_next);
        uart_drain();
        do_hlt();
        report("hlt-stopped-vm", false);
}
