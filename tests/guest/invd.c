/* invd: INVD and WBINVD must be executed or emulated and the guest must
 * continue with its memory intact. */
#include "guest.h"

static volatile uint32_t data[64];

void guest_main(void)
{
        for (int i = 0; i < 64; i++)
                data[i] = 0x5a5a0000u + (uint32_t)i;
        __asm__ volatile("wbinvd" ::: "memory");
        report("wbinvd-continues", true);
        bool ok = true;
        for (int i = 0; i < 64; i++)
                ok = ok && data[i] == 0x5a5a0000u + (uint32_t)i;
        report("wbinvd-memory-intact", ok);

        /* The data was written back by WBINVD above, so even a real INVD
         * cannot lose it. */
        __asm__ volatile("invd" ::: "memory");
        report("invd-continues", true);
        ok = true;
        for (int i = 0; i < 64; i++)
                ok = ok && data[i] == 0x5a5a0000u + (uint32_t)i;
        report("invd-memory-intact", ok);

        for (int i = 0; i < 10; i++)
                __asm__ volatile("wbinvd\n\tinvd" ::: "memory");
        report("repeated-wbinvd-invd", true);
}
