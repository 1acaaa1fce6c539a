/* vmcall: the documented hypercall 0 ("version"), with the signature in EBX
 * that opts in, returns 0x76747601 in EAX; without the signature (a guest
 * that knows nothing of vtvisor), or with any other EAX, VMCALL raises #UD
 * and the guest carries on. */
#include "guest.h"

void guest_main(void)
{
        uint32_t eax = 0;
        int vec = try_vmcall(&eax);
        expect_vec("vmcall-without-opt-in-ud", vec, VEC_UD);
        eax = 0;
        vec = try_hypercall(&eax);
        expect_vec("vmcall-version-no-fault", vec, VEC_NONE);
        expect_eq32("vmcall-version-value", eax, 0x76747601);

        /* Twice: the hypercall must advance RIP and be repeatable. */
        eax = 0;
        vec = try_hypercall(&eax);
        expect_vec("vmcall-version-again-no-fault", vec, VEC_NONE);
        expect_eq32("vmcall-version-again-value", eax, 0x76747601);

        static const uint32_t unknown[] = { 1, 2, 0x100, 0x76747601, 0x80000000, 0xffffffff };
        for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
                eax = unknown[i];
                vec = try_hypercall(&eax);
                gprintf("vmcall: eax 0x%x must raise #UD\n", unknown[i]);
                expect_vec("vmcall-unknown-ud", vec, VEC_UD);
        }
        report("vmcall-survived", true);
}
