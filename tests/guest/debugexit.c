/* debugexit: writes a chosen byte V to port 0xF4 ("value=N" on the command
 * line, default 42); vtvisor must stop the VM with "debug exit, code C",
 * C = (V << 1) | 1.  Anything after the write is a failure. */
#include "guest.h"

void guest_main(void)
{
        char buf[32];
        uint64_t v = 42;
        if (cmdline_value("value", buf, sizeof(buf)) && !parse_number(buf, &v))
                v = 42;
        v &= 0xff;
        gprintf("debugexit: writing %u to port 0xf4, expect code %u\n", (uint32_t)v,
                ((uint32_t)v << 1) | 1);
        uart_drain();
        outb(0xf4, (uint8_t)v);
        /* Still running: only right on bare Bochs. */
        report("debugexit-stopped-vm", false);
}
