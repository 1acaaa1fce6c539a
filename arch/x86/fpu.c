#include "arch/x86/fpu.h"
#include "arch/x86/cpu.h"
#include "arch/x86/regs.h"
#include "lib/string.h"

#define CPUID1_ECX_XSAVE BIT(26)
/* x87, SSE, AVX, and the AVX-512 trio: the user-state components vtvisor
 * switches (SDM 13.1); supervisor state is not offered to guests. */
#define XCR0_SWITCHED 0xe7ULL

static bool has_xsave;
static uint64_t xcr0_max = 0x3;
static size_t area_size = 512;

void fpu_init(void)
{
        write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
        has_xsave = (cpuid(1, 0).ecx & CPUID1_ECX_XSAVE) != 0;
        if (!has_xsave)
                return;
        write_cr4(read_cr4() | CR4_OSXSAVE);
        struct cpuid_regs r = cpuid(0xd, 0);
        xcr0_max = (((uint64_t)r.edx << 32) | r.eax) & XCR0_SWITCHED;
        xsetbv(0, xcr0_max);
        /* EBX: the size needed for the components now enabled in XCR0. */
        area_size = cpuid(0xd, 0).ebx;
}

bool fpu_has_xsave(void)
{
        return has_xsave;
}

uint64_t fpu_xcr0_supported(void)
{
        return has_xsave ? xcr0_max : 0;
}

size_t fpu_area_size(void)
{
        return ALIGN_UP(area_size, 64);
}

void fpu_area_init(void *area)
{
        uint8_t *a = area;
        vtv_memset(a, 0, fpu_area_size());
        a[0] = 0x7f; /* FCW = 0x037f */
        a[1] = 0x03;
        a[24] = 0x80; /* MXCSR = 0x1f80 */
        a[25] = 0x1f;
}

void fpu_save(void *area)
{
        if (has_xsave) {
                xsetbv(0, xcr0_max);
                xsave(area, xcr0_max);
        } else {
                fxsave(area);
        }
}

void fpu_restore(const void *area, uint64_t guest_xcr0)
{
        if (has_xsave) {
                xsetbv(0, xcr0_max);
                xrstor(area, xcr0_max);
                xsetbv(0, guest_xcr0);
        } else {
                fxrstor(area);
        }
}
