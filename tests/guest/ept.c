/* ept: an access outside the guest's RAM must stop only this VM with
 * "EPT violation: ACCESS at guest-physical ADDR (rip RIP)".
 * Command line: access=read|write|fetch (default read), addr=ADDRESS
 * (default 0x20000000, 512 MiB).  First checks that the last dword of its
 * RAM (from the multiboot memory information) works, then prints the
 * access, address and the rip of the faulting instruction for the runner. */
#include "guest.h"

extern char ept_read_insn[], ept_write_insn[];

static void __attribute__((noinline)) do_read(uint32_t addr)
{
        uint32_t v;
        __asm__ volatile(".global ept_read_insn\n"
                         "ept_read_insn:\n\t"
                         "movl (%1), %0"
                         : "=r"(v)
                         : "r"(addr)
                         : "memory");
        gprintf("ept: read returned 0x%x\n", v);
}

static void __attribute__((noinline)) do_write(uint32_t addr)
{
        __asm__ volatile(".global ept_write_insn\n"
                         "ept_write_insn:\n\t"
                         "movl %1, (%0)"
                         :
                         : "r"(addr), "r"(0x600dbeefu)
                         : "memory");
}

static void __attribute__((noinline)) do_fetch(uint32_t addr)
{
        __asm__ volatile("call *%0" : : "r"(addr) : "memory");
}

void guest_main(void)
{
        char access[16] = "read", buf[32];
        uint64_t addr = 0x20000000;
        cmdline_value("access", access, sizeof(access));
        if (cmdline_value("addr", buf, sizeof(buf)) && !parse_number(buf, &addr))
                addr = 0x20000000;

        if (g_mbi && (g_mbi->flags & MB_INFO_MEM)) {
                uint32_t ram = (g_mbi->mem_upper + 1024) * 1024;
                volatile uint32_t *last = (volatile uint32_t *)(ram - 4);
                *last = 0xa5a5f00d;
                gprintf("ept: RAM ends at 0x%08x\n", ram);
                expect_eq32("ept-last-ram-dword", *last, 0xa5a5f00d);
        } else {
                report("ept-memory-info", false);
        }

        uint32_t a = (uint32_t)addr;
        if (gstrcmp(access, "write") == 0) {
                gprintf("ept: write at 0x%08x rip 0x%08x\n", a, (uint32_t)ept_write_insn);
                uart_drain();
                do_write(a);
        } else if (gstrcmp(access, "fetch") == 0) {
                gprintf("ept: fetch at 0x%08x rip 0x%08x\n", a, a);
                uart_drain();
                do_fetch(a);
        } else {
                gprintf("ept: read at 0x%08x rip 0x%08x\n", a, (uint32_t)ept_read_insn);
                uart_drain();
                do_read(a);
        }
        report("ept-access-stopped-vm", false);
}
