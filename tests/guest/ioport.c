/* ioport: every port no virtual device claims must read all-ones, for 1-,
 * 2- and 4-byte IN, and ignore writes.  Claimed: the UART (0x3F8-0x3FF),
 * the debug exit (0xF4), the RTC (0x70-0x71), PCI configuration
 * (0xCF8-0xCFF), reset control (0xCF9, 0x64) and ACPI PM (0x600-0x60B);
 * tests/guest/platform.c covers those.
 * "string" on the command line also checks INS/OUTS (REP INSB/INSW/INSD
 * fill with all-ones, REP OUTSB is ignored).  Under vtvisor the guest also
 * writes to ports that would reset or power off a real PC; they must be
 * ignored too (skipped on bare Bochs). */
#include "guest.h"

static const uint16_t ports[] = { 0x20,  0x21,  0x40,  0x60,   0x61,   0x80,   0x92,  0xa0,
                                  0x3f0, 0x3f4, 0x2f8, 0x1234, 0x8900, 0xb004, 0xfff0 };

static void reads(void)
{
        bool ok8 = true, ok16 = true, ok32 = true;
        for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
                uint16_t p = ports[i];
                uint8_t b = inb(p);
                uint16_t w = inw(p);
                uint32_t l = inl(p);
                if (b != 0xff || w != 0xffff || l != 0xffffffff) {
                        gprintf("ioport: port 0x%x reads 0x%02x 0x%04x 0x%08x\n", p, b, w, l);
                        ok8 = ok8 && b == 0xff;
                        ok16 = ok16 && w == 0xffff;
                        ok32 = ok32 && l == 0xffffffff;
                }
        }
        report("inb-all-ones", ok8);
        report("inw-all-ones", ok16);
        report("inl-all-ones", ok32);

        /* DX form with a port above 0xff. */
        uint32_t v;
        __asm__ volatile("inl %%dx, %%eax" : "=a"(v) : "d"(0x1234));
        expect_eq32("inl-dx-all-ones", v, 0xffffffff);
        /* The upper half of EAX is preserved by a 1-byte IN. */
        v = 0x12345600;
        __asm__ volatile("inb $0x80, %%al" : "+a"(v));
        expect_eq32("inb-preserves-upper-eax", v, 0x123456ff);
        v = 0x12340000;
        __asm__ volatile("inw $0x80, %%ax" : "+a"(v));
        expect_eq32("inw-preserves-upper-eax", v, 0x1234ffff);
}

static void writes(void)
{
        /* Writes that would change what a real port reads back. */
        outb(0x80, 0x12);
        outw(0x1234, 0xabcd);
        outb(0x21, 0x00);
        expect_eq32("write-0x80-ignored", inb(0x80), 0xff);
        expect_eq32("write-0x1234-ignored", inw(0x1234), 0xffff);
        expect_eq32("write-pic-mask-ignored", inb(0x21), 0xff);

        if (under_vtvisor()) {
                /* The reset and power-off ports vtvisor does emulate (0x64,
                 * 0xCF9, 0x604) are tested in platform.c. */
                outb(0x92, 0x01); /* fast reset (port 92h): not emulated */
                for (const char *s = "Shutdown"; *s; s++)
                        outb(0x8900, (uint8_t)*s); /* Bochs power off */
                outw(0xb004, 0x2000);              /* Bochs ACPI power off */
                report("dangerous-writes-ignored", true);
        }
}

/* REP INS of `count` items of `size` bytes from `port` into a zeroed
 * buffer: all-ones must land in exactly size * count bytes. */
static bool rep_ins(unsigned size, uint16_t port, uint32_t count)
{
        static uint8_t buf[64];
        memset(buf, 0, sizeof(buf));
        uint8_t *p = buf;
        uint32_t c = count;
        if (size == 1)
                __asm__ volatile("cld\n\trep insb" : "+D"(p), "+c"(c) : "d"(port) : "memory");
        else if (size == 2)
                __asm__ volatile("cld\n\trep insw" : "+D"(p), "+c"(c) : "d"(port) : "memory");
        else
                __asm__ volatile("cld\n\trep insl" : "+D"(p), "+c"(c) : "d"(port) : "memory");
        uint32_t n = size * count;
        bool ok = p == buf + n && c == 0 && buf[n] == 0;
        for (uint32_t i = 0; i < n; i++)
                ok = ok && buf[i] == 0xff;
        if (!ok)
                gprintf("ioport: rep ins%u from 0x%x: edi advanced %u, ecx %u\n", size, port,
                        (uint32_t)(p - buf), c);
        return ok;
}

static void strings(void)
{
        report("rep-insb-all-ones", rep_ins(1, 0x80, 16));
        report("rep-insw-all-ones", rep_ins(2, 0x1234, 8));
        report("rep-insl-all-ones", rep_ins(4, 0x1234, 4));

        const char *msg = "ignored";
        const char *s = msg;
        uint32_t c = 7;
        __asm__ volatile("cld\n\trep outsb" : "+S"(s), "+c"(c) : "d"(0x80) : "memory");
        report("rep-outsb-ignored", s == msg + 7 && c == 0);
}

void guest_main(void)
{
        reads();
        writes();
        if (cmdline_has_word("string"))
                strings();
}
