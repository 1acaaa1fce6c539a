/* triplefault: loads an IDT with limit 0 and executes UD2: #UD cannot be
 * delivered (#GP), nor can #GP (#DF), nor #DF: a triple fault, which must
 * stop only this VM with "triple fault at rip 0x...".  The guest prints
 * the address of the UD2. */
#include "guest.h"

extern char tf_ud2[];

void guest_main(void)
{
        gprintf("triplefault: ud2 at 0x%08x\n", (uint32_t)tf_ud2);
        uart_drain();
        struct {
                uint16_t limit;
                uint32_t base;
        } __attribute__((packed)) desc = { 0, 0 };
        __asm__ volatile("lidt %0\n\t"
                         ".global tf_ud2\n"
                         "tf_ud2:\n\t"
                         "ud2" ::"m"(desc)
                         : "memory");
        report("triplefault-stopped-vm", false);
}
