/* cpuid: vtvisor's CPUID filtering.  Leaf 1 must show the hypervisor bit
 * (ECX[31]) and hide VMX (ECX[5]); leaf 0x40000000 must give the maximum
 * hypervisor leaf and the signature "vtvisor" (zero-padded to 12 bytes).
 * On bare Bochs the hypervisor checks FAIL, as expected. */
#include "guest.h"

void guest_main(void)
{
        struct cpuid_regs r = cpuid(0, 0);
        gprintf("cpuid: leaf 0: max 0x%x vendor %08x %08x %08x\n", r.eax, r.ebx, r.edx, r.ecx);
        report("basic-leaves-present", r.eax >= 1 && r.eax < 0x100);
        report("vendor-intel", r.ebx == 0x756e6547 && r.edx == 0x49656e69 && r.ecx == 0x6c65746e);

        r = cpuid(1, 0);
        gprintf("cpuid: leaf 1: eax 0x%08x ecx 0x%08x edx 0x%08x\n", r.eax, r.ecx, r.edx);
        report("hypervisor-bit", (r.ecx & (1u << 31)) != 0);
        report("vmx-hidden", (r.ecx & (1u << 5)) == 0);
        struct cpuid_regs again = cpuid(1, 0);
        report("leaf1-stable", again.eax == r.eax && again.ecx == r.ecx && again.edx == r.edx);

        r = cpuid(0x40000000, 0);
        gprintf("cpuid: leaf 0x40000000: eax 0x%08x ebx 0x%08x ecx 0x%08x edx 0x%08x\n", r.eax,
                r.ebx, r.ecx, r.edx);
        report("hv-max-leaf", r.eax >= 0x40000000 && r.eax <= 0x400000ff);
        char sig[13];
        memcpy(sig, &r.ebx, 4);
        memcpy(sig + 4, &r.ecx, 4);
        memcpy(sig + 8, &r.edx, 4);
        sig[12] = '\0';
        for (int i = 0; i < 12; i++) {
                if (sig[i] && (sig[i] < 0x20 || sig[i] > 0x7e))
                        sig[i] = '?';
        }
        gprintf("cpuid: signature \"%s\"\n", sig);
        expect_eq32("hv-signature-ebx", r.ebx, 0x69767476); /* "vtvi" */
        expect_eq32("hv-signature-ecx", r.ecx, 0x00726f73); /* "sor\0" */
        expect_eq32("hv-signature-edx", r.edx, 0);
}
