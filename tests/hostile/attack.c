/* attack: the attacker guest of the hostile-guest suite (tests/hostile/).
 *
 * attack=NAME on the command line selects one attack; each prints
 * "attack NAME: start ...", what it tried and saw, "attack NAME: tried N"
 * and reports PASS/FAIL only for what the attacker itself can check.
 * Containment as a whole (the companion VM's RAM and progress, vtvisor's
 * survival, the stop cause) is checked by the case in tests/guest/cases.py.
 *
 *   gpa       access=read|write|fetch from=ADDR: accesses every 2 MiB from
 *             ADDR (default: the first 2 MiB boundary at or above its RAM
 *             end) up to 4 GiB, skipping the PCI ECAM window and the I/O
 *             APIC and local APIC pages.  vtvisor stops the VM at the first
 *             one today (EPT violation); should it ever return, reads must
 *             give all ones, writes must not stick and fetches must fault.
 *   msr       RDMSR and WRMSR (0, all ones, bit 63, two random values) of
 *             every index in 0x0-0x1fff and 0xc0000000-0xc0001fff, except
 *             the MSRs whose write would legitimately kill the attacker
 *             (msr-from=/msr-to= narrow the indices down).
 *   ports     IN and OUT of every port 0-0xffff in 8/16/32-bit widths with
 *             random values, except the ports that end or reset the VM or
 *             garble its console; unknown ports must read all ones.
 *   insn      every VMX and SMX instruction (#UD expected), VMCALL with
 *             random registers, CPUID with random leaves (stable, VMX/SMX
 *             hidden), XSETBV and MOV to CR0/CR4 with reserved bits (#GP).
 *   storm     cpuid=N CPUID exits (default 1000000), a self-IPI storm
 *             (ipis=N, default 20000), INIT/SIPI/NMI IPIs to every APIC ID
 *             that does not exist.
 *   mmio      rounds=N instructions of the forms vtvisor emulates (the MOV
 *             family) with random prefixes, ModRM forms, displacements,
 *             sizes and immediates, at random offsets of the I/O APIC page,
 *             the local APIC page (not its ICR), the PCI ECAM window and
 *             unbacked memory above RAM, some straddling a page's end; each
 *             runs from a buffer and may fault (#UD for LOCK, ...), which is
 *             caught.  Unbacked memory must read all ones after it.  Then
 *             one instruction of another form (read-modify-write, string,
 *             ...) at the I/O APIC: vtvisor stops the VM naming it.
 *   mmio-64   rounds=N (default 4000) instructions of the MOV family in
 *             64-bit mode (longmode.S group 3) of random form: legacy and
 *             REX prefixes, ModRM with and without SIB, r8-r15, RIP-relative
 *             and moffs addresses, 1 to 8 bytes, at the I/O APIC, local
 *             APIC (not its ICR), ECAM and unbacked memory, some straddling
 *             a page's end.  LOCK must #UD, nothing else fault; no register
 *             but a load's destination may change, and a load from unbacked
 *             memory must give all ones as its form extends them.
 *   straddle  rounds=N (default 3000) loads and stores of 2 and 4 bytes
 *             (MOV, MOVZX, MOVSX, a SIB form, an ES override, an
 *             immediate) straddling a page boundary: RAM's end, the ECAM
 *             window's and the I/O APIC page's start and end, the local
 *             APIC page's start (loads only); each load must give what
 *             one-byte loads give, each store change exactly its RAM bytes.
 *             Then a REP MOVSD across RAM's end: vtvisor stops the VM.
 *   mmio-random
 *             rounds of one instruction of random bytes at CPL 3 with TF set
 *             and its registers pointed into one device page (local APIC,
 *             I/O APIC, ECAM, each BAR of its virtio devices, unbacked
 *             memory): random opcodes with a register operand, MOV forms
 *             and, one round in free=N (default 64), wholly random bytes;
 *             each round ends in the single-step #DB or an exception, on an
 *             IDT, GDT, TSS and stack of its own.  Counts by outcome every
 *             every=N rounds; its checks at round check=N.  Runs until
 *             vtvisor stops it (an instruction it cannot emulate).
 *   long-mode enters IA-32e mode itself (tests/hostile/longmode.S): CR8,
 *             CPL 3, SWAPGS, SYSCALL/SYSRET with hostile STAR values,
 *             non-canonical MSRs, accesses and RIPs, 8-byte accesses
 *             straddling RAM's end, CR0/CR3/CR4 and EFER reserved bits;
 *             each result as the SDM says; back to 32-bit mode after each
 *             of three groups.
 *   cli-spin  spins for ever with interrupts off.
 *   cli-hlt   halts with interrupts off (vtvisor stops the VM).
 *   cpuid-storm
 *             cpuid=N CPUID exits (default 10^7), eight leaves in turn,
 *             every answer compared with the first.
 *   self-ipi  ipis=N (default 2000) fixed IPIs of each kind to itself (its
 *             APIC ID, the self and all-including-self shorthands, its
 *             logical ID, lowest priority), one with an illegal vector, 100
 *             NMIs to its APIC ID (taken by its NMI handler), STARTUP and
 *             INIT level de-assert (ignored), then INIT to itself: its only
 *             vCPU waits for a STARTUP nobody sends.  xAPIC mode.
 *   triple-fault
 *             loads an empty IDT and executes UD2.
 *   reset-loop
 *             counts its boots in CMOS RAM and resets on each, through the
 *             keyboard controller and 0xCF9 in turn; checks that its RAM
 *             was rebuilt (a marker it left is gone).
 *   privileged
 *             MOV to CR3 with paging off, DR0-DR3/DR7 (breakpoints on
 *             itself, then at the companion's addresses across many exits),
 *             RDPMC, LGDT/LIDT outside RAM, INVPCID, WBINVD, INVD, LOCK MOV
 *             CR0; each result as on hardware.
 *   gpa-high  PAE paging, a 2 MiB window pointed above 4 GiB: every power
 *             of two up to MAXPHYADDR (CPUID 0x80000008) and samples=N
 *             random addresses (default 300), read (all ones) and written
 *             (dropped); PDEs with a bit from MAXPHYADDR to 63: #PF with
 *             RSVD.  cr0-exit: then PAE paging by a CR0 write that exits.
 *   hvimage   vtvisor's image (image=ADDR, default 1 MiB) and page tables
 *             as guest-physical addresses: no multiboot2 header of vtvisor
 *             in its own RAM there; every 4 KiB from its RAM end to to=ADDR
 *             (default 64 MiB) reads all ones and drops writes.
 *   smp-ipi   needs vcpus=2: starts its AP (INIT, STARTUP), then in xAPIC
 *             and in x2APIC mode sends ipis=N fixed IPIs (default 200) of
 *             each kind one by one (each must arrive) and storm=N back to
 *             back (default 2000; at least one arrives, the APIC still
 *             works): to its AP, to itself (ICR; in x2APIC mode also the
 *             SELF IPI MSR), all-excluding-self, from the AP to the BSP;
 *             nmis=N NMIs to the AP each way; fixed, NMI, INIT and STARTUP
 *             to IDs and logical destinations nobody has (nothing
 *             delivered); in x2APIC mode the reserved ICR and SELF IPI
 *             forms (#GP) and illegal vectors (ESR); restarts=N INIT and
 *             STARTUP to its AP in each mode (default 20), each entering
 *             at the SIPI vector and checking in.  ap-ipis=N (default 20):
 *             the AP-to-BSP IPIs sent one by one (each waits for the BSP's
 *             turn on the CPU it shares).  steal: first measures the share
 *             of its CPU the BSP gets, alone and while its AP sends it an
 *             IPI whenever it makes no progress (prints, checks nothing).
 * seed=N seeds the random values (default: the TSC; printed). */
#include "guest.h"

#define APIC       0xfee00000u
#define IOAPIC     0xfec00000u
#define ECAM       0xb0000000u
#define ECAM_END   0xc0000000u
#define REG_ID     0x20
#define REG_EOI    0xb0
#define REG_SVR    0xf0
#define REG_ICR_LO 0x300
#define REG_ICR_HI 0x310
#define VEC_SELF   0x40
#define STEP_2M    0x200000u

/* ---- Helpers ---- */

static uint32_t rng_state;

static uint32_t rnd(void)
{
        uint32_t x = rng_state; /* xorshift32 */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return rng_state = x;
}

static uint64_t rnd64(void)
{
        return ((uint64_t)rnd() << 32) | rnd();
}

static uint32_t ram_end(void)
{
        if (g_mbi && (g_mbi->flags & MB_INFO_MEM))
                return (g_mbi->mem_upper + 1024) * 1024;
        return 0;
}

static inline uint32_t apic_rd(uint32_t off)
{
        return *(volatile uint32_t *)(APIC + off);
}

static inline void apic_wr(uint32_t off, uint32_t v)
{
        *(volatile uint32_t *)(APIC + off) = v;
}

/* ---- gpa ---- */

static bool gpa_skipped(uint32_t a)
{
        return (a >= ECAM && a < ECAM_END) || a == (IOAPIC & ~(STEP_2M - 1)) ||
               a == (APIC & ~(STEP_2M - 1));
}

static void attack_gpa(void)
{
        char access[8] = "read";
        cmdline_value("access", access, sizeof(access));
        uint32_t end = ram_end();
        uint32_t from = cmdline_number("from", (end + STEP_2M - 1) & ~(STEP_2M - 1));
        gprintf("attack gpa: start: %s every 2 MiB from 0x%08x to 4 GiB (RAM ends at 0x%08x)\n",
                access, from, end);
        bool all_ones = true, dropped = true, faulted = true;
        uint32_t tried = 0;
        for (uint64_t a64 = from; a64 < 0x100000000ull; a64 += STEP_2M) {
                uint32_t a = (uint32_t)a64;
                if (gpa_skipped(a))
                        continue;
                tried++;
                gprintf("attack gpa: try %u: %s at 0x%08x\n", tried, access, a);
                uart_drain();
                volatile uint32_t *p = (volatile uint32_t *)a;
                if (access[0] == 'w') {
                        *p = 0x600dbeef;
                        uint32_t v = *p;
                        if (v != 0xffffffffu) {
                                gprintf("attack gpa: write at 0x%08x read back 0x%08x\n", a, v);
                                dropped = false;
                        }
                } else if (access[0] == 'f') {
                        fault_arm();
                        __asm__ volatile(TRY_BEGIN "jmp *%0" TRY_END : : "r"(a) : "memory");
                        if (g_fault_vector == VEC_NONE) {
                                gprintf("attack gpa: fetch at 0x%08x did not fault\n", a);
                                faulted = false;
                        }
                } else {
                        uint32_t v = *p;
                        if (v != 0xffffffffu) {
                                gprintf("attack gpa: read at 0x%08x returned 0x%08x\n", a, v);
                                all_ones = false;
                        }
                }
        }
        gprintf("attack gpa: tried %u\n", tried);
        report("gpa-reads-all-ones", all_ones);
        report("gpa-writes-dropped", dropped);
        report("gpa-fetches-fault", faulted);
}

/* ---- msr ---- */

struct skipped_msr {
        uint32_t index;
        const char *why;
};

/* Writes that would legitimately end or break the attacker itself (its
 * reads are still tried). */
static const struct skipped_msr msr_no_write[] = {
        { 0x1b, "IA32_APIC_BASE (moves or disables its local APIC)" },
        { 0x1d9, "IA32_DEBUGCTL (BTF/LBR: single-step traps it does not catch)" },
        { 0xc0000080, "IA32_EFER (long mode/NX with its own paging off)" },
};

static const char *msr_skip_why(uint32_t msr)
{
        for (unsigned i = 0; i < sizeof(msr_no_write) / sizeof(msr_no_write[0]); i++) {
                if (msr_no_write[i].index == msr)
                        return msr_no_write[i].why;
        }
        return NULL;
}

static void msr_range(uint32_t lo, uint32_t hi, uint32_t *tried, uint32_t *readable,
                      uint32_t *writable, uint32_t *bad_vec)
{
        for (uint32_t msr = lo; msr <= hi; msr++) {
                uint64_t orig;
                int vr = try_rdmsr(msr, &orig);
                (*tried)++;
                if (vr == VEC_NONE)
                        (*readable)++;
                else if (vr != VEC_GP) {
                        gprintf("attack msr: rdmsr 0x%x raised vector %d\n", msr, vr);
                        (*bad_vec)++;
                }
                if (msr_skip_why(msr))
                        continue;
                const uint64_t values[] = { 0, ~0ull, 1ull << 63, rnd64(), rnd64() & 0xffffffffu };
                bool took = false;
                for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
                        int vw = try_wrmsr(msr, values[i]);
                        (*tried)++;
                        if (vw == VEC_NONE)
                                took = true;
                        else if (vw != VEC_GP) {
                                gprintf("attack msr: wrmsr 0x%x <- 0x%llx raised vector %d\n", msr,
                                        values[i], vw);
                                (*bad_vec)++;
                        }
                }
                if (took) {
                        (*writable)++;
                        /* Put back what was there, so later MSRs run in the
                         * same state (TSC, FS base, SYSENTER...). */
                        if (vr == VEC_NONE)
                                try_wrmsr(msr, orig);
                }
        }
}

static void attack_msr(void)
{
        gprintf("attack msr: start: RDMSR and 5 WRMSRs of 0x0-0x1fff and 0xc0000000-0xc0001fff\n");
        for (unsigned i = 0; i < sizeof(msr_no_write) / sizeof(msr_no_write[0]); i++)
                gprintf("attack msr: not written: 0x%x %s\n", msr_no_write[i].index,
                        msr_no_write[i].why);
        /* msr-from=/msr-to= narrow both ranges down (to bisect a finding). */
        uint32_t from = cmdline_number("msr-from", 0), to = cmdline_number("msr-to", 0xffffffffu);
        uint32_t tried = 0, readable = 0, writable = 0, bad_vec = 0;
        if (from <= 0x1fff)
                msr_range(from, to < 0x1fff ? to : 0x1fff, &tried, &readable, &writable, &bad_vec);
        if (to >= 0xc0000000)
                msr_range(from > 0xc0000000 ? from : 0xc0000000, to < 0xc0001fff ? to : 0xc0001fff,
                          &tried, &readable, &writable, &bad_vec);
        gprintf("attack msr: tried %u: %u MSRs readable, %u accepted a write, %u other faults\n",
                tried, readable, writable, bad_vec);
        report("msr-refused-with-gp-only", bad_vec == 0);
        /* VMX stays hidden: its capability MSRs and FEATURE_CONTROL's VMX
         * bits give nothing away. */
        bool hidden = true;
        for (uint32_t msr = 0x480; msr <= 0x493; msr++) {
                uint64_t v;
                if (try_rdmsr(msr, &v) != VEC_GP)
                        hidden = false;
        }
        report("msr-vmx-capabilities-hidden", hidden);
        uint64_t fc = 0;
        int v = try_rdmsr(0x3a, &fc);
        report("msr-feature-control-vmx-off", v == VEC_NONE && (fc & 1) && !(fc & 6));
        report("msr-attacker-survived", true);
}

/* ---- ports ---- */

static bool overlaps(uint32_t port, unsigned width, uint32_t lo, uint32_t hi)
{
        return port <= hi && port + width - 1 >= lo;
}

/* Ports not written: they end, reset, power off or silence the attacker. */
static bool port_no_write(uint32_t port, unsigned width)
{
        return overlaps(port, width, 0xf4, 0xf4) ||   /* debug exit */
               overlaps(port, width, 0x64, 0x64) ||   /* keyboard controller reset */
               overlaps(port, width, 0xcf9, 0xcf9) || /* reset control register */
               overlaps(port, width, 0x600, 0x60b) || /* ACPI PM1 (power-off) */
               overlaps(port, width, 0x3f8, 0x3ff);   /* its console */
}

/* Ports with a device behind them: their reads are not all ones. */
static bool port_has_device(uint32_t port, unsigned width)
{
        return overlaps(port, width, 0x60, 0x64) || overlaps(port, width, 0x70, 0x71) ||
               overlaps(port, width, 0x3f8, 0x3ff) || overlaps(port, width, 0xcf8, 0xcff) ||
               overlaps(port, width, 0x600, 0x60b) || overlaps(port, width, 0xf4, 0xf4);
}

static uint32_t port_in(uint32_t port, unsigned width)
{
        if (width == 1)
                return inb((uint16_t)port);
        if (width == 2)
                return inw((uint16_t)port);
        return inl((uint16_t)port);
}

static void port_out(uint32_t port, unsigned width, uint32_t v)
{
        if (width == 1)
                outb((uint16_t)port, (uint8_t)v);
        else if (width == 2)
                outw((uint16_t)port, (uint16_t)v);
        else
                outl((uint16_t)port, v);
}

static void attack_ports(void)
{
        uint32_t last = cmdline_number("last-port", 0xffff);
        gprintf("attack ports: start: IN and OUT of ports 0-0x%x, 8/16/32 bits, random values\n",
                last);
        gprintf("attack ports: not written: 0xf4 (debug exit), 0x64 and 0xcf9 (reset), "
                "0x600-0x60b (ACPI PM1: power-off), 0x3f8-0x3ff (its console)\n");
        uint32_t tried = 0, skipped = 0, not_ones = 0;
        for (unsigned width = 1; width <= 4; width *= 2) {
                uint32_t ones = width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
                for (uint32_t port = 0; port <= last; port++) {
                        uint32_t v = port_in(port, width);
                        tried++;
                        if (!port_has_device(port, width) && v != ones) {
                                if (not_ones < 8)
                                        gprintf("attack ports: in%c 0x%x returned 0x%x\n",
                                                "bw?l"[width - 1], port, v);
                                not_ones++;
                        }
                        if (port_no_write(port, width)) {
                                skipped++;
                                continue;
                        }
                        port_out(port, width, rnd());
                        tried++;
                }
        }
        /* The writes changed nothing a read of an unknown port can see. */
        uint32_t after = 0;
        for (uint32_t i = 0; i < 256; i++) {
                uint32_t port = rnd() & last;
                if (!port_has_device(port, 4) && port_in(port, 4) != 0xffffffffu)
                        after++;
        }
        gprintf("attack ports: tried %u (%u writes skipped): %u unknown-port reads not all ones, "
                "%u after the writes\n",
                tried, skipped, not_ones, after);
        report("ports-unknown-read-all-ones", not_ones == 0 && after == 0);
        report("ports-attacker-survived", true);
}

/* ---- insn ---- */

#define TRY_INSN(name, insn, ...)                                                                  \
        do {                                                                                       \
                fault_arm();                                                                       \
                __asm__ volatile(TRY_BEGIN insn TRY_END : : __VA_ARGS__);                          \
                tried++;                                                                           \
                if (g_fault_vector != VEC_UD) {                                                    \
                        gprintf("attack insn: %s raised vector %d, want #UD\n", name,              \
                                g_fault_vector);                                                   \
                        not_ud++;                                                                  \
                }                                                                                  \
        } while (0)

static inline int try_write_cr0(uint32_t val)
{
        fault_arm();
        __asm__ volatile(TRY_BEGIN "movl %0, %%cr0" TRY_END : : "r"(val) : "memory");
        return g_fault_vector;
}

static void attack_insn(void)
{
        uint32_t rounds = cmdline_number("rounds", 200);
        gprintf("attack insn: start: VMX/SMX instructions, VMCALL, CPUID, XSETBV, CR0/CR4, %u "
                "rounds\n",
                rounds);
        static uint64_t region[512] __attribute__((aligned(4096)));
        uint32_t tried = 0, not_ud = 0;
        /* VMX and SMX: hidden, so #UD whatever the operands. */
        for (uint32_t r = 0; r < rounds; r++) {
                uint32_t ptr = r & 1 ? (uint32_t)region : (rnd() & (ram_end() - 8) & ~7u);
                region[0] = rnd64();
                uint32_t field = rnd();
                TRY_INSN("vmxon", "vmxon (%0)", "r"(ptr) : "memory");
                TRY_INSN("vmptrld", "vmptrld (%0)", "r"(ptr) : "memory");
                TRY_INSN("vmptrst", "vmptrst (%0)", "r"(region) : "memory");
                TRY_INSN("vmclear", "vmclear (%0)", "r"(ptr) : "memory");
                TRY_INSN("vmread", "vmread %0, %%eax", "r"(field) : "eax", "memory");
                TRY_INSN("vmwrite", "vmwrite %1, %0", "r"(field), "r"(rnd()) : "memory");
                TRY_INSN("vmlaunch", "vmlaunch", "r"(0) : "memory");
                TRY_INSN("vmresume", "vmresume", "r"(0) : "memory");
                TRY_INSN("vmxoff", "vmxoff", "r"(0) : "memory");
                TRY_INSN("invept", "invept (%0), %1", "r"(region), "r"(rnd() & 3) : "memory");
                TRY_INSN("invvpid", "invvpid (%0), %1", "r"(region), "r"(rnd() & 3) : "memory");
                TRY_INSN("vmfunc", "vmfunc", "a"(rnd() & 1), "c"(rnd()) : "memory");
                TRY_INSN("getsec", "getsec", "a"(rnd() & 15), "b"(rnd()) : "edx", "memory");
                TRY_INSN("monitor", "monitor", "a"(region), "c"(0), "d"(0) : "memory");
                TRY_INSN("mwait", "mwait", "a"(rnd()), "c"(0) : "memory");
        }
        report("insn-vmx-smx-ud", not_ud == 0);

        /* VMCALL with random registers: only EAX 0 with vtvisor's
         * signature in EBX is a call (docs/hypercalls.md); EAX 0 without it
         * and any other EAX #UD. */
        uint32_t bad_vmcall = 0;
        for (uint32_t r = 0; r < rounds * 4; r++) {
                uint32_t a = r & 2 ? rnd() | 1 : 0, b = rnd(), c = rnd(), d = rnd(), s = rnd(),
                         di = rnd();
                if ((r & 3) == 0)
                        b = 0x69767476; /* "vtvi" */
                else if (b == 0x69767476)
                        b = 0;
                fault_arm();
                __asm__ volatile(TRY_BEGIN "vmcall" TRY_END
                                 : "+a"(a), "+b"(b), "+c"(c), "+d"(d), "+S"(s), "+D"(di)
                                 :
                                 : "memory");
                tried++;
                int want = r & 3 ? VEC_UD : VEC_NONE;
                if (g_fault_vector != want || (want == VEC_NONE && a != 0x76747601)) {
                        if (bad_vmcall < 8)
                                gprintf("attack insn: vmcall raised vector %d, want %d\n",
                                        g_fault_vector, want);
                        bad_vmcall++;
                }
        }
        report("insn-vmcall-random-registers", bad_vmcall == 0);

        /* CPUID with random leaves and subleaves: no fault, the same answer
         * twice, VMX and SMX hidden. */
        uint32_t unstable = 0;
        for (uint32_t r = 0; r < rounds * 8; r++) {
                static const uint32_t bases[] = { 0, 0x40000000, 0x80000000, 0 };
                uint32_t k = rnd() & 3;
                uint32_t leaf = k == 3 ? rnd() : bases[k] + (rnd() & 0x3f);
                uint32_t sub = rnd() & 1 ? rnd() & 0xf : rnd();
                struct cpuid_regs x = cpuid(leaf, sub), y = cpuid(leaf, sub);
                tried += 2;
                if (x.eax != y.eax || x.ebx != y.ebx || x.ecx != y.ecx || x.edx != y.edx) {
                        if (unstable < 8)
                                gprintf("attack insn: cpuid 0x%x.0x%x changed\n", leaf, sub);
                        unstable++;
                }
        }
        report("insn-cpuid-random-stable", unstable == 0);
        struct cpuid_regs l1 = cpuid(1, 0);
        report("insn-cpuid-vmx-smx-hidden", !(l1.ecx & (1u << 5)) && !(l1.ecx & (1u << 6)));

        /* XSETBV: reserved and unsupported XCR0 bits and other XCRs #GP. */
        uint32_t cr4 = read_cr4();
        bool xs_ok = try_write_cr4(cr4 | (1u << 18)) == VEC_NONE; /* OSXSAVE */
        uint64_t xcr0 = 0;
        xs_ok = xs_ok && try_xgetbv(0, &xcr0) == VEC_NONE;
        struct cpuid_regs d = cpuid(0xd, 0);
        uint64_t supported = ((uint64_t)d.edx << 32) | d.eax;
        uint32_t bad_xsetbv = 0;
        for (uint32_t r = 0; r < rounds; r++) {
                uint64_t v;
                uint32_t ecx = 0;
                switch (r & 3) {
                case 0: /* an unsupported bit beside x87 */
                        v = (xcr0 | 1) | ((rnd64() | (1ull << 63)) & ~supported);
                        break;
                case 1: /* x87 missing */
                        v = rnd64() & supported & ~1ull;
                        break;
                case 2: /* another XCR */
                        v = xcr0;
                        ecx = rnd() | 1;
                        break;
                default: /* AVX without SSE */
                        v = 1 | 4;
                        break;
                }
                tried++;
                int vec = try_xsetbv(ecx, v);
                if (vec != VEC_GP) {
                        gprintf("attack insn: xsetbv %u <- 0x%llx raised vector %d\n", ecx, v, vec);
                        bad_xsetbv++;
                }
        }
        uint64_t xcr0_after = 0;
        try_xgetbv(0, &xcr0_after);
        report("insn-xsetbv-reserved-gp", xs_ok && bad_xsetbv == 0 && xcr0_after == xcr0);
        try_write_cr4(cr4);

        /* MOV to CR4 with reserved or host-owned bits (VMXE, SMXE, LA57,
         * bit 15, bits 26-31), MOV to CR0 with invalid combinations. */
        static const uint32_t cr4_bad[] = { 1u << 12, 1u << 13, 1u << 14, 1u << 15, 1u << 26,
                                            1u << 27, 1u << 29, 1u << 30, 1u << 31 };
        uint32_t bad_cr = 0;
        for (uint32_t r = 0; r < rounds; r++) {
                uint32_t bits = cr4_bad[rnd() % 9] | (cr4_bad[rnd() % 9] & rnd());
                tried++;
                int vec = try_write_cr4(cr4 | bits);
                if (vec != VEC_GP) {
                        gprintf("attack insn: mov 0x%x to cr4 raised vector %d\n", cr4 | bits, vec);
                        bad_cr++;
                }
        }
        uint32_t cr0 = read_cr0();
        int v1 = try_write_cr0((cr0 | (1u << 29)) & ~(1u << 30)); /* NW without CD */
        int v2 = try_write_cr0((cr0 | (1u << 31)) & ~1u);         /* PG without PE */
        tried += 2;
        if (v1 != VEC_GP || v2 != VEC_GP) {
                gprintf("attack insn: cr0 NW-without-CD vector %d, PG-without-PE vector %d\n", v1,
                        v2);
                bad_cr++;
        }
        report("insn-cr-reserved-gp", bad_cr == 0 && read_cr4() == cr4 && read_cr0() == cr0);
        gprintf("attack insn: tried %u\n", tried);
}

/* ---- mmio ---- */

/* One generated instruction runs from gen_code with EAX, EDX, EBX, ESI and
 * EDI at the target and ECX small (a REP count); a fault resumes at
 * mmio_recover, which restores the stack and the callee-saved registers. */
static uint8_t gen_code[64] __attribute__((aligned(16)));
uint32_t mmio_saved_esp;
void mmio_run(uint32_t target);
__asm__(".text\n"
        ".global mmio_run\n"
        "mmio_run:\n\t"
        "pushl %ebp\n\tpushl %ebx\n\tpushl %esi\n\tpushl %edi\n\t"
        "movl %esp, mmio_saved_esp\n\t"
        "movl 20(%esp), %ebx\n\t"
        "movl %ebx, %eax\n\tmovl %ebx, %edx\n\tmovl %ebx, %esi\n\tmovl %ebx, %edi\n\t"
        "movl $3, %ecx\n\t"
        "movl $mmio_recover, g_recover\n\t"
        "call gen_code\n"
        "mmio_recover:\n\t"
        "movl $0, g_recover\n\t"
        "movl mmio_saved_esp, %esp\n\t"
        "cld\n\t"
        "popl %edi\n\tpopl %esi\n\tpopl %ebx\n\tpopl %ebp\n\t"
        "ret\n");

/* The forms vtvisor emulates on MMIO (emulate/insn_decode.h: the MOV
 * family), with a ModRM memory operand: one or two opcode bytes, the size
 * of an immediate that follows (4: imm16/32 by operand size), and the
 * ModRM reg field (8: any register, else the /digit). */
struct mmio_op {
        uint8_t op[2], len, imm, reg;
};
static const struct mmio_op mmio_movs[] = {
        { { 0x88 }, 1, 0, 8 },       { { 0x89 }, 1, 0, 8 },       { { 0x8a }, 1, 0, 8 },
        { { 0x8b }, 1, 0, 8 },       { { 0xc6 }, 1, 1, 0 },       { { 0xc7 }, 1, 4, 0 },
        { { 0x0f, 0xb6 }, 2, 0, 8 }, { { 0x0f, 0xb7 }, 2, 0, 8 }, { { 0x0f, 0xbe }, 2, 0, 8 },
        { { 0x0f, 0xbf }, 2, 0, 8 }, { { 0xc6 }, 1, 1, 3 }, /* C6 /3: #UD */
};
/* Forms it does not emulate (read-modify-write, bit tests, exchanges,
 * CMPXCHG, SETcc, CLFLUSH ...): the VM is stopped with a line naming the
 * instruction's bytes. */
static const struct mmio_op mmio_others[] = {
        { { 0x01 }, 1, 0, 8 },       { { 0x03 }, 1, 0, 8 },       { { 0x09 }, 1, 0, 8 },
        { { 0x31 }, 1, 0, 8 },       { { 0x39 }, 1, 0, 8 },       { { 0x85 }, 1, 0, 8 },
        { { 0x87 }, 1, 0, 8 },       { { 0x81 }, 1, 4, 8 },       { { 0x83 }, 1, 1, 8 },
        { { 0xf7 }, 1, 0, 3 },       { { 0xff }, 1, 0, 0 },       { { 0xd1 }, 1, 0, 4 },
        { { 0x0f, 0xab }, 2, 0, 8 }, { { 0x0f, 0xba }, 2, 1, 5 }, { { 0x0f, 0xb1 }, 2, 0, 8 },
        { { 0x0f, 0xc1 }, 2, 0, 8 }, { { 0x0f, 0x94 }, 2, 0, 0 }, { { 0x0f, 0xae }, 2, 0, 7 },
};

/* String operations (no ModRM): MOVS, CMPS, STOS, LODS, SCAS. */
static const uint8_t mmio_string_ops[] = { 0xa4, 0xa5, 0xa6, 0xa7, 0xaa,
                                           0xab, 0xac, 0xad, 0xae, 0xaf };
/* Operand size, LOCK (#UD on MOV), segment overrides (all flat); for the
 * other forms also REP and REPNE, the last two.  (REP on a MOV is
 * reserved, SDM Vol. 2 2.1.1: vtvisor refuses to emulate it.) */
static const uint8_t mmio_prefixes[] = {
        0x66, 0xf0, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0xf3, 0xf2
};

/* A register for the reg field or r/m base: not ESP, EBP or ECX. */
static uint8_t mmio_reg(void)
{
        static const uint8_t r[] = { 0, 2, 3, 6, 7 };
        return r[rnd() % 5];
}

/* One instruction of table ops (n entries) into p, then RET; *moffs_at
 * gets where a moffs address goes (0: none). */
static void mmio_gen(uint8_t *p, const struct mmio_op *ops, uint32_t nops, bool strings,
                     uint32_t *moffs_at)
{
        uint32_t n = 0;
        *moffs_at = 0;
        bool opsize16 = false;
        for (uint32_t k = rnd() % 3; k; k--) {
                p[n] = mmio_prefixes[rnd() % (sizeof(mmio_prefixes) - (strings ? 0 : 2))];
                opsize16 |= p[n++] == 0x66;
        }
        if (strings && rnd() % 2 == 0) {
                p[n++] = mmio_string_ops[rnd() % sizeof(mmio_string_ops)];
        } else if (!strings && rnd() % 16 == 0) {
                /* MOV with a 32-bit absolute address (moffs, A0-A3). */
                p[n++] = (uint8_t)(0xa0 + (rnd() & 3));
                *moffs_at = n;
                n += 4;
        } else {
                const struct mmio_op *o = &ops[rnd() % nops];
                for (unsigned b = 0; b < o->len; b++)
                        p[n++] = o->op[b];
                uint8_t reg = o->reg == 8 ? mmio_reg() : o->reg;
                uint8_t mod = (uint8_t)(rnd() % 3), rm = mmio_reg();
                p[n++] = (uint8_t)((mod << 6) | (reg << 3) | rm);
                if (mod == 1)
                        p[n++] = (uint8_t)(rnd() & 0x7f);
                else if (mod == 2)
                        for (int b = 0; b < 4; b++)
                                p[n++] = (uint8_t)(b ? 0 : rnd() & 0xff);
                /* imm16 instead of imm32 under the operand-size prefix. */
                for (unsigned b = 0; b < (o->imm == 4 && opsize16 ? 2u : o->imm); b++)
                        p[n++] = (uint8_t)rnd();
        }
        p[n] = 0xc3; /* ret */
}

static uint32_t mmio_target(uint32_t ram)
{
        uint32_t target;
        switch (rnd() & 3) {
        case 0:
                target = IOAPIC + (rnd() & 0xff0) + (rnd() & 15);
                break;
        case 1: /* not the ICR: an INIT or STARTUP to itself would end it */
                target = APIC + (rnd() & 0xff0);
                if (target - APIC >= REG_ICR_LO && target - APIC <= REG_ICR_HI + 0xf)
                        target = APIC + REG_ID;
                target += rnd() & 15;
                break;
        case 2:
                target = ECAM + (rnd() & 0xffff0) + (rnd() & 15);
                break;
        default: /* unbacked, just above RAM (or straddling into it) */
                target = ram + (rnd() & 0xfff) - (rnd() & 1 ? 2 : 0);
                break;
        }
        /* Straddle the page's end now and then. */
        if (rnd() % 8 == 0)
                target = (target | 0xfff) - (rnd() & 3);
        return target;
}

static void mmio_run_one(uint32_t target)
{
        fault_arm();
        mmio_run(target);
}

static void attack_mmio(void)
{
        uint32_t rounds = cmdline_number("rounds", 20000);
        uint32_t ram = ram_end();
        gprintf("attack mmio: start: %u MOV-family instructions of random form at the I/O "
                "APIC, local APIC, ECAM and unbacked memory, then one it cannot emulate\n",
                rounds);
        uint32_t tried = 0, faulted = 0, ones_bad = 0;
        uint32_t by_vector[32] = { 0 };
        for (uint32_t r = 0; r < rounds; r++) {
                uint32_t target = mmio_target(ram), moffs;
                mmio_gen(gen_code, mmio_movs, sizeof(mmio_movs) / sizeof(mmio_movs[0]), false,
                         &moffs);
                for (int b = 0; moffs && b < 4; b++)
                        gen_code[moffs + b] = (uint8_t)(target >> (8 * b));
                mmio_run_one(target);
                tried++;
                if (g_fault_vector != VEC_NONE) {
                        faulted++;
                        if (g_fault_vector >= 0 && g_fault_vector < 32)
                                by_vector[g_fault_vector]++;
                }
        }
        /* Unbacked memory still reads all ones and ignores writes. */
        for (uint32_t k = 0; k < 64; k++) {
                volatile uint32_t *u = (volatile uint32_t *)(ram + 0x1000 + (rnd() & 0xffc));
                *u = rnd();
                if (*u != 0xffffffffu)
                        ones_bad++;
        }
        gprintf("attack mmio: faults %u (#UD %u, #GP %u, #PF %u, #AC %u)\n", faulted, by_vector[6],
                by_vector[13], by_vector[14], by_vector[17]);
        report("mmio-unbacked-all-ones", ones_bad == 0);
        report("mmio-lock-mov-ud", by_vector[6] > 0);
        gprintf("attack mmio: tried %u\n", tried);
        /* Then a form vtvisor does not emulate, at a device page: the VM is
         * stopped with a line that names it. */
        uint32_t moffs;
        mmio_gen(gen_code, mmio_others, sizeof(mmio_others) / sizeof(mmio_others[0]), true, &moffs);
        gprintf("attack mmio: unsupported: %02x %02x %02x %02x\n", gen_code[0], gen_code[1],
                gen_code[2], gen_code[3]);
        mmio_run_one(IOAPIC + 0x10);
        report("mmio-unsupported-not-stopped", false);
}

/* ---- mmio-random ---- */

/* Each round runs one instruction of random bytes at CPL 3 with EFLAGS.TF
 * set, from mr_code, with EAX, ECX, EDX, EBX, EBP, ESI and EDI pointed
 * into one device page (ESP at a stack of its own near the top of its RAM).
 * Whatever the instruction does, the single-step #DB after it, or the
 * exception it raises, enters ring 0 on the TSS's stack through this
 * attack's own IDT, records the vector and resumes at mr_recover with the
 * stack and registers mr_run saved: an instruction that jumps away, loads
 * ESP or segment registers, or pushes anywhere cannot reach ring 0's stack,
 * IDT, GDT or TSS.  At CPL 3 with IOPL 0 privileged and I/O instructions
 * #GP (HLT, CLI, OUT to the debug-exit or reset ports would end the VM
 * without telling anything about MMIO). */
#define MR_UCODE 0x1b
#define MR_UDATA 0x23
#define MR_TSS   0x28
#define MR_CODE  32

uint64_t mr_gdt[6] __attribute__((aligned(8)));
uint32_t mr_tss[26] __attribute__((aligned(8)));
uint64_t mr_idt[256] __attribute__((aligned(8)));
uint8_t mr_kstack[4096] __attribute__((aligned(16)));
uint8_t mr_code[MR_CODE + 16] __attribute__((aligned(16)));
/* In: EAX, ECX, EDX, EBX, (ESP), EBP, ESI, EDI; the CPL 3 ESP and EFLAGS.
 * Out: the vector that ended the round, its error code and EIP; a fault
 * in ring 0 (vector, EIP); NMIs taken in ring 0. */
uint32_t mr_regs[8], mr_user_esp, mr_user_eflags, mr_saved_esp;
volatile uint32_t mr_vec, mr_err, mr_eip, mr_k_faults, mr_k_vec, mr_k_eip, mr_k_nmis;
extern const uint32_t mr_stubs[256];
void mr_run(void);
__asm__(".text\n"
        ".global mr_run\n"
        "mr_run:\n\t"
        "pushl %ebp\n\tpushl %ebx\n\tpushl %esi\n\tpushl %edi\n\t"
        "movl %esp, mr_saved_esp\n\t"
        "pushl $0x23\n\t"
        "pushl mr_user_esp\n\t"
        "pushl mr_user_eflags\n\t"
        "pushl $0x1b\n\t"
        "pushl $mr_code\n\t"
        "movw $0x23, %ax\n\t"
        "movw %ax, %ds\n\tmovw %ax, %es\n\tmovw %ax, %fs\n\tmovw %ax, %gs\n\t"
        "movl mr_regs+4, %ecx\n\t"
        "movl mr_regs+8, %edx\n\t"
        "movl mr_regs+12, %ebx\n\t"
        "movl mr_regs+20, %ebp\n\t"
        "movl mr_regs+24, %esi\n\t"
        "movl mr_regs+28, %edi\n\t"
        "movl mr_regs, %eax\n\t"
        "iretl\n"
        /* Every gate: the vector, a dummy error code where the CPU pushes
         * none.  Frame: pushal (32 bytes), vector, error, EIP, CS, EFLAGS. */
        "mr_common:\n\t"
        "pushal\n\t"
        "testb $3, %ss:44(%esp)\n\t"
        "jz 2f\n\t"
        "movw $0x10, %ax\n\t"
        "movw %ax, %ds\n\tmovw %ax, %es\n\tmovw %ax, %fs\n\tmovw %ax, %gs\n\t"
        "movl 32(%esp), %eax\n\tmovl %eax, mr_vec\n\t"
        "movl 36(%esp), %eax\n\tmovl %eax, mr_err\n\t"
        "movl 40(%esp), %eax\n\tmovl %eax, mr_eip\n\t"
        "movl mr_saved_esp, %esp\n\t"
        "jmp mr_recover\n"
        /* From ring 0: an NMI (a random ICR write may send one) returns;
         * anything else is a fault of this code, recorded. */
        "2:\n\t"
        "cmpl $2, %ss:32(%esp)\n\t"
        "jne 3f\n\t"
        "incl %ss:mr_k_nmis\n\t"
        "popal\n\t"
        "addl $8, %esp\n\t"
        "iretl\n"
        "3:\n\t"
        "movw $0x10, %ax\n\t"
        "movw %ax, %ds\n\tmovw %ax, %es\n\tmovw %ax, %fs\n\tmovw %ax, %gs\n\t"
        "incl mr_k_faults\n\t"
        "movl 32(%esp), %eax\n\tmovl %eax, mr_k_vec\n\t"
        "movl 40(%esp), %eax\n\tmovl %eax, mr_k_eip\n\t"
        "movl mr_saved_esp, %esp\n"
        "mr_recover:\n\t"
        "movw $0x10, %ax\n\t"
        "movw %ax, %ds\n\tmovw %ax, %es\n\tmovw %ax, %fs\n\tmovw %ax, %gs\n\t"
        "cld\n\t"
        "popl %edi\n\tpopl %esi\n\tpopl %ebx\n\tpopl %ebp\n\t"
        "ret\n"
        ".altmacro\n"
        ".macro MR_STUB n\n"
        "        .align 8\n"
        "mr_stub_\\n:\n"
        "        .if (\\n == 8) || (\\n >= 10 && \\n <= 14) || (\\n == 17) || (\\n == 21) || "
        "(\\n == 29) || (\\n == 30)\n"
        "        .else\n"
        "        pushl $0\n"
        "        .endif\n"
        "        pushl $\\n\n"
        "        jmp mr_common\n"
        ".endm\n"
        ".macro MR_ADDR n\n"
        "        .long mr_stub_\\n\n"
        ".endm\n"
        ".set mrv, 0\n"
        ".rept 256\n"
        "        MR_STUB %mrv\n"
        "        .set mrv, mrv + 1\n"
        ".endr\n"
        ".section .rodata\n"
        ".align 4\n"
        ".global mr_stubs\n"
        "mr_stubs:\n"
        ".set mrv, 0\n"
        ".rept 256\n"
        "        MR_ADDR %mrv\n"
        "        .set mrv, mrv + 1\n"
        ".endr\n"
        ".noaltmacro\n"
        ".text\n");

static uint64_t mr_seg(uint32_t base, uint32_t limit, uint32_t type_dpl, uint32_t flags)
{
        return (limit & 0xffffu) | ((uint64_t)(base & 0xffffffu) << 16) |
               ((uint64_t)type_dpl << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
               ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

/* Its own GDT (the library's flat 0x08 and 0x10, CPL 3 code and data, a
 * TSS whose ESP0 is mr_kstack and which has no I/O bitmap), and IDT: an
 * interrupt gate (DPL 0: INT n from CPL 3 #GPs) for every vector. */
static void mr_setup(void)
{
        mr_gdt[0] = 0;
        mr_gdt[1] = 0x00cf9b000000ffffull;
        mr_gdt[2] = 0x00cf93000000ffffull;
        mr_gdt[3] = 0x00cffb000000ffffull; /* accessed set: the CPU would set it */
        mr_gdt[4] = 0x00cff3000000ffffull;
        mr_gdt[5] = mr_seg((uint32_t)mr_tss, sizeof(mr_tss) - 1, 0x89, 0);
        memset(mr_tss, 0, sizeof(mr_tss));
        mr_tss[1] = (uint32_t)mr_kstack + sizeof(mr_kstack); /* ESP0 */
        mr_tss[2] = 0x10;                                    /* SS0 */
        mr_tss[25] = (uint32_t)sizeof(mr_tss) << 16;         /* I/O map base: none */
        for (unsigned v = 0; v < 256; v++) {
                uint32_t off = mr_stubs[v];
                mr_idt[v] = (off & 0xffffu) | (0x08u << 16) | (0x8e00ull << 32) |
                            ((uint64_t)(off >> 16) << 48);
        }
        struct {
                uint16_t pad, limit;
                uint32_t base;
        } __attribute__((packed, aligned(4))) g = { 0, sizeof(mr_gdt) - 1, (uint32_t)mr_gdt },
                                              i = { 0, sizeof(mr_idt) - 1, (uint32_t)mr_idt };
        __asm__ volatile("cli\n\tlgdt %0\n\tlidt %1\n\tltr %w2"
                         :
                         : "m"(g.limit), "m"(i.limit), "r"(MR_TSS)
                         : "memory");
}

/* The device pages of a VM, and unbacked memory: each round points its
 * registers into one of them. */
enum { MR_LAPIC, MR_IOAPIC, MR_ECAM, MR_BAR0, MR_BAR1, MR_UNBACKED, MR_KINDS };
static const char *const mr_kind_name[MR_KINDS] = { "local-apic",  "io-apic",     "ecam",
                                                    "virtio-bar0", "virtio-bar1", "unbacked" };
struct mr_page {
        uint32_t base, size;
        unsigned kind;
};
static struct mr_page mr_pages[16];
static unsigned mr_npages;

static void mr_add(uint32_t base, uint32_t size, unsigned kind)
{
        if (mr_npages < sizeof(mr_pages) / sizeof(mr_pages[0]))
                mr_pages[mr_npages++] = (struct mr_page){ base, size, kind };
}

static uint32_t mr_cfg32(unsigned slot, unsigned reg)
{
        outl(0xcf8, 0x80000000u | slot << 11 | reg);
        return inl(0xcfc);
}

/* The virtio functions (00:02.0-00:04.0) and their BARs, through the
 * configuration ports (tests/guest/virtio.c). */
static void mr_find_pages(uint32_t ram)
{
        mr_add(APIC, 0x1000, MR_LAPIC);
        mr_add(IOAPIC, 0x1000, MR_IOAPIC);
        mr_add(ECAM, 0x100000, MR_ECAM);
        for (unsigned slot = 2; slot <= 4; slot++) {
                uint32_t id = mr_cfg32(slot, 0);
                if ((id & 0xffff) != 0x1af4)
                        continue;
                /* Memory decoding and bus mastering on, as a driver does. */
                outl(0xcf8, 0x80000000u | slot << 11 | 4);
                outw(0xcfc, 0x6);
                uint32_t b0 = mr_cfg32(slot, 0x10) & ~0xfu, b1 = mr_cfg32(slot, 0x14) & ~0xfu;
                gprintf("attack mmio-random: 00:%02x.0 virtio %04x: BAR 0 0x%08x, BAR 1 0x%08x\n",
                        slot, id >> 16, b0, b1);
                mr_add(b0, 0x4000, MR_BAR0);
                mr_add(b1, 0x1000, MR_BAR1);
        }
        mr_add(ram, 0x10000, MR_UNBACKED);
        mr_add(0xe0000000u, 0x1000, MR_UNBACKED); /* in the PCI window, no BAR there */
}

/* An address in the page: a random dword, now and then a random byte or
 * the last bytes (straddling into the next page).  Not the local APIC's
 * ICR: an INIT to itself would park its only vCPU. */
static uint32_t mr_addr(const struct mr_page *p)
{
        uint32_t off = rnd() & (p->size - 1);
        if (rnd() % 8 == 0)
                off |= 0xffc;
        else if (rnd() % 2)
                off &= ~3u;
        if (p->kind == MR_LAPIC && off >= REG_ICR_LO && off < REG_ICR_HI + 0x10)
                off = REG_ID;
        return p->base + off;
}

/* Round kinds: MOV-family forms vtvisor emulates (with memory operands),
 * random opcodes with a register ModRM (no explicit memory operand: the
 * CPU handles them itself, or vtvisor for the exits they cause), and, one
 * round in free=N, wholly random bytes (any ModRM: most such instructions
 * vtvisor cannot emulate on MMIO, so one of these ends the run). */
enum { MR_MOV, MR_REG, MR_FREE, MR_RKINDS };

static bool mr_is_prefix(uint8_t b)
{
        return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e ||
               b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

/* Opcodes with a memory operand but no ModRM, at EBP, ESI, EDI or EBX
 * (the device page) or an absolute address: string instructions, XLAT,
 * ENTER, LEAVE, MASKMOVQ, MOV with a moffs.  Left to the MOV rounds
 * (moffs) and the free rounds. */
static bool mr_implicit_mmio(uint8_t op, uint8_t op2)
{
        if (op == 0x0f)
                return op2 == 0xf7;
        return (op >= 0xa0 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf) || op == 0xd7 ||
               op == 0xc8 || op == 0xc9;
}

static void mr_put32(uint8_t *p, uint32_t v)
{
        for (int b = 0; b < 4; b++)
                p[b] = (uint8_t)(v >> (8 * b));
}

/* A random displacement near the register it is added to. */
static uint32_t mr_disp(void)
{
        return (rnd() & 0xfff) - 0x800;
}

/* One instruction of kind k into mr_code (and random bytes after it). */
static void mr_gen(unsigned k, const struct mr_page *pg)
{
        static const uint8_t prefixes[] = { 0x66, 0x2e, 0x36, 0x3e, 0x26, 0x64,
                                            0x65, 0xf0, 0x67, 0xf2, 0xf3 };
        uint8_t *p = mr_code;
        uint32_t n = 0;
        for (uint32_t i = 0; i < sizeof(mr_code); i++)
                p[i] = (uint8_t)rnd();
        /* Prefixes: for MOV no REP/REPNE (reserved there: vtvisor refuses
         * them) and address size only rarely (it leaves the page). */
        for (uint32_t c = rnd() % 4 == 0 ? 1 + rnd() % 2 : 0; c; c--) {
                uint32_t np = k == MR_MOV ? 8 : sizeof(prefixes);
                p[n++] = prefixes[rnd() % np];
        }
        uint8_t op = 0, op2 = 0;
        bool moffs = false;
        if (k == MR_MOV) {
                static const uint8_t movs[][2] = { { 0x88 },       { 0x89 },       { 0x8a },
                                                   { 0x8b },       { 0xc6 },       { 0xc7 },
                                                   { 0x0f, 0xb6 }, { 0x0f, 0xb7 }, { 0x0f, 0xbe },
                                                   { 0x0f, 0xbf }, { 0xa0 },       { 0xa1 },
                                                   { 0xa2 },       { 0xa3 } };
                unsigned m = rnd() % (sizeof(movs) / 2);
                op = movs[m][0];
                op2 = movs[m][1];
                p[n++] = op;
                if (op == 0x0f)
                        p[n++] = op2;
                moffs = op >= 0xa0 && op <= 0xa3;
        } else {
                do {
                        op = (uint8_t)rnd();
                        op2 = (uint8_t)rnd();
                } while (mr_is_prefix(op) || (k == MR_REG && mr_implicit_mmio(op, op2)));
                p[n++] = op;
                if (op == 0x0f) {
                        p[n++] = op2;
                        if ((op2 == 0x38 || op2 == 0x3a))
                                p[n++] = (uint8_t)rnd();
                }
                moffs = op >= 0xa0 && op <= 0xa3;
        }
        if (moffs) {
                /* MOV with an absolute address: the page, not anywhere. */
                mr_put32(p + n, mr_addr(pg));
                return;
        }
        /* ModRM (MOV: a memory operand; reg: a register operand; C6/C7 in
         * MOV rounds: /0, now and then /1-/7, which #UD), SIB, displacement. */
        uint8_t mod = k == MR_REG ? 3 : k == MR_MOV ? (uint8_t)(rnd() % 3) : (uint8_t)(rnd() & 3);
        uint8_t reg = (uint8_t)(rnd() & 7), rm = (uint8_t)(rnd() & 7);
        if (k == MR_MOV && (op == 0xc6 || op == 0xc7) && rnd() % 8)
                reg = 0;
        p[n++] = (uint8_t)(mod << 6 | reg << 3 | rm);
        if (mod == 3)
                return;
        uint8_t base = rm, index = 4;
        if (rm == 4) {
                uint8_t sib = (uint8_t)rnd();
                base = sib & 7;
                index = (sib >> 3) & 7;
                p[n++] = sib;
        }
        if (mod == 1) {
                p[n++] = (uint8_t)rnd();
        } else if (mod == 2) {
                mr_put32(p + n, mr_disp());
                n += 4;
        } else if (base == 5) {
                /* No base register: an absolute address in the page, less
                 * the scaled index (a small displacement after an index
                 * register's value times 4 or 8 can wrap to its own image:
                 * 4 x 0xc0042b81 - 0x771 is 0x10a693). */
                uint32_t idx = index == 4 ? 0 : mr_regs[index] << (p[n - 1] >> 6);
                mr_put32(p + n, mr_addr(pg) - idx);
                n += 4;
        }
}

/* Round outcomes: the vector that ended it (1: the single-step trap after
 * it, or ICEBP), 32 for any vector above 31. */
#define MR_OUT 33
/* Vectors a CPL 3 instruction with paging off can raise: #DE, #DB, NMI (a
 * random ICR write), #BR, #UD, #NM, #NP, #SS, #GP, #MF, #AC, #XM.  #BP and
 * #OF come as #GP (their gates are DPL 0).  Never: #DF, #TS, #PF (no
 * paging), #MC, #VE, #CP, an interrupt (IF stays 0), vectors 9 and 15. */
static bool mr_vector_expected(uint32_t v)
{
        return v < 32 && ((1u << v) & ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6) |
                                       (1u << 7) | (1u << 11) | (1u << 12) | (1u << 13) |
                                       (1u << 16) | (1u << 17) | (1u << 19)));
}

extern char _ro_end[];

/* What random writes cannot change: the image's code and read-only data,
 * its GDT, IDT and TSS (outside CPL 3's reach), kept in a copy. */
#define MR_KEPT 0x20000
static uint8_t mr_kept_copy[MR_KEPT];
static uint32_t mr_kept_len;

static void mr_keep(void)
{
        uint32_t ro = (uint32_t)_ro_end - 0x100000;
        mr_kept_len = ro + sizeof(mr_gdt) + sizeof(mr_idt) + sizeof(mr_tss);
        if (mr_kept_len > MR_KEPT) {
                mr_kept_len = 0;
                return;
        }
        memcpy(mr_kept_copy, (const void *)0x100000, ro);
        memcpy(mr_kept_copy + ro, mr_gdt, sizeof(mr_gdt));
        memcpy(mr_kept_copy + ro + sizeof(mr_gdt), mr_idt, sizeof(mr_idt));
        memcpy(mr_kept_copy + ro + sizeof(mr_gdt) + sizeof(mr_idt), mr_tss, sizeof(mr_tss));
}

/* The bytes that changed since mr_keep (the first few printed). */
static uint32_t mr_kept_changed(void)
{
        uint32_t ro = (uint32_t)_ro_end - 0x100000, bad = 0;
        for (uint32_t i = 0; i < mr_kept_len; i++) {
                const uint8_t *a;
                if (i < ro)
                        a = (const uint8_t *)0x100000 + i;
                else if (i < ro + sizeof(mr_gdt))
                        a = (const uint8_t *)mr_gdt + (i - ro);
                else if (i < ro + sizeof(mr_gdt) + sizeof(mr_idt))
                        a = (const uint8_t *)mr_idt + (i - ro - sizeof(mr_gdt));
                else
                        a = (const uint8_t *)mr_tss + (i - ro - sizeof(mr_gdt) - sizeof(mr_idt));
                if (*a != mr_kept_copy[i] && bad++ < 4)
                        gprintf("attack mmio-random: byte at 0x%08x was 0x%02x, is 0x%02x\n",
                                (uint32_t)a, mr_kept_copy[i], *a);
        }
        return bad + (mr_kept_len == 0);
}

/* Read-only device registers: the local APIC's version, the I/O APIC's
 * version, the vendor and device IDs and class of every PCI function. */
static uint32_t mr_device_sum(void)
{
        uint32_t s = apic_rd(0x30);
        *(volatile uint32_t *)IOAPIC = 1;
        s = s * 31 + *(volatile uint32_t *)(IOAPIC + 0x10);
        for (unsigned slot = 0; slot < 8; slot++)
                s = s * 31 + *(volatile uint32_t *)(ECAM + (slot << 15)) * 7 +
                    (*(volatile uint32_t *)(ECAM + (slot << 15) + 8) >> 8);
        return s;
}

struct mr_counts {
        uint32_t rounds, by_out[MR_OUT], by_page[MR_KINDS], by_kind[MR_RKINDS];
        uint32_t unexpected, ones_bad, state_bad, device_bad, exited;
};

static void mr_print(const struct mr_counts *c)
{
        gprintf("attack mmio-random: round %u: stepped %u, #UD %u, #GP %u, #DE %u, #SS %u, "
                "#NP %u, #BR %u, #NM %u, #MF %u, #AC %u, #XM %u, NMI %u, other %u\n",
                c->rounds, c->by_out[1], c->by_out[6], c->by_out[13], c->by_out[0], c->by_out[12],
                c->by_out[11], c->by_out[5], c->by_out[7], c->by_out[16], c->by_out[17],
                c->by_out[19], c->by_out[2], c->unexpected);
        gprintf("attack mmio-random: round %u: rounds mov %u, reg %u, free %u; local-apic %u, "
                "io-apic %u, ecam %u, virtio-bar0 %u, virtio-bar1 %u, unbacked %u\n",
                c->rounds, c->by_kind[MR_MOV], c->by_kind[MR_REG], c->by_kind[MR_FREE],
                c->by_page[MR_LAPIC], c->by_page[MR_IOAPIC], c->by_page[MR_ECAM],
                c->by_page[MR_BAR0], c->by_page[MR_BAR1], c->by_page[MR_UNBACKED]);
        gprintf("attack mmio-random: round %u: by the clock %u rounds exited to vtvisor\n",
                c->rounds, c->exited);
}

/* How long a round takes with and without an exit (a NOP; a read of the
 * I/O APIC's data register): a round taking longer than half-way between
 * the two is counted as one vtvisor handled (the clock is the guest's TSC:
 * a guide, not a check). */
static uint64_t mr_round_ticks(const uint8_t *code, uint32_t n, uint32_t eax)
{
        memset(mr_code, 0x90, sizeof(mr_code));
        memcpy(mr_code, code, n);
        for (unsigned i = 0; i < 8; i++)
                mr_regs[i] = eax;
        mr_user_eflags = 0x102;
        uint64_t t = rdtsc();
        mr_run();
        return rdtsc() - t;
}

static uint64_t mr_exit_threshold(void)
{
        static const uint8_t nop[] = { 0x90 }, load[] = { 0x8b, 0x00 };
        uint64_t most = 0, least = ~0ull;
        for (unsigned i = 0; i < 8; i++) {
                uint64_t a = mr_round_ticks(nop, 1, 0), b = mr_round_ticks(load, 2, IOAPIC + 0x10);
                most = a > most ? a : most;
                least = b < least ? b : least;
        }
        gprintf("attack mmio-random: a round takes up to 0x%llx TSC ticks without an exit, "
                "0x%llx with one\n",
                most, least);
        return (most + least) / 2;
}

/* The attacker's own checks, reported at round check=N (PASS or FAIL) and
 * at any later progress line only when one fails. */
static void mr_report(const struct mr_counts *c, bool all)
{
        bool ok[4] = { c->unexpected == 0 && mr_k_faults == 0, c->ones_bad == 0, c->state_bad == 0,
                       c->device_bad == 0 };
        static const char *const names[4] = { "mmio-random-vectors-as-hardware",
                                              "mmio-random-unbacked-all-ones",
                                              "mmio-random-attacker-intact",
                                              "mmio-random-device-ids-kept" };
        static bool failed[4];
        for (unsigned i = 0; i < 4; i++) {
                if (all || (!ok[i] && !failed[i]))
                        report(names[i], ok[i]);
                failed[i] |= !ok[i];
        }
}

static void attack_mmio_random(void)
{
        uint32_t rounds = cmdline_number("rounds", 1000000);
        uint32_t check = cmdline_number("check", 1000);
        uint32_t every = cmdline_number("every", 500);
        uint32_t free_one_in = cmdline_number("free", 64);
        uint32_t ram = ram_end();
        gprintf("attack mmio-random: start: %u rounds of one random instruction at CPL 3 with "
                "its registers in a device page, one in %u wholly random, until vtvisor stops "
                "it; checks at round %u\n",
                rounds, free_one_in, check);
        mr_find_pages(ram);
        mr_setup();
        mr_keep();
        uint32_t dev0 = mr_device_sum();
        /* CPL 3's stack, away from everything else (its random pushes and
         * ESP-relative stores land within 64 KiB of it). */
        mr_user_esp = ram - 0x20000;
        uint64_t slow = mr_exit_threshold();
        struct mr_counts c = { 0 };
        uint32_t unb = 0;
        for (unsigned i = 0; i < mr_npages; i++)
                if (mr_pages[i].kind == MR_UNBACKED)
                        unb = mr_pages[i].base;
        for (uint32_t r = 0; r < rounds; r++) {
                const struct mr_page *pg = &mr_pages[rnd() % mr_npages];
                unsigned k = rnd() % free_one_in == 0 ? MR_FREE : rnd() % 2 ? MR_MOV : MR_REG;
                for (unsigned i = 0; i < 8; i++)
                        mr_regs[i] = mr_addr(pg);
                mr_gen(k, pg);
                /* TF, and random arithmetic flags and DF (IF stays 0). */
                mr_user_eflags = 0x102 | (rnd() & 0xcd5);
                if (k == MR_FREE)
                        gprintf("attack mmio-random: round %u: free at %s 0x%08x: %02x %02x %02x "
                                "%02x %02x %02x\n",
                                r, mr_kind_name[pg->kind], mr_regs[0], mr_code[0], mr_code[1],
                                mr_code[2], mr_code[3], mr_code[4], mr_code[5]);
                mr_vec = 0xffffffffu;
                uint64_t t0 = rdtsc();
                mr_run();
                c.exited += rdtsc() - t0 > slow;
                c.rounds++;
                c.by_kind[k]++;
                c.by_page[pg->kind]++;
                c.by_out[mr_vec < 32 ? mr_vec : 32]++;
                if (!mr_vector_expected(mr_vec)) {
                        if (c.unexpected++ < 8)
                                gprintf("attack mmio-random: round %u: vector %d error 0x%x at "
                                        "0x%08x\n",
                                        r, (int)mr_vec, mr_err, mr_eip);
                }
                if (mr_k_faults && mr_k_faults < 8)
                        gprintf("attack mmio-random: round %u: fault %u at 0x%08x in ring 0\n", r,
                                mr_k_vec, mr_k_eip);
                if (r % 64 == 63 && *(volatile uint32_t *)(unb + (rnd() & 0xffc)) != 0xffffffffu)
                        c.ones_bad++;
                if ((r + 1) % every == 0 || r + 1 == check) {
                        c.state_bad += mr_kept_changed() != 0;
                        c.device_bad += mr_device_sum() != dev0;
                        mr_print(&c);
                        mr_report(&c, r + 1 == check);
                }
        }
        mr_print(&c);
        mr_report(&c, false);
        gprintf("attack mmio-random: tried %u; no stop: one instruction it cannot emulate now\n",
                c.rounds);
        uart_drain();
        __asm__ volatile("addl %%eax, (%0)" : : "r"(IOAPIC + 0x10), "a"(1) : "memory");
        report("mmio-random-unsupported-not-stopped", false);
}

/* ---- long-mode: IA-32e mode entered by the attacker itself ---- */

/* tests/hostile/longmode.S: lm_run(group) enters IA-32e mode, runs one
 * group of tests and comes back to 32-bit protected mode; lm_res[] holds
 * what each test saw (a vector, -1 for none, or a value). */
enum lm_slot {
        S_LMA,
        S_CS,
        S_CR8_RES0,
        S_CR8_RES1,
        S_CR8_RES2,
        S_CR8_AFTER,
        S_CR8_FROM_TPR,
        S_U_WCR8,
        S_U_RCR8,
        S_U_SWAPGS,
        S_SWAPGS,
        S_GS_AFTER,
        S_KGS_AFTER,
        S_WRMSR_NOT_GP,
        S_WRMSR_CHANGED,
        S_NC_READ,
        S_NC_WRITE,
        S_NC_STRADDLE,
        S_NC_RBP,
        S_NC_PUSH,
        S_NC_JMP,
        S_NC_JMP_RIP,
        S_CR4_NOT_GP,
        S_CR4_PAE,
        S_CR4_PCIDE,
        S_CR4_AFTER,
        S_CR4_BEFORE,
        S_CR0_HIGH,
        S_CR0_PG,
        S_CR0_AFTER,
        S_CR0_BEFORE,
        S_IRET_NC,
        S_IRET_NC_RIP,
        S_IRET_NC_U,
        S_EFER_NOT_GP,
        S_EFER_AFTER,
        S_EFER_BEFORE,
        S_SC_UD,
        S_SC_VEC,
        S_SC_CS,
        S_SC_SS,
        S_SC_RCX,
        S_SC_RCX_WANT,
        S_SC_R11,
        S_SCH_VEC,
        S_SCH_CS,
        S_SCH_SS,
        S_SR_NC,
        S_SR_NC_CS,
        S_SR_VEC,
        S_SR_FRAME_CS,
        S_SR_CS,
        S_SR_SS,
        S_SRH_VEC,
        S_SRH_FRAME_CS,
        S_SRH_CS,
        S_SRH_SS,
        S_CR3_NOT_GP,
        S_CR3_AFTER,
        S_CR3_TRIED,
        S_CR8_IRQ,
        S_ST8_LOAD,
        S_ST8_FS,
        S_ST8_STORE,
};
void lm_run(uint32_t group);
extern volatile int64_t lm_res[64];
extern volatile uint64_t lm_cr8_back[16], lm_tpr[16];
extern uint8_t lm_gdtr[6], lm_idtr[6], lm_tss[104];
extern uint32_t lm_cr3, lm_maxphy, lm_ramend;
extern volatile uint32_t lm_fatal;
extern volatile uint64_t lm_fatal_rip;
extern const uint32_t lm_stubs[32];

static uint64_t lm_pml4[512] __attribute__((aligned(4096)));
static uint64_t lm_pdpt[512] __attribute__((aligned(4096)));
static uint64_t lm_pd[4][512] __attribute__((aligned(4096)));
static uint64_t lm_gdt[10] __attribute__((aligned(8)));
static uint64_t lm_idt[64] __attribute__((aligned(16)));

/* Page tables mapping the first 4 GiB 1:1 with 2 MiB pages, user
 * accessible (its CPL 3 tests run its own code); a GDT with 32-bit and
 * 64-bit code, CPL 3 segments in the order SYSRET wants and a TSS (its IST
 * 1 stack set by lm_run); an IDT of 64-bit interrupt gates, all on IST 1.
 * Rebuilt before each group: LTR marks the TSS busy. */
static void lm_setup(void)
{
        lm_pml4[0] = (uint32_t)lm_pdpt | 7;
        for (uint32_t i = 0; i < 4; i++) {
                lm_pdpt[i] = (uint32_t)lm_pd[i] | 7;
                for (uint32_t j = 0; j < 512; j++)
                        lm_pd[i][j] = ((uint64_t)(i * 512 + j) << 21) | 0x87;
        }
        lm_gdt[0] = 0;
        lm_gdt[1] = 0x00cf9b000000ffffull; /* 0x08 code32 */
        lm_gdt[2] = 0x00cf93000000ffffull; /* 0x10 data */
        lm_gdt[3] = 0x00af9b000000ffffull; /* 0x18 code64 */
        lm_gdt[4] = 0x00cf93000000ffffull; /* 0x20 data: SYSCALL's SS */
        lm_gdt[5] = 0x00cffb000000ffffull; /* 0x28 user code32 */
        lm_gdt[6] = 0x00cff3000000ffffull; /* 0x30 user data */
        lm_gdt[7] = 0x00affb000000ffffull; /* 0x38 user code64 */
        lm_gdt[8] = mr_seg((uint32_t)lm_tss, sizeof(lm_tss) - 1, 0x89, 0);
        lm_gdt[9] = 0;
        for (unsigned v = 0; v < 32; v++) {
                uint32_t off = lm_stubs[v];
                lm_idt[2 * v] = (off & 0xffffu) | (0x18u << 16) | (1ull << 32) | (0x8eull << 40) |
                                ((uint64_t)(off >> 16) << 48);
                lm_idt[2 * v + 1] = 0;
        }
        uint16_t gl = sizeof(lm_gdt) - 1, il = sizeof(lm_idt) - 1;
        uint32_t gb = (uint32_t)lm_gdt, ib = (uint32_t)lm_idt;
        memcpy(lm_gdtr, &gl, 2);
        memcpy(lm_gdtr + 2, &gb, 4);
        memcpy(lm_idtr, &il, 2);
        memcpy(lm_idtr + 2, &ib, 4);
        lm_cr3 = (uint32_t)lm_pml4;
}

static bool lm_group(uint32_t g)
{
        lm_setup();
        lm_fatal = 0;
        lm_run(g);
        bool back = read_cr0() & 1 && !(read_cr0() & (1u << 31)) && !(read_cr4() & (1u << 5));
        uint64_t efer = 0;
        try_rdmsr(0xc0000080, &efer);
        back = back && !(efer & 0x500);
        if (lm_fatal)
                gprintf("attack long-mode: group %u: unexpected vector %u at rip 0x%llx\n", g,
                        lm_fatal - 1, lm_fatal_rip);
        return report(g == 0   ? "long-mode-back-in-32-bit-mode-0"
                      : g == 1 ? "long-mode-back-in-32-bit-mode-1"
                               : "long-mode-back-in-32-bit-mode-2",
                      back && !lm_fatal);
}

/* slot == want, or print both. */
static bool lm_is(enum lm_slot s, int64_t want, const char *what)
{
        if (lm_res[s] == want)
                return true;
        gprintf("attack long-mode: %s: 0x%llx, want 0x%llx\n", what, (uint64_t)lm_res[s],
                (uint64_t)want);
        return false;
}

static void attack_long_mode(void)
{
        lm_maxphy = 36;
        if (cpuid(0x80000000, 0).eax >= 0x80000008)
                lm_maxphy = cpuid(0x80000008, 0).eax & 0xff;
        bool lm = cpuid(0x80000000, 0).eax >= 0x80000001 && (cpuid(0x80000001, 0).edx >> 29) & 1;
        gprintf("attack long-mode: start: IA-32e mode by itself (CPUID LM %u, MAXPHYADDR %u): "
                "CR8, CPL 3, SWAPGS, SYSCALL/SYSRET, non-canonical MSRs, memory, RIP, CR0/CR3/CR4 "
                "and EFER writes\n",
                lm, lm_maxphy);
        if (!report("long-mode-offered", lm))
                return;
        uint32_t tried = 0;

        /* Group 0.  The last 8 bytes of RAM: a0 a1 ... a7 (the 8-byte
         * straddles read and write them). */
        lm_ramend = ram_end();
        volatile uint8_t *tail = (volatile uint8_t *)(lm_ramend - 8);
        for (unsigned i = 0; i < 8; i++)
                tail[i] = (uint8_t)(0xa0 + i);
        memset((void *)lm_res, 0, sizeof(lm_res));
        lm_group(0);
        tried += 63;
        report("long-mode-entered",
               lm_is(S_LMA, 0x500, "EFER (LME, LMA; SCE, NXE off)") & lm_is(S_CS, 0x18, "CS"));
        /* CR8 (SDM 10.8.6.1; MOV CR: #GP for a reserved CR8 bit). */
        report("long-mode-cr8-reserved-gp",
               lm_is(S_CR8_RES0, VEC_GP, "mov 0x10 to cr8") &
                   lm_is(S_CR8_RES1, VEC_GP, "mov bit 63 to cr8") &
                   lm_is(S_CR8_RES2, VEC_GP, "mov -11 to cr8") &
                   lm_is(S_CR8_AFTER, 7, "cr8 after the refused writes"));
        uint32_t cr8_bad = 0;
        for (uint32_t v = 0; v < 16; v++) {
                if (lm_cr8_back[v] != v || lm_tpr[v] != v << 4) {
                        gprintf("attack long-mode: cr8 %u reads back 0x%llx, TPR 0x%llx\n", v,
                                lm_cr8_back[v], lm_tpr[v]);
                        cr8_bad++;
                }
        }
        report("long-mode-cr8-is-tpr", cr8_bad == 0);
        report("long-mode-tpr-write-shows-in-cr8", lm_is(S_CR8_FROM_TPR, 5, "cr8 after TPR 0x5a"));
        report("long-mode-cpl3-cr8-swapgs-gp", lm_is(S_U_WCR8, VEC_GP, "cpl 3 mov to cr8") &
                                                   lm_is(S_U_RCR8, VEC_GP, "cpl 3 mov from cr8") &
                                                   lm_is(S_U_SWAPGS, VEC_GP, "cpl 3 swapgs"));
        report("long-mode-swapgs", lm_is(S_SWAPGS, VEC_NONE, "swapgs") &
                                       lm_is(S_GS_AFTER, 0x2222000, "GS base after swapgs") &
                                       lm_is(S_KGS_AFTER, 0x1111000, "KERNEL_GS_BASE after"));
        report("long-mode-wrmsr-noncanonical-gp",
               lm_is(S_WRMSR_NOT_GP, 0, "non-canonical WRMSRs without #GP") &
                   lm_is(S_WRMSR_CHANGED, 0, "MSRs changed by them"));
        report("long-mode-noncanonical-access-gp-ss",
               lm_is(S_NC_READ, VEC_GP, "read at 0x800000000000") &
                   lm_is(S_NC_WRITE, VEC_GP, "write at 0xffff7ffffffff000") &
                   lm_is(S_NC_STRADDLE, VEC_GP, "read at 0x7ffffffffffc, 8 bytes") &
                   lm_is(S_NC_RBP, 12, "read at 0x800000000000 through RBP") &
                   lm_is(S_NC_PUSH, 12, "push with RSP 0x800000000008") &
                   lm_is(S_NC_JMP, VEC_GP, "jmp to 0x800000000000") &
                   (lm_res[S_NC_JMP_RIP] != (int64_t)0x800000000000ull));
        /* 8 bytes across RAM's end: the RAM bytes, then all ones; a store
         * writes its five RAM bytes and nothing below them. */
        bool tail_ok = true;
        static const uint8_t tail_want[8] = { 0xa0, 0xa1, 0xa2, 0x11, 0x22, 0x33, 0x44, 0x55 };
        for (unsigned i = 0; i < 8; i++)
                tail_ok &= tail[i] == tail_want[i];
        report("long-mode-straddle-8-bytes",
               lm_is(S_ST8_LOAD, (int64_t)0xffffffffffa7a6a5ull, "8 bytes at RAM's end - 3") &
                   lm_is(S_ST8_FS, (int64_t)0xffffffffffa7a6a5ull,
                         "the same through FS and r12 + r13 * 4 - 3") &
                   lm_is(S_ST8_STORE, VEC_NONE, "store of 8 bytes at RAM's end - 5") & tail_ok);
        report("long-mode-cr4-cr0-reserved-gp",
               lm_is(S_CR4_NOT_GP, 0, "CR4 writes with a reserved bit without #GP") &
                   lm_is(S_CR4_PCIDE, VEC_GP, "CR4.PCIDE with CR3[11:0] 8") &
                   lm_is(S_CR4_AFTER, lm_res[S_CR4_BEFORE], "CR4 after") &
                   lm_is(S_CR0_HIGH, VEC_GP, "CR0 bit 32") &
                   lm_is(S_CR0_AFTER, lm_res[S_CR0_BEFORE], "CR0 after"));
        report("long-mode-cr4-pae-clear-gp", lm_is(S_CR4_PAE, VEC_GP, "CR4.PAE cleared"));
        report("long-mode-cr0-pg-clear-gp", lm_is(S_CR0_PG, VEC_GP, "CR0.PG cleared in 64-bit"));
        report("long-mode-iretq-noncanonical-gp",
               lm_is(S_IRET_NC, VEC_GP, "iretq to 0x800000000000") &
                   lm_is(S_IRET_NC_RIP, 0, "its #GP's RIP less the IRETQ's") &
                   lm_is(S_IRET_NC_U, VEC_GP, "iretq to CPL 3 at 0xffff7ffffffff000"));
        report("long-mode-efer-gp", lm_is(S_EFER_NOT_GP, 0, "EFER writes without #GP") &
                                        lm_is(S_EFER_AFTER, lm_res[S_EFER_BEFORE], "EFER after"));

        /* A pause in 32-bit mode: the companion, on the same CPU, ticks
         * during the attack (the case checks it). */
        uint64_t worst = 0;
        spin_until_tsc(rdtsc() + 50000000, &worst);

        /* Group 1: SYSCALL and SYSRET. */
        memset((void *)lm_res, 0, sizeof(lm_res));
        lm_group(1);
        tried += 6;
        report("long-mode-syscall-without-sce-ud", lm_is(S_SC_UD, VEC_UD, "syscall, SCE 0"));
        report("long-mode-syscall", lm_is(S_SC_VEC, VEC_NONE, "syscall") &
                                        lm_is(S_SC_CS, 0x18, "syscall's CS") &
                                        lm_is(S_SC_SS, 0x20, "syscall's SS") &
                                        lm_is(S_SC_RCX, lm_res[S_SC_RCX_WANT], "syscall's RCX") &
                                        ((lm_res[S_SC_R11] & 2) != 0));
        report("long-mode-syscall-hostile-star",
               lm_is(S_SCH_VEC, VEC_NONE, "syscall, STAR 0xfff8") &
                   lm_is(S_SCH_CS, 0xfff8, "its CS") & lm_is(S_SCH_SS, 0, "its SS"));
        report("long-mode-sysret-noncanonical-gp",
               lm_is(S_SR_NC, VEC_GP, "sysret to 0x800000000000") &
                   lm_is(S_SR_NC_CS, 0x18, "its #GP's CS (CPL 0)"));
        report("long-mode-sysret-cpl3", lm_is(S_SR_VEC, VEC_GP, "sysret, then hlt at CPL 3") &
                                            lm_is(S_SR_FRAME_CS, 0x3b, "the #GP's CS") &
                                            lm_is(S_SR_CS, 0x3b, "CS at CPL 3") &
                                            lm_is(S_SR_SS, 0x33, "SS at CPL 3"));
        report("long-mode-sysret-hostile-star",
               lm_is(S_SRH_VEC, VEC_GP, "sysret, STAR 0xfff0, then hlt") &
                   lm_is(S_SRH_FRAME_CS, 3, "the #GP's CS") & lm_is(S_SRH_CS, 3, "CS at CPL 3") &
                   lm_is(S_SRH_SS, 0xfffb, "SS at CPL 3"));

        /* Group 2: CR3 bits at and above MAXPHYADDR. */
        memset((void *)lm_res, 0, sizeof(lm_res));
        lm_group(2);
        tried += (uint32_t)lm_res[S_CR3_TRIED];
        report("long-mode-cr3-above-maxphyaddr-gp",
               lm_res[S_CR3_TRIED] == 63 - lm_maxphy &&
                   lm_is(S_CR3_NOT_GP, 0, "CR3 writes above MAXPHYADDR without #GP") &
                       lm_is(S_CR3_AFTER, lm_cr3, "CR3 after"));
        gprintf("attack long-mode: tried %u\n", tried);
}

/* ---- storm ---- */

static volatile uint32_t self_received;

static void storm_irq(uint32_t vector)
{
        if (vector == VEC_SELF)
                self_received++;
        apic_wr(REG_EOI, 0);
}

static void attack_storm(void)
{
        uint32_t ncpuid = cmdline_number("cpuid", 1000000), nipi = cmdline_number("ipis", 20000);
        gprintf("attack storm: start: %u CPUID exits, %u self-IPIs, INIT/SIPI/NMI to absent "
                "APIC IDs\n",
                ncpuid, nipi);
        uint32_t tried = 0;

        struct cpuid_regs first = cpuid(0, 0);
        uint32_t differ = 0;
        for (uint32_t i = 0; i < ncpuid; i++) {
                struct cpuid_regs r = cpuid(0, 0);
                if (r.eax != first.eax || r.ebx != first.ebx)
                        differ++;
        }
        tried += ncpuid;
        gprintf("attack storm: %u CPUID exits done\n", ncpuid);
        report("storm-cpuid-stable", differ == 0);

        /* Self-IPI storm, interrupts on, each EOIed by the handler. */
        uint32_t me = apic_rd(REG_ID) >> 24;
        apic_wr(REG_SVR, 0x1ff);
        g_irq_hook = storm_irq;
        __asm__ volatile("sti");
        for (uint32_t i = 0; i < nipi; i++) {
                apic_wr(REG_ICR_HI, 0);
                apic_wr(REG_ICR_LO, (1u << 18) | VEC_SELF); /* shorthand self, fixed */
        }
        tried += nipi;
        for (volatile uint32_t i = 0; i < 100000; i++)
                ;
        __asm__ volatile("cli");
        gprintf("attack storm: %u self-IPIs sent, %u received\n", nipi, self_received);
        report("storm-self-ipis-delivered", self_received > 0 && self_received <= nipi);

        /* INIT, SIPI and NMI to every APIC ID that is not its own (it has
         * one vCPU), physical mode, and to all-excluding-self. */
        uint32_t before = self_received;
        gprintf("attack storm: INIT, SIPI, NMI to APIC IDs 0-254 but 0x%x, physical\n", me);
        uart_drain();
        __asm__ volatile("sti");
        for (uint32_t id = 0; id < 255; id++) {
                if (id == me)
                        continue;
                static const uint32_t modes[] = { 5u << 8 | 1u << 14, 6u << 8 | 0x9a, 4u << 8 };
                for (unsigned m = 0; m < 3; m++) {
                        apic_wr(REG_ICR_HI, id << 24);
                        apic_wr(REG_ICR_LO, modes[m] | (rnd() & 0xff & (m == 1 ? 0xff : 0)));
                        tried++;
                }
        }
        /* All excluding self: nobody else is there. */
        gprintf("attack storm: INIT, SIPI, NMI to all excluding self\n");
        uart_drain();
        apic_wr(REG_ICR_LO, 3u << 18 | 5u << 8 | 1u << 14);
        apic_wr(REG_ICR_LO, 3u << 18 | 6u << 8 | 0x9a);
        apic_wr(REG_ICR_LO, 3u << 18 | 4u << 8);
        /* Logical destination no APIC has (its LDR is 0; 0xff would be a
         * broadcast, which includes itself). */
        gprintf("attack storm: NMI to logical destination 0x80 (its LDR is 0)\n");
        uart_drain();
        apic_wr(REG_ICR_HI, 0x80u << 24);
        apic_wr(REG_ICR_LO, 1u << 11 | 4u << 8);
        tried += 4;
        for (volatile uint32_t i = 0; i < 100000; i++)
                ;
        __asm__ volatile("cli");
        report("storm-absent-targets-nothing-delivered", self_received == before);
        gprintf("attack storm: tried %u\n", tried);
        report("storm-attacker-survived", true);
}

/* ---- cpuid-storm ---- */

static void attack_cpuid_storm(void)
{
        static const uint32_t leaves[] = { 0,          1,          7,          0xb,
                                           0x40000000, 0x80000000, 0x80000001, 0x80000008 };
        enum { NLEAVES = sizeof(leaves) / sizeof(leaves[0]) };
        uint32_t n = cmdline_number("cpuid", 10000000);
        gprintf("attack cpuid-storm: start: %u CPUID exits, leaves 0, 1, 7, 0xb, 0x40000000, "
                "0x80000000, 0x80000001, 0x80000008 in turn\n",
                n);
        struct cpuid_regs first[NLEAVES];
        for (unsigned k = 0; k < NLEAVES; k++)
                first[k] = cpuid(leaves[k], 0);
        uint32_t differ = 0;
        uint64_t t0 = rdtsc();
        for (uint32_t i = 0; i < n; i++) {
                unsigned k = i % NLEAVES;
                struct cpuid_regs r = cpuid(leaves[k], 0);
                if (r.eax != first[k].eax || r.ebx != first[k].ebx || r.ecx != first[k].ecx ||
                    r.edx != first[k].edx) {
                        if (differ < 8)
                                gprintf("attack cpuid-storm: exit %u: leaf 0x%x changed\n", i,
                                        leaves[k]);
                        differ++;
                }
                if ((i + 1) % 1000000 == 0)
                        gprintf("attack cpuid-storm: %u exits done\n", i + 1);
        }
        gprintf("attack cpuid-storm: %u exits in 0x%llx TSC ticks, %u answers changed\n", n,
                rdtsc() - t0, differ);
        gprintf("attack cpuid-storm: tried %u\n", n);
        report("cpuid-storm-stable", differ == 0);
        report("cpuid-storm-attacker-survived", true);
}

/* ---- self-ipi ---- */

#define ICR_FIXED      (0u << 8)
#define ICR_LOWEST     (1u << 8)
#define ICR_SMI        (2u << 8)
#define ICR_NMI        (4u << 8)
#define ICR_INIT       (5u << 8)
#define ICR_STARTUP    (6u << 8)
#define ICR_LOGICAL    (1u << 11)
#define ICR_ASSERT     (1u << 14)
#define ICR_LEVEL      (1u << 15)
#define ICR_SELF       (1u << 18)
#define ICR_ALL        (2u << 18)
#define REG_LDR        0xd0
#define REG_DFR        0xe0
#define REG_ESR        0x280
#define ESR_ILLEGAL_TX (1u << 5)

/* Sends ICR (destination dest) n times with interrupts on; returns how
 * many VEC_SELF interrupts arrived. */
static uint32_t self_ipi_burst(uint32_t dest, uint32_t lo, uint32_t n)
{
        uint32_t before = self_received;
        __asm__ volatile("sti");
        for (uint32_t i = 0; i < n; i++) {
                apic_wr(REG_ICR_HI, dest << 24);
                apic_wr(REG_ICR_LO, lo);
        }
        for (volatile uint32_t i = 0; i < 20000; i++)
                ;
        __asm__ volatile("cli");
        return self_received - before;
}

/* Sends an NMI IPI to APIC ID `me` and waits for it: the NMI handler
 * resumes at the recovery point.  Returns the vector caught. */
static int self_nmi(uint32_t me)
{
        uint32_t spins = 200000;
        apic_wr(REG_ICR_HI, me << 24);
        fault_arm();
        __asm__ volatile(TRY_BEGIN "movl %1, (%2)\n"
                                   "2:\n\tpause\n\tdecl %0\n\tjnz 2b" TRY_END
                         : "+r"(spins)
                         : "r"(ICR_NMI | ICR_ASSERT), "r"(APIC + REG_ICR_LO)
                         : "memory");
        return g_fault_vector;
}

static void attack_self_ipi(void)
{
        uint32_t n = cmdline_number("ipis", 2000);
        uint32_t me = apic_rd(REG_ID) >> 24;
        gprintf("attack self-ipi: start: fixed, lowest-priority, NMI, STARTUP and INIT IPIs to "
                "itself (APIC ID %u, xAPIC), %u of each fixed kind\n",
                me, n);
        uint32_t tried = 0;
        apic_wr(REG_SVR, 0x1ff);
        g_irq_hook = storm_irq;

        /* Fixed: to its own APIC ID, the self shorthand, all including
         * self, its logical ID (flat model), lowest priority to itself. */
        apic_wr(REG_DFR, 0xffffffffu);
        apic_wr(REG_LDR, 0x01000000u);
        static const struct {
                const char *what;
                uint32_t dest, lo;
        } kinds[] = {
                { "fixed-physical", 0, ICR_FIXED | ICR_ASSERT | VEC_SELF },
                { "fixed-shorthand-self", 0, ICR_SELF | ICR_FIXED | ICR_ASSERT | VEC_SELF },
                { "fixed-all-including-self", 0, ICR_ALL | ICR_FIXED | ICR_ASSERT | VEC_SELF },
                { "fixed-logical", 1, ICR_LOGICAL | ICR_FIXED | ICR_ASSERT | VEC_SELF },
                { "lowest-priority-physical", 0, ICR_LOWEST | ICR_ASSERT | VEC_SELF },
        };
        for (unsigned k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
                uint32_t dest = k == 0 || k == 4 ? me : kinds[k].dest;
                uint32_t got = self_ipi_burst(dest, kinds[k].lo, n);
                tried += n;
                gprintf("attack self-ipi: %s: %u sent, %u received\n", kinds[k].what, n, got);
                char name[48] = "self-ipi-";
                memcpy(name + 9, kinds[k].what, gstrlen(kinds[k].what) + 1);
                report(name, got > 0 && got <= n);
        }

        /* An illegal vector (below 16): the send is refused, ESR says so. */
        apic_wr(REG_ESR, 0);
        uint32_t got = self_ipi_burst(me, ICR_FIXED | ICR_ASSERT | 3, 1);
        apic_wr(REG_ESR, 0);
        uint32_t esr = apic_rd(REG_ESR);
        tried++;
        gprintf("attack self-ipi: fixed vector 3: %u received, ESR 0x%x\n", got, esr);
        report("self-ipi-illegal-vector-refused", got == 0 && (esr & ESR_ILLEGAL_TX));

        /* NMI to its own APIC ID: taken by its NMI handler (vector 2). */
        uint32_t nmis = 0, other = 0;
        for (uint32_t i = 0; i < 100; i++) {
                int v = self_nmi(me);
                tried++;
                if (v == 2)
                        nmis++;
                else if (other++ < 4)
                        gprintf("attack self-ipi: NMI to itself: vector %d\n", v);
        }
        gprintf("attack self-ipi: NMI to itself: 100 sent, %u taken\n", nmis);
        report("self-ipi-nmi-taken", nmis == 100);

        /* STARTUP to itself: it is not waiting for SIPI, so it is ignored
         * (SDM 8.4.3).  INIT level de-assert: ignored since the Pentium 4
         * (SDM 11.6.1).  Either would end the attacker, or restart it at
         * 0x9a000 in real mode (where nothing is). */
        gprintf("attack self-ipi: STARTUP (vector 0x9a) and INIT level de-assert to itself\n");
        uart_drain();
        apic_wr(REG_ICR_HI, me << 24);
        apic_wr(REG_ICR_LO, ICR_STARTUP | ICR_ASSERT | 0x9a);
        apic_wr(REG_ICR_LO, ICR_INIT | ICR_LEVEL);
        tried += 2;
        for (volatile uint32_t i = 0; i < 100000; i++)
                ;
        report("self-ipi-startup-and-deassert-ignored", true);

        /* Last, INIT to itself: the vCPU waits for a STARTUP nobody will
         * send (vtvisor parks it; the case stops it). */
        tried++;
        gprintf("attack self-ipi: tried %u\n", tried);
        gprintf("attack self-ipi: INIT to itself now\n");
        uart_drain();
        apic_wr(REG_ICR_HI, me << 24);
        apic_wr(REG_ICR_LO, ICR_INIT | ICR_ASSERT);
        for (volatile uint32_t i = 0; i < 1000000; i++)
                ;
        report("self-ipi-init-parked", false);
}

/* ---- smp-ipi: IPIs with two vCPUs, xAPIC and x2APIC, INIT to its AP ---- */

/* The AP (APIC ID 1) is started, and restarted, through a real-mode
 * trampoline copied to four pages below 1 MiB (SIPI vectors 0x09-0x0c):
 * each copy counts its entries and records the CS and IP it ran at, then
 * enters 32-bit code in the image, which calls smp_ipi_ap_main on the
 * AP's own stack.  Only the BSP prints; the AP runs work the BSP posts
 * (a function pointer and a kick IPI, as an OS's smp_call_function). */
#define SI_TRAMP       0x9000u
#define SI_COPIES      4u
#define SI_VEC0        (SI_TRAMP >> 12)
#define SI_AP_STACK    8192u
#define MSR_APIC_BASE  0x1bu
#define MSR_X2_ID      0x802u
#define MSR_X2_EOI     0x80bu
#define MSR_X2_LDR     0x80du
#define MSR_X2_SVR     0x80fu
#define MSR_X2_ESR     0x828u
#define MSR_X2_ICR     0x830u
#define MSR_X2_ICR_HI  0x831u
#define MSR_X2_SELF    0x83fu
#define BASE_BSP       (1u << 8)
#define BASE_EXTD      (1u << 10)
#define BASE_EN        (1u << 11)
#define SI_VEC_AP      0x41 /* to the AP */
#define SI_VEC_BSP     0x42 /* to the BSP */
#define SI_VEC_ME      0x43 /* to the sender itself */
#define SI_VEC_PROBE   0x44 /* to targets that do not exist */
#define SI_VEC_KICK    0xf0
#define SI_VEC_SPUR    0xff
#define ICR_OTHERS     (3u << 18)
#define SI_VIA_SELFMSR (1u << 31) /* si_send: through the SELF IPI MSR */
#define SI_WAIT        200000000ull
#define SI_SETTLE      2000000ull

__asm__(".pushsection .text.si_tramp, \"ax\"\n"
        ".code16\n"
        ".global si_tramp_start, si_tramp_end, si_tr_entries, si_tr_cs, si_tr_ip\n"
        "si_tramp_start:\n"
        "        cli\n"
        "        cld\n"
        "        movw %cs, %ax\n"
        "        movw %ax, %ds\n"
        "        movw %ax, %ss\n"
        "        movw $(si_tr_stack_top - si_tramp_start), %sp\n"
        "        lock incw (si_tr_entries - si_tramp_start)\n"
        "        movw %cs, %ax\n"
        "        movw %ax, (si_tr_cs - si_tramp_start)\n"
        "        call 1f\n"
        "1:      popw %ax\n"
        "        subw $(1b - si_tramp_start), %ax\n"
        "        movw %ax, (si_tr_ip - si_tramp_start)\n"
        "        lgdtl (si_tr_gdtdesc - si_tramp_start)\n"
        "        movl %cr0, %eax\n"
        "        orl $1, %eax\n"
        "        movl %eax, %cr0\n"
        "        ljmpl $0x08, $si_ap_pm32\n"
        "        .balign 8\n"
        "        .word 0\n"
        "si_tr_gdtdesc:\n"
        "        .word si_gdt_end - si_gdt - 1\n"
        "        .long si_gdt\n"
        "        .balign 4\n"
        "si_tr_entries: .word 0\n"
        "si_tr_cs:      .word 0\n"
        "si_tr_ip:      .word 0\n"
        "        .balign 16\n"
        "        .fill 64, 1, 0\n"
        "si_tr_stack_top:\n"
        "si_tramp_end:\n"
        ".code32\n"
        "si_ap_pm32:\n"
        "        movw $0x10, %ax\n"
        "        movw %ax, %ds\n"
        "        movw %ax, %es\n"
        "        movw %ax, %fs\n"
        "        movw %ax, %gs\n"
        "        movw %ax, %ss\n"
        "        movl $(si_ap_stack + 8192), %esp\n" /* SI_AP_STACK */
        "        xorl %ebp, %ebp\n"
        "        call smp_ipi_ap_main\n"
        "3:      cli\n"
        "        hlt\n"
        "        jmp 3b\n"
        /* The NMI gate of both CPUs' IDT: counts, per CPU. */
        ".global si_nmi_stub\n"
        "si_nmi_stub:\n"
        "        pushal\n"
        "        cld\n"
        "        call smp_ipi_nmi\n"
        "        popal\n"
        "        iretl\n"
        ".popsection\n"
        ".pushsection .data\n"
        "        .balign 8\n"
        "si_gdt:\n"
        "        .quad 0\n"
        "        .quad 0x00cf9a000000ffff\n" /* 0x08: flat code, as the library's */
        "        .quad 0x00cf92000000ffff\n" /* 0x10: flat data */
        "si_gdt_end:\n"
        ".popsection\n");

extern const char si_tramp_start[], si_tramp_end[], si_tr_entries[], si_tr_cs[], si_tr_ip[];
extern const char si_nmi_stub[];
void smp_ipi_ap_main(void);
void smp_ipi_nmi(void);

uint8_t si_ap_stack[SI_AP_STACK] __attribute__((aligned(16)));
/* A copy of the library's IDT with the NMI gate pointing at si_nmi_stub,
 * loaded on both CPUs (every other gate is the library's). */
static uint64_t si_idt[256] __attribute__((aligned(8)));
static struct {
        uint16_t pad;
        uint16_t limit;
        uint32_t base;
} __attribute__((packed, aligned(4))) si_idt_desc;

/* Per CPU (0: BSP, 1: AP), each written by its own CPU only. */
static volatile uint32_t si_cnt[2][256];
static volatile uint32_t si_nmis[2];
static volatile bool si_x2[2];
/* The AP's reports. */
static volatile uint32_t ap_checkin, ap_base_seen, ap_cpuid_id, ap_x2_id, ap_x2_ldr;
static volatile uint32_t ap_spinning, ap_lost, ap_done;
static void (*volatile ap_work)(void);
static volatile uint32_t ap_n; /* argument of the AP's work */

static inline unsigned si_cpu(void)
{
        uint32_t sp;
        __asm__ volatile("movl %%esp, %0" : "=r"(sp));
        return sp - (uint32_t)si_ap_stack < SI_AP_STACK ? 1 : 0;
}

static inline uint64_t rdmsr64(uint32_t msr)
{
        uint32_t lo, hi;
        __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
        return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr64(uint32_t msr, uint64_t v)
{
        __asm__ volatile("wrmsr"
                         :
                         : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
                         : "memory");
}

static void si_eoi(unsigned cpu)
{
        if (si_x2[cpu])
                wrmsr64(MSR_X2_EOI, 0);
        else
                apic_wr(REG_EOI, 0);
}

static void si_irq(uint32_t vector)
{
        unsigned cpu = si_cpu();
        si_cnt[cpu][vector & 255]++;
        if (vector != SI_VEC_SPUR)
                si_eoi(cpu);
}

void smp_ipi_nmi(void)
{
        si_nmis[si_cpu()]++;
}

static void si_apic_enable(void)
{
        if (si_x2[si_cpu()])
                wrmsr64(MSR_X2_SVR, 0x100 | SI_VEC_SPUR);
        else
                apic_wr(REG_SVR, 0x100 | SI_VEC_SPUR);
}

/* Sends an IPI in this CPU's APIC mode: dest is an APIC ID or logical
 * destination (8 bits in xAPIC mode, 32 in x2APIC mode).  With
 * SI_VIA_SELFMSR in lo, its vector goes through the SELF IPI MSR. */
static void si_send(uint32_t dest, uint32_t lo)
{
        uint32_t flags = read_eflags();
        __asm__ volatile("cli" ::: "memory");
        if (lo & SI_VIA_SELFMSR) {
                wrmsr64(MSR_X2_SELF, lo & 0xff);
        } else if (si_x2[si_cpu()]) {
                wrmsr64(MSR_X2_ICR, ((uint64_t)dest << 32) | lo);
        } else {
                apic_wr(REG_ICR_HI, dest << 24);
                apic_wr(REG_ICR_LO, lo);
        }
        if (flags & (1u << 9))
                __asm__ volatile("sti" ::: "memory");
}

/* Waits with interrupts on until *p >= want; false on timeout. */
static bool si_wait(const volatile uint32_t *p, uint32_t want)
{
        uint64_t end = rdtsc() + SI_WAIT;
        bool ok;
        __asm__ volatile("sti" ::: "memory");
        while (!(ok = *p >= want) && rdtsc() < end)
                __asm__ volatile("pause" ::: "memory");
        __asm__ volatile("cli" ::: "memory");
        return ok;
}

/* Interrupts on for a while: whatever is in flight arrives. */
static void si_settle(void)
{
        uint64_t end = rdtsc() + SI_SETTLE;
        __asm__ volatile("sti" ::: "memory");
        while (rdtsc() < end)
                __asm__ volatile("pause" ::: "memory");
        __asm__ volatile("cli" ::: "memory");
}

/* ---- the AP ---- */

void smp_ipi_ap_main(void)
{
        __asm__ volatile("lidt (%0)" : : "r"(&si_idt_desc.limit) : "memory");
        uint32_t base = (uint32_t)rdmsr64(MSR_APIC_BASE);
        ap_base_seen = base;
        si_x2[1] = base & BASE_EXTD;
        ap_cpuid_id = cpuid(1, 0).ebx >> 24;
        si_apic_enable();
        ap_checkin++;
        for (;;) {
                __asm__ volatile("cli" ::: "memory");
                void (*fn)(void) = ap_work;
                if (fn) {
                        ap_work = 0;
                        __asm__ volatile("sti" ::: "memory");
                        fn();
                        ap_done++;
                        continue;
                }
                __asm__ volatile("sti; hlt" ::: "memory");
        }
}

static void ap_to_x2apic(void)
{
        wrmsr64(MSR_APIC_BASE, rdmsr64(MSR_APIC_BASE) | BASE_EXTD | BASE_EN);
        si_x2[1] = true;
        si_apic_enable();
        ap_base_seen = (uint32_t)rdmsr64(MSR_APIC_BASE);
        ap_x2_id = (uint32_t)rdmsr64(MSR_X2_ID);
        ap_x2_ldr = (uint32_t)rdmsr64(MSR_X2_LDR);
}

/* ap_n fixed IPIs to the BSP, each sent once the last one arrived. */
static void ap_to_bsp_one_by_one(void)
{
        uint32_t n = ap_n;
        for (uint32_t i = 0; i < n; i++) {
                uint32_t before = si_cnt[0][SI_VEC_BSP];
                si_send(0, SI_VEC_BSP);
                uint64_t end = rdtsc() + SI_WAIT;
                while (si_cnt[0][SI_VEC_BSP] == before && rdtsc() < end)
                        __asm__ volatile("pause" ::: "memory");
                if (si_cnt[0][SI_VEC_BSP] == before)
                        ap_lost++;
        }
}

/* ap_n fixed IPIs to the BSP, back to back. */
static void ap_to_bsp_storm(void)
{
        uint32_t n = ap_n;
        for (uint32_t i = 0; i < n; i++)
                si_send(0, SI_VEC_BSP);
}

/* steal: when the BSP's heartbeat (a count it increments while it runs)
 * did not move for 100,000 TSC ticks (it does not run: the companion
 * does), a fixed IPI to the BSP; until told to stop.  A count, not the
 * TSC: each vCPU has its own TSC offset. */
static volatile uint32_t bsp_beat, thief_stop, thief_sent;

static void ap_thief(void)
{
        uint32_t seen = bsp_beat, since = (uint32_t)rdtsc();
        while (!thief_stop) {
                uint32_t now = (uint32_t)rdtsc(), beat = bsp_beat;
                if (beat != seen) {
                        seen = beat;
                        since = now;
                } else if (now - since > 100000) {
                        si_send(0, SI_VEC_BSP);
                        thief_sent++;
                        since = now;
                }
                __asm__ volatile("pause" ::: "memory");
        }
}

/* The share of `ticks` TSC ticks the BSP ran (gaps between two of its
 * TSC reads of 50,000 ticks or more count as not running). */
static uint64_t share_took, share_gap;

static uint32_t bsp_share(uint64_t ticks)
{
        uint64_t start = rdtsc(), prev = start, ran = 0;
        share_gap = 0;
        __asm__ volatile("sti" ::: "memory");
        while (prev - start < ticks) {
                uint64_t t = rdtsc();
                bsp_beat++;
                if (t - prev < 50000)
                        ran += t - prev;
                else if (t - prev > share_gap)
                        share_gap = t - prev;
                prev = t;
        }
        __asm__ volatile("cli" ::: "memory");
        share_took = prev - start;
        /* In units of 2^16 ticks: no 64-bit division in a 32-bit guest. */
        return (uint32_t)(ran >> 16) * 100 / (uint32_t)((prev - start) >> 16);
}

/* Spins with interrupts off until an INIT takes the AP away. */
static void ap_cli_spin(void)
{
        __asm__ volatile("cli" ::: "memory");
        ap_spinning = 1;
        for (;;)
                __asm__ volatile("pause" ::: "memory");
}

/* ---- the BSP ---- */

static uint32_t si_tried;

static bool run_on_ap(void (*fn)(void))
{
        uint32_t done = ap_done;
        ap_work = fn;
        si_send(1, SI_VEC_KICK);
        for (int i = 0; i < 4; i++) {
                if (si_wait(&ap_done, done + 1))
                        return true;
        }
        return false;
}

static volatile uint16_t *tr_word(unsigned copy, const char *sym)
{
        return (volatile uint16_t *)(SI_TRAMP + copy * 0x1000u + (uint32_t)(sym - si_tramp_start));
}

static const char *si_name(const char *mode, const char *what)
{
        static char buf[64];
        size_t len = 0;
        for (const char *s = "smp-ipi-"; *s; s++)
                buf[len++] = *s;
        for (const char *s = mode; *s && len < 40; s++)
                buf[len++] = *s;
        buf[len++] = '-';
        for (const char *s = what; *s && len < sizeof(buf) - 1; s++)
                buf[len++] = *s;
        buf[len] = '\0';
        return buf;
}

/* n IPIs (lo) to dest, each sent once the last arrived at CPU cpu: all
 * must arrive, and none at the other CPU. */
static void one_by_one(const char *mode, const char *what, unsigned cpu, uint32_t dest, uint32_t lo,
                       uint32_t n)
{
        uint32_t vec = lo & 0xff, other = 1 - cpu;
        uint32_t b0 = si_cnt[cpu][vec], b1 = si_cnt[other][vec], lost = 0;
        for (uint32_t i = 0; i < n; i++) {
                si_send(dest, lo);
                if (!si_wait(&si_cnt[cpu][vec], b0 + i + 1) && lost++ == 0)
                        gprintf("attack smp-ipi: %s %s: IPI %u did not arrive\n", mode, what, i);
        }
        si_settle();
        uint32_t got = si_cnt[cpu][vec] - b0, stray = si_cnt[other][vec] - b1;
        si_tried += n;
        gprintf("attack smp-ipi: %s %s: %u sent one by one, %u arrived (%u at the other CPU)\n",
                mode, what, n, got, stray);
        report(si_name(mode, what), got == n && stray == 0);
}

/* n IPIs back to back: at least one arrives (the IRR holds one per
 * vector), at most n, none at the other CPU; then one more, alone,
 * arrives (the APIC still works). */
static void storm(const char *mode, const char *what, unsigned cpu, uint32_t dest, uint32_t lo,
                  uint32_t n)
{
        uint32_t vec = lo & 0xff, other = 1 - cpu;
        uint32_t b0 = si_cnt[cpu][vec], b1 = si_cnt[other][vec];
        __asm__ volatile("sti" ::: "memory");
        for (uint32_t i = 0; i < n; i++)
                si_send(dest, lo);
        si_wait(&si_cnt[cpu][vec], b0 + 1);
        si_settle();
        uint32_t got = si_cnt[cpu][vec] - b0;
        uint32_t after = si_cnt[cpu][vec];
        si_send(dest, lo);
        bool alive = si_wait(&si_cnt[cpu][vec], after + 1);
        si_settle();
        uint32_t stray = si_cnt[other][vec] - b1;
        si_tried += n + 1;
        gprintf("attack smp-ipi: %s %s: %u sent back to back, %u arrived, the next %s (%u at "
                "the other CPU)\n",
                mode, what, n, got, alive ? "arrived" : "did not", stray);
        report(si_name(mode, what), got >= 1 && got <= n && alive && stray == 0);
}

/* NMIs to the AP: n one by one (each taken), then n back to back (one
 * NMI may be pending at a time: at least one taken). */
static void nmis_to_ap(const char *mode, uint32_t n)
{
        uint32_t b0 = si_nmis[0], b1 = si_nmis[1];
        for (uint32_t i = 0; i < n; i++) {
                si_send(1, ICR_NMI | ICR_ASSERT);
                si_wait(&si_nmis[1], b1 + i + 1);
        }
        si_settle();
        uint32_t got = si_nmis[1] - b1;
        uint32_t b2 = si_nmis[1];
        for (uint32_t i = 0; i < n; i++)
                si_send(1, ICR_NMI | ICR_ASSERT);
        si_wait(&si_nmis[1], b2 + 1);
        si_settle();
        uint32_t burst = si_nmis[1] - b2;
        si_tried += 2 * n;
        gprintf("attack smp-ipi: %s NMIs to the AP: %u one by one, %u taken; %u back to back, %u "
                "taken; %u at the BSP\n",
                mode, n, got, n, burst, si_nmis[0] - b0);
        report(si_name(mode, "nmi-to-ap"),
               got == n && burst >= 1 && burst <= n && si_nmis[0] == b0);
}

/* NMIs to its own APIC ID, one by one: each taken by the BSP, none by
 * the AP. */
static void nmis_to_self(const char *mode, uint32_t n)
{
        uint32_t b0 = si_nmis[0], b1 = si_nmis[1], lost = 0;
        for (uint32_t i = 0; i < n; i++) {
                si_send(0, ICR_NMI | ICR_ASSERT);
                if (!si_wait(&si_nmis[0], b0 + i + 1))
                        lost++;
        }
        si_settle();
        si_tried += n;
        gprintf("attack smp-ipi: %s NMIs to itself: %u one by one, %u taken, %u at the AP\n", mode,
                n, si_nmis[0] - b0, si_nmis[1] - b1);
        report(si_name(mode, "nmi-to-self"), lost == 0 && si_nmis[0] - b0 == n && si_nmis[1] == b1);
}

struct si_snapshot {
        uint32_t irqs[2], nmis[2], entries, checkin;
};

static void snapshot(struct si_snapshot *s)
{
        for (unsigned c = 0; c < 2; c++) {
                s->irqs[c] = 0;
                for (unsigned v = 0; v < 256; v++)
                        s->irqs[c] += si_cnt[c][v];
                s->nmis[c] = si_nmis[c];
        }
        s->entries = 0;
        for (unsigned k = 0; k < SI_COPIES; k++)
                s->entries += *tr_word(k, si_tr_entries);
        s->checkin = ap_checkin;
}

static bool same_snapshot(const struct si_snapshot *a, const struct si_snapshot *b)
{
        return a->irqs[0] == b->irqs[0] && a->irqs[1] == b->irqs[1] && a->nmis[0] == b->nmis[0] &&
               a->nmis[1] == b->nmis[1] && a->entries == b->entries && a->checkin == b->checkin;
}

/* Fixed, NMI, INIT and STARTUP to each destination: nothing is delivered
 * anywhere (no interrupt, NMI or restart at either CPU), and then the AP
 * still answers. */
static void absent(const char *mode, const uint32_t *dests, uint32_t n, uint32_t flags)
{
        struct si_snapshot s0, s1;
        snapshot(&s0);
        for (uint32_t i = 0; i < n; i++) {
                si_send(dests[i], flags | ICR_FIXED | ICR_ASSERT | SI_VEC_PROBE);
                si_send(dests[i], flags | ICR_NMI | ICR_ASSERT);
                si_send(dests[i], flags | ICR_INIT | ICR_ASSERT | ICR_LEVEL);
                si_send(dests[i], flags | ICR_STARTUP | ICR_ASSERT | SI_VEC0);
        }
        si_tried += 4 * n;
        si_settle();
        snapshot(&s1);
        bool same = same_snapshot(&s0, &s1);
        if (!same)
                gprintf("attack smp-ipi: %s absent targets: interrupts %u/%u -> %u/%u, NMIs %u/%u "
                        "-> %u/%u, AP entries %u -> %u\n",
                        mode, s0.irqs[0], s0.irqs[1], s1.irqs[0], s1.irqs[1], s0.nmis[0],
                        s0.nmis[1], s1.nmis[0], s1.nmis[1], s0.entries, s1.entries);
        uint32_t b = si_cnt[1][SI_VEC_AP];
        si_send(1, SI_VEC_AP);
        bool alive = si_wait(&si_cnt[1][SI_VEC_AP], b + 1);
        gprintf("attack smp-ipi: %s: fixed, NMI, INIT, STARTUP to %u destinations nobody has: "
                "%s; the AP %s\n",
                mode, n, same ? "nothing delivered" : "DELIVERED", alive ? "answers" : "is gone");
        report(si_name(mode, flags & ICR_LOGICAL ? "absent-logical" : "absent-physical"),
               same && alive);
}

/* INIT and STARTUP to the AP, count times, cycling through the four
 * trampoline copies: each restart enters the copy of its SIPI vector at
 * CS = vector << 8, IP 0, exactly once (the second STARTUP of the
 * INIT-SIPI-SIPI sequence is ignored by the running AP), and the AP
 * checks in with its APIC mode kept (INIT leaves IA32_APIC_BASE alone).
 * Every other restart interrupts the AP spinning with interrupts off. */
static void restarts(const char *mode, uint32_t count, bool x2)
{
        uint32_t bad = 0, done = 0;
        for (uint32_t i = 0; i < count; i++) {
                unsigned copy = i % SI_COPIES;
                uint32_t vec = SI_VEC0 + copy;
                bool spin = i & 1;
                if (spin) {
                        ap_spinning = 0;
                        ap_work = ap_cli_spin;
                        si_send(1, SI_VEC_KICK);
                        si_wait(&ap_spinning, 1);
                }
                uint32_t entries = *tr_word(copy, si_tr_entries), checkin = ap_checkin;
                *tr_word(copy, si_tr_cs) = 0xffff;
                *tr_word(copy, si_tr_ip) = 0xffff;
                si_send(1, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
                si_send(1, ICR_INIT | ICR_LEVEL); /* de-assert: ignored */
                si_send(1, ICR_STARTUP | ICR_ASSERT | vec);
                bool up = si_wait(&ap_checkin, checkin + 1);
                si_send(1, ICR_STARTUP | ICR_ASSERT | vec); /* ignored: the AP runs */
                si_settle();
                si_tried += 4;
                uint32_t e = *tr_word(copy, si_tr_entries) - entries;
                uint32_t cs = *tr_word(copy, si_tr_cs), ip = *tr_word(copy, si_tr_ip);
                bool mode_ok = !!(ap_base_seen & BASE_EXTD) == x2 &&
                               (ap_base_seen & (BASE_EN | BASE_BSP)) == BASE_EN;
                bool ok = up && e == 1 && ap_checkin == checkin + 1 && cs == vec << 8 && ip == 0 &&
                          mode_ok && ap_cpuid_id == 1;
                if (ok) {
                        done++;
                } else if (bad++ < 4) {
                        gprintf("attack smp-ipi: %s restart %u (vector 0x%02x%s): checked in %u "
                                "times, entered %u times at %04x:%04x, APIC base 0x%x, ID %u\n",
                                mode, i, vec, spin ? ", AP spinning with interrupts off" : "",
                                ap_checkin - checkin, e, cs, ip, ap_base_seen, ap_cpuid_id);
                }
        }
        /* The restarted AP takes IPIs as before. */
        uint32_t b = si_cnt[1][SI_VEC_AP];
        si_send(1, SI_VEC_AP);
        bool alive = si_wait(&si_cnt[1][SI_VEC_AP], b + 1);
        gprintf("attack smp-ipi: %s: INIT and STARTUP to the AP %u times, %u restarts as on "
                "hardware; the AP %s\n",
                mode, count, done, alive ? "answers" : "is gone");
        report(si_name(mode, "init-sipi-restarts"), done == count && alive);
}

/* SMIs (delivery mode 010b) to the AP, to itself and to all but itself:
 * vtvisor offers no SMM, so nothing is delivered (no interrupt, NMI or
 * restart at either CPU) and both go on; then the AP still answers. */
static void smi_ignored(const char *mode, uint32_t n)
{
        struct si_snapshot s0, s1;
        snapshot(&s0);
        for (uint32_t i = 0; i < n; i++) {
                si_send(1, ICR_SMI | ICR_ASSERT);
                si_send(0, ICR_SMI | ICR_ASSERT);
                si_send(0, ICR_OTHERS | ICR_SMI | ICR_ASSERT);
        }
        si_tried += 3 * n;
        si_settle();
        snapshot(&s1);
        bool same = same_snapshot(&s0, &s1);
        uint32_t b = si_cnt[1][SI_VEC_AP];
        si_send(1, SI_VEC_AP);
        bool alive = si_wait(&si_cnt[1][SI_VEC_AP], b + 1);
        gprintf("attack smp-ipi: %s: %u SMIs to the AP, to itself and to all but itself: %s; "
                "the AP %s\n",
                mode, 3 * n, same ? "nothing delivered" : "DELIVERED",
                alive ? "answers" : "is gone");
        report(si_name(mode, "smi-ignored"), same && alive);
}

static void xapic_phase(uint32_t n, uint32_t s, uint32_t m, uint32_t a)
{
        one_by_one("xapic", "fixed-to-ap", 1, 1, ICR_FIXED | ICR_ASSERT | SI_VEC_AP, n);
        /* Level-triggered: the trigger mode is ignored for fixed IPIs (SDM
         * 11.6.1); each arrives and its EOI ends it. */
        one_by_one("xapic", "fixed-level-to-ap", 1, 1,
                   ICR_FIXED | ICR_ASSERT | ICR_LEVEL | SI_VEC_AP, n / 4 + 1);
        storm("xapic", "fixed-to-ap-storm", 1, 1, ICR_FIXED | ICR_ASSERT | SI_VEC_AP, s);
        one_by_one("xapic", "fixed-to-self", 0, 0, ICR_FIXED | ICR_ASSERT | SI_VEC_ME, n);
        one_by_one("xapic", "all-excluding-self", 1, 0, ICR_OTHERS | ICR_ASSERT | SI_VEC_AP, n);
        /* From the AP to the BSP. */
        uint32_t b = si_cnt[0][SI_VEC_BSP];
        ap_n = a;
        ap_lost = 0;
        bool ran = run_on_ap(ap_to_bsp_one_by_one);
        si_settle();
        si_tried += a;
        gprintf("attack smp-ipi: xapic AP to BSP: %u sent one by one, %u arrived\n", a,
                si_cnt[0][SI_VEC_BSP] - b);
        report("smp-ipi-xapic-ap-to-bsp", ran && ap_lost == 0 && si_cnt[0][SI_VEC_BSP] - b == a);
        b = si_cnt[0][SI_VEC_BSP];
        ap_n = s;
        ran = run_on_ap(ap_to_bsp_storm);
        si_settle();
        si_tried += s;
        uint32_t got = si_cnt[0][SI_VEC_BSP] - b;
        gprintf("attack smp-ipi: xapic AP to BSP: %u sent back to back, %u arrived\n", s, got);
        report("smp-ipi-xapic-ap-to-bsp-storm", ran && got >= 1 && got <= s);
        nmis_to_ap("xapic", m);
        nmis_to_self("xapic", m);
        static uint32_t dests[253];
        for (uint32_t i = 0; i < 253; i++)
                dests[i] = i + 2; /* 2-254; 255 is the broadcast */
        absent("xapic", dests, 253, 0);
        /* Logical (flat model, both LDRs 0 after reset): bits nobody has. */
        static const uint32_t logical[] = { 0x01, 0x02, 0x80, 0x7f, 0xfe };
        absent("xapic", logical, sizeof(logical) / sizeof(logical[0]), ICR_LOGICAL);
        smi_ignored("xapic", 20);
}

/* The x2APIC ICR and SELF IPI forms the SDM makes #GP (SDM 11.12.1.3,
 * 11.12.9, 11.12.11), and the illegal vectors (SDM 11.5.3). */
static void x2apic_illegal(void)
{
        struct si_snapshot s0, s1;
        snapshot(&s0);
        /* Each reserved bit of the ICR's low half: bits 13, 16, 17, 20-31. */
        uint32_t not_gp = 0;
        for (uint32_t bit = 13; bit < 32; bit++) {
                if (bit != 13 && bit != 16 && bit != 17 && bit < 20)
                        continue;
                int v = try_wrmsr(MSR_X2_ICR, (1ull << bit) | ICR_FIXED | SI_VEC_ME);
                int w = try_wrmsr(MSR_X2_ICR, 1ull << 32 | (1ull << bit) | ICR_FIXED | SI_VEC_AP);
                si_tried += 2;
                if ((v != VEC_GP || w != VEC_GP) && not_gp++ < 4)
                        gprintf("attack smp-ipi: x2APIC ICR bit %u: vectors %d, %d\n", bit, v, w);
        }
        /* The SELF IPI register: bits 31:8 reserved; write-only. */
        static const uint64_t self_bad[] = { 0x100 | SI_VEC_ME, 0x80000000u | SI_VEC_ME,
                                             1ull << 32 | SI_VEC_ME, ~0ull };
        for (unsigned k = 0; k < sizeof(self_bad) / sizeof(self_bad[0]); k++) {
                int v = try_wrmsr(MSR_X2_SELF, self_bad[k]);
                si_tried++;
                if (v != VEC_GP && not_gp++ < 4)
                        gprintf("attack smp-ipi: SELF IPI 0x%llx: vector %d\n", self_bad[k], v);
        }
        uint64_t val;
        int r_self = try_rdmsr(MSR_X2_SELF, &val);
        int r_hi = try_rdmsr(MSR_X2_ICR_HI, &val);
        int w_hi = try_wrmsr(MSR_X2_ICR_HI, 1);
        si_tried += 3;
        /* Delivery modes 011b and 111b (ExtINT) are reserved for IPIs:
         * nothing is sent. */
        int v3 = try_wrmsr(MSR_X2_ICR, 1ull << 32 | 3u << 8 | SI_VEC_AP);
        int v7 = try_wrmsr(MSR_X2_ICR, 7u << 8 | SI_VEC_ME);
        si_tried += 2;
        /* The xAPIC ICR page does nothing in x2APIC mode. */
        apic_wr(REG_ICR_HI, 0);
        apic_wr(REG_ICR_LO, ICR_SELF | ICR_FIXED | SI_VEC_ME);
        si_tried++;
        si_settle();
        snapshot(&s1);
        gprintf("attack smp-ipi: x2apic reserved forms: %u without #GP; RDMSR SELF IPI %d, "
                "RDMSR/WRMSR 0x831 %d/%d; delivery modes 3 and 7: vectors %d, %d; %s\n",
                not_gp, r_self, r_hi, w_hi, v3, v7,
                same_snapshot(&s0, &s1) ? "nothing delivered" : "DELIVERED");
        report("smp-ipi-x2apic-reserved-icr-bits-gp", not_gp == 0);
        report("smp-ipi-x2apic-self-ipi-read-gp", r_self == VEC_GP);
        report("smp-ipi-x2apic-icr-high-msr-gp", r_hi == VEC_GP && w_hi == VEC_GP);
        report("smp-ipi-x2apic-reserved-forms-deliver-nothing", same_snapshot(&s0, &s1));

        /* Illegal vectors (below 16), through the ICR to itself and to the
         * AP and through the SELF IPI MSR: no fault, nothing delivered,
         * ESR "send illegal vector" (bit 5). */
        static const struct {
                const char *what;
                uint32_t dest, lo;
        } illegal[] = {
                { "icr-self", 0, ICR_FIXED | ICR_ASSERT | 3 },
                { "icr-ap", 1, ICR_FIXED | ICR_ASSERT | 15 },
                { "self-msr", 0, SI_VIA_SELFMSR | 0 },
        };
        uint32_t illegal_bad = 0;
        for (unsigned k = 0; k < sizeof(illegal) / sizeof(illegal[0]); k++) {
                snapshot(&s0);
                wrmsr64(MSR_X2_ESR, 0);
                si_send(illegal[k].dest, illegal[k].lo);
                si_settle();
                wrmsr64(MSR_X2_ESR, 0);
                uint32_t esr = (uint32_t)rdmsr64(MSR_X2_ESR);
                snapshot(&s1);
                si_tried++;
                if (!(esr & ESR_ILLEGAL_TX) || !same_snapshot(&s0, &s1)) {
                        gprintf("attack smp-ipi: illegal vector (%s): ESR 0x%x, %s\n",
                                illegal[k].what, esr,
                                same_snapshot(&s0, &s1) ? "nothing delivered" : "DELIVERED");
                        illegal_bad++;
                }
        }
        report("smp-ipi-x2apic-illegal-vector-refused", illegal_bad == 0);

        /* Bit 12 (delivery status, gone in x2APIC mode): Intel CPUs ignore
         * it, AMD's take #GP; either is as on hardware, if what is sent
         * matches. */
        uint32_t b = si_cnt[0][SI_VEC_ME];
        int v12 = try_wrmsr(MSR_X2_ICR, 1u << 12 | ICR_FIXED | ICR_ASSERT | SI_VEC_ME);
        si_settle();
        uint32_t got12 = si_cnt[0][SI_VEC_ME] - b;
        si_tried++;
        gprintf("attack smp-ipi: x2APIC ICR bit 12: vector %d, %u delivered\n", v12, got12);
        report("smp-ipi-x2apic-icr-bit12",
               (v12 == VEC_GP && got12 == 0) || (v12 == VEC_NONE && got12 == 1));

        /* Leaving x2APIC mode except by disabling the APIC, and EXTD
         * without EN: #GP (SDM 11.12.5), the mode unchanged. */
        uint64_t base = rdmsr64(MSR_APIC_BASE);
        int to_x = try_wrmsr(MSR_APIC_BASE, base & ~(uint64_t)BASE_EXTD);
        int extd_only = try_wrmsr(MSR_APIC_BASE, base & ~(uint64_t)BASE_EN);
        si_tried += 2;
        report("smp-ipi-x2apic-illegal-transitions-gp",
               to_x == VEC_GP && extd_only == VEC_GP && rdmsr64(MSR_APIC_BASE) == base);
}

static void x2apic_phase(uint32_t n, uint32_t s, uint32_t m, uint32_t a)
{
        /* In xAPIC mode the x2APIC MSRs do not exist: #GP. */
        uint64_t val;
        int r = try_rdmsr(MSR_X2_ID, &val);
        int w = try_wrmsr(MSR_X2_ICR, 1ull << 32 | SI_VEC_AP);
        int sw = try_wrmsr(MSR_X2_SELF, SI_VEC_ME);
        si_tried += 3;
        report("smp-ipi-x2apic-msrs-gp-in-xapic-mode", r == VEC_GP && w == VEC_GP && sw == VEC_GP);
        bool cpuid_x2 = cpuid(1, 0).ecx & (1u << 21);
        report("smp-ipi-cpuid-x2apic", cpuid_x2);
        if (!cpuid_x2)
                return;
        /* The AP first (the BSP can still kick it in xAPIC mode), then the
         * BSP. */
        bool ran = run_on_ap(ap_to_x2apic);
        wrmsr64(MSR_APIC_BASE, rdmsr64(MSR_APIC_BASE) | BASE_EXTD | BASE_EN);
        si_x2[0] = true;
        si_apic_enable();
        uint32_t base = (uint32_t)rdmsr64(MSR_APIC_BASE);
        uint32_t id0 = (uint32_t)rdmsr64(MSR_X2_ID);
        gprintf("attack smp-ipi: x2APIC: BSP base 0x%x ID %u, AP base 0x%x ID %u LDR 0x%x\n", base,
                id0, ap_base_seen, ap_x2_id, ap_x2_ldr);
        report("smp-ipi-x2apic-enabled",
               ran && (base & (BASE_EXTD | BASE_EN)) == (BASE_EXTD | BASE_EN) &&
                   (ap_base_seen & (BASE_EXTD | BASE_EN)) == (BASE_EXTD | BASE_EN) && id0 == 0 &&
                   ap_x2_id == 1 && ap_x2_ldr == 2);

        one_by_one("x2apic", "fixed-to-ap", 1, 1, ICR_FIXED | ICR_ASSERT | SI_VEC_AP, n);
        one_by_one("x2apic", "fixed-level-to-ap", 1, 1,
                   ICR_FIXED | ICR_ASSERT | ICR_LEVEL | SI_VEC_AP, n / 4 + 1);
        storm("x2apic", "fixed-to-ap-storm", 1, 1, ICR_FIXED | ICR_ASSERT | SI_VEC_AP, s);
        one_by_one("x2apic", "fixed-to-ap-logical", 1, ap_x2_ldr,
                   ICR_LOGICAL | ICR_FIXED | ICR_ASSERT | SI_VEC_AP, n / 4 + 1);
        one_by_one("x2apic", "fixed-to-self", 0, 0, ICR_FIXED | ICR_ASSERT | SI_VEC_ME, n);
        storm("x2apic", "fixed-to-self-storm", 0, 0, ICR_FIXED | ICR_ASSERT | SI_VEC_ME, s);
        one_by_one("x2apic", "self-ipi-msr", 0, 0, SI_VIA_SELFMSR | SI_VEC_ME, n);
        storm("x2apic", "self-ipi-msr-storm", 0, 0, SI_VIA_SELFMSR | SI_VEC_ME, s);
        one_by_one("x2apic", "all-excluding-self", 1, 0, ICR_OTHERS | ICR_ASSERT | SI_VEC_AP, n);

        uint32_t b = si_cnt[0][SI_VEC_BSP];
        ap_n = a;
        ap_lost = 0;
        ran = run_on_ap(ap_to_bsp_one_by_one);
        si_settle();
        si_tried += a;
        gprintf("attack smp-ipi: x2apic AP to BSP: %u sent one by one, %u arrived\n", a,
                si_cnt[0][SI_VEC_BSP] - b);
        report("smp-ipi-x2apic-ap-to-bsp", ran && ap_lost == 0 && si_cnt[0][SI_VEC_BSP] - b == a);
        b = si_cnt[0][SI_VEC_BSP];
        ap_n = s;
        ran = run_on_ap(ap_to_bsp_storm);
        si_settle();
        si_tried += s;
        uint32_t got = si_cnt[0][SI_VEC_BSP] - b;
        gprintf("attack smp-ipi: x2apic AP to BSP: %u sent back to back, %u arrived\n", s, got);
        report("smp-ipi-x2apic-ap-to-bsp-storm", ran && got >= 1 && got <= s);

        nmis_to_ap("x2apic", m);
        nmis_to_self("x2apic", m);

        /* x2APIC IDs nobody has: 2-255, IDs whose low byte is 0 or 1 (the
         * xAPIC IDs of the two CPUs), large ones; 0xffffffff is the
         * broadcast. */
        static uint32_t dests[254 + 8];
        uint32_t nd = 0;
        for (uint32_t id = 2; id < 256; id++)
                dests[nd++] = id;
        static const uint32_t big[] = { 0x100,   0x101,     0x201,      0xffff,
                                        0x10001, 0x1000000, 0x12345601, 0xfffffffe };
        for (unsigned k = 0; k < sizeof(big) / sizeof(big[0]); k++)
                dests[nd++] = big[k];
        absent("x2apic", dests, nd, 0);
        /* Logical (cluster in 31:16, bits in 15:0; the CPUs are cluster 0,
         * bits 0 and 1): other bits of cluster 0, other clusters, none. */
        static const uint32_t logical[] = { 0x0000fffc, 0x00000004, 0x00010003, 0x00020001,
                                            0xffff0003, 0x00000000, 0x80000002 };
        absent("x2apic", logical, sizeof(logical) / sizeof(logical[0]), ICR_LOGICAL);
        smi_ignored("x2apic", 20);

        x2apic_illegal();
}

static void attack_smp_ipi(void)
{
        uint32_t n = cmdline_number("ipis", 200), s = cmdline_number("storm", 2000);
        uint32_t m = cmdline_number("nmis", 50), r = cmdline_number("restarts", 20);
        /* From the AP to the BSP one by one: the BSP shares its CPU with
         * the companion, and each IPI to it while it runs makes it yield
         * (vtvisor's kick), so each costs a time slice: fewer. */
        uint32_t a = cmdline_number("ap-ipis", 20);
        gprintf("attack smp-ipi: start: two vCPUs; xAPIC then x2APIC: %u fixed IPIs of each kind "
                "one by one (%u from the AP) and %u back to back, to itself, to its AP and from "
                "the AP, %u NMIs to the AP each way, IPIs to absent IDs, reserved ICR forms; %u "
                "INIT-SIPI restarts of its AP in each mode\n",
                n, a, s, m, r);
        /* Both CPUs: the library's IDT with an NMI gate that counts. */
        struct {
                uint16_t limit;
                uint32_t base;
        } __attribute__((packed)) lib;
        __asm__ volatile("sidt %0" : "=m"(lib));
        memcpy(si_idt, (const void *)lib.base, sizeof(si_idt));
        uint32_t stub = (uint32_t)si_nmi_stub;
        si_idt[2] =
            (si_idt[2] & 0x0000ffffffff0000ull) | (stub & 0xffff) | ((uint64_t)(stub >> 16) << 48);
        si_idt_desc.limit = sizeof(si_idt) - 1;
        si_idt_desc.base = (uint32_t)si_idt;
        __asm__ volatile("lidt (%0)" : : "r"(&si_idt_desc.limit) : "memory");
        g_irq_hook = si_irq;
        si_apic_enable();

        uint32_t base = (uint32_t)rdmsr64(MSR_APIC_BASE);
        report("smp-ipi-bsp-xapic",
               (base & (BASE_BSP | BASE_EN | BASE_EXTD)) == (BASE_BSP | BASE_EN));
        size_t size = (size_t)(si_tramp_end - si_tramp_start);
        for (unsigned k = 0; k < SI_COPIES; k++)
                memcpy((void *)(SI_TRAMP + k * 0x1000u), si_tramp_start, size);

        /* Start the AP: INIT, INIT de-assert, STARTUP (twice if need be). */
        si_send(1, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
        si_send(1, ICR_INIT | ICR_LEVEL);
        si_send(1, ICR_STARTUP | ICR_ASSERT | SI_VEC0);
        bool up = si_wait(&ap_checkin, 1);
        if (!up) {
                si_send(1, ICR_STARTUP | ICR_ASSERT | SI_VEC0);
                up = si_wait(&ap_checkin, 1);
        }
        si_tried += 4;
        gprintf("attack smp-ipi: AP %s at %04x:%04x, APIC ID %u, APIC base 0x%x\n",
                up ? "started" : "did not start", *tr_word(0, si_tr_cs), *tr_word(0, si_tr_ip),
                ap_cpuid_id, ap_base_seen);
        if (!report("smp-ipi-ap-started",
                    up && ap_cpuid_id == 1 && *tr_word(0, si_tr_cs) == SI_VEC0 << 8))
                return;

        /* steal: the share of CPU 0 the BSP gets beside the companion,
         * alone and with its AP sending it an IPI whenever it does not run.
         * Each IPI kicks CPU 0; the kick must not hand the BSP more than
         * its fair half (core/sched.c, sched_kick_should_yield): before
         * 2026-12-03 every kick made the companion yield, and the BSP got
         * 95%. */
        if (cmdline_has_word("steal")) {
                uint32_t alone = bsp_share(100000000);
                gprintf("attack smp-ipi: steal: alone: took 0x%llx ticks, longest gap 0x%llx\n",
                        share_took, share_gap);
                thief_stop = 0;
                ap_work = ap_thief;
                si_send(1, SI_VEC_KICK);
                uint32_t robbed = bsp_share(100000000);
                gprintf("attack smp-ipi: steal: robbed: took 0x%llx ticks, longest gap 0x%llx, "
                        "%u IPIs\n",
                        share_took, share_gap, thief_sent);
                uint32_t done = ap_done;
                thief_stop = 1;
                si_wait(&ap_done, done + 1);
                gprintf("attack smp-ipi: steal: the BSP ran %u%% of 100 M TSC ticks beside the "
                        "companion alone, %u%% with its AP sending it %u IPIs whenever it did not "
                        "run\n",
                        alone, robbed, thief_sent);
                report("smp-ipi-steal-fair-share", robbed >= 35 && robbed <= 65);
        }
        xapic_phase(n, s, m, a);
        restarts("xapic", r, false);
        x2apic_phase(n, s, m, a);
        if (si_x2[0])
                restarts("x2apic", r, true);
        /* The AP's final state: still there, one check-in per start. */
        gprintf("attack smp-ipi: the AP checked in %u times\n", ap_checkin);
        report("smp-ipi-ap-checkins", ap_checkin == 1 + r * (si_x2[0] ? 2 : 1));
        gprintf("attack smp-ipi: tried %u\n", si_tried);
        report("smp-ipi-attacker-survived", true);
}

/* ---- triple-fault, reset-loop ---- */

extern char atk_tf_ud2[];

static void attack_triple_fault(void)
{
        gprintf("attack triple-fault: start: an empty IDT, then ud2 at 0x%08x\n",
                (uint32_t)atk_tf_ud2);
        gprintf("attack triple-fault: tried 1\n");
        uart_drain();
        struct {
                uint16_t limit;
                uint32_t base;
        } __attribute__((packed)) desc = { 0, 0 };
        __asm__ volatile("lidt %0\n\t"
                         ".global atk_tf_ud2\n"
                         "atk_tf_ud2:\n\t"
                         "ud2" ::"m"(desc)
                         : "memory");
        report("triple-fault-stopped", false);
}

#define CMOS_BOOTS   0x50 /* a CMOS RAM byte: it survives the reset */
#define RESET_MARKER 0x300000u

static uint8_t cmos_rd(uint8_t reg)
{
        outb(0x70, reg);
        return inb(0x71);
}

static void cmos_wr(uint8_t reg, uint8_t v)
{
        outb(0x70, reg);
        outb(0x71, v);
}

static void attack_reset_loop(void)
{
        /* Each boot counts itself in CMOS RAM and resets again, through the
         * keyboard controller on odd boots and 0xCF9 on even ones.  RAM
         * does not keep the count: vtvisor rebuilds the VM (RAM cleared,
         * image loaded again), which the marker checks. */
        uint8_t boot = (uint8_t)(cmos_rd(CMOS_BOOTS) + 1);
        cmos_wr(CMOS_BOOTS, boot);
        volatile uint32_t *marker = (volatile uint32_t *)RESET_MARKER;
        gprintf("attack reset-loop: boot %u, marker 0x%08x\n", boot, *marker);
        if (boot == 1) {
                gprintf("attack reset-loop: start: resetting itself on every boot\n");
                spin(8000000); /* lets the companion start ticking */
        } else {
                report("reset-loop-ram-rebuilt", *marker == 0);
        }
        *marker = 0xdead0000u | boot;
        gprintf("attack reset-loop: tried %u: reset through %s\n", boot,
                boot & 1 ? "the keyboard controller" : "0xcf9");
        uart_drain();
        if (boot & 1) {
                outb(0x64, 0xfe);
        } else {
                outb(0xcf9, 0x02);
                outb(0xcf9, 0x06);
        }
        for (volatile uint32_t i = 0; i < 1000000; i++)
                ;
        report("reset-loop-reset-took-effect", false);
}

/* ---- privileged ---- */

static inline uint32_t read_cr3(void)
{
        uint32_t v;
        __asm__ volatile("movl %%cr3, %0" : "=r"(v));
        return v;
}

static inline int try_write_cr3(uint32_t val)
{
        fault_arm();
        __asm__ volatile(TRY_BEGIN "movl %0, %%cr3" TRY_END : : "r"(val) : "memory");
        return g_fault_vector;
}

#define DR_READ(n)                                                                                 \
        ({                                                                                         \
                uint32_t _v;                                                                       \
                __asm__ volatile("movl %%dr" #n ", %0" : "=r"(_v));                                \
                _v;                                                                                \
        })
#define DR_WRITE(n, v) __asm__ volatile("movl %0, %%dr" #n : : "r"((uint32_t)(v)) : "memory")

struct dtr {
        uint16_t limit;
        uint32_t base;
} __attribute__((packed));

static volatile uint32_t dr_watched;
extern char priv_bp_insn[];

static void attack_privileged(void)
{
        uint32_t tried = 0;
        gprintf("attack privileged: start: MOV to CR3 with paging off, DR0-DR3/DR7, RDPMC, "
                "LGDT/LIDT outside RAM, INVPCID, WBINVD/INVD, LOCK MOV CR0\n");

        /* MOV to CR3 with paging off: any value loads (no reserved bits
         * in 32-bit mode), reads back and does nothing until paging. */
        static const uint32_t cr3s[] = { 0xfffff000u, 0xffffffffu, 0x80000018u,
                                         0x00400000u, 0xfee00000u, 0xb0000007u };
        uint32_t cr3 = read_cr3(), bad = 0;
        for (uint32_t r = 0; r < 64; r++) {
                uint32_t val = r < 6 ? cr3s[r] : rnd();
                int v = try_write_cr3(val);
                uint32_t back = read_cr3();
                tried++;
                if (v != VEC_NONE || back != val) {
                        if (bad++ < 4)
                                gprintf("attack privileged: mov 0x%08x to cr3: vector %d, reads "
                                        "0x%08x\n",
                                        val, v, back);
                }
        }
        try_write_cr3(cr3);
        report("privileged-cr3-paging-off-loads", bad == 0 && read_cr3() == cr3);

        /* Debug registers: an instruction breakpoint (DR0) and a data write
         * breakpoint (DR1) on itself fire; DR2/DR3 and DR7 set to catch the
         * companion (its image and pattern are at the same guest-physical
         * addresses) stay the attacker's, across many exits. */
        DR_WRITE(6, 0);
        DR_WRITE(0, priv_bp_insn);
        DR_WRITE(7, 0x400 | 1u); /* L0, execute, 1 byte */
        fault_arm();
        __asm__ volatile(TRY_BEGIN ".global priv_bp_insn\npriv_bp_insn:\n\tnop" TRY_END ::
                             : "memory");
        uint32_t dr6 = DR_READ(6);
        tried++;
        gprintf("attack privileged: DR0 execute breakpoint: vector %d, DR6 0x%08x\n",
                g_fault_vector, dr6);
        report("privileged-dr0-execute-breakpoint", g_fault_vector == 1 && (dr6 & 1));
        DR_WRITE(7, 0x400);
        DR_WRITE(6, 0);
        DR_WRITE(1, &dr_watched);
        DR_WRITE(7, 0x400 | (1u << 2) | (1u << 20) | (3u << 22)); /* L1, write, 4 bytes */
        fault_arm();
        __asm__ volatile(TRY_BEGIN "movl $1, dr_watched" TRY_END ::: "memory");
        dr6 = DR_READ(6);
        tried++;
        gprintf("attack privileged: DR1 write breakpoint: vector %d, DR6 0x%08x\n", g_fault_vector,
                dr6);
        report("privileged-dr1-write-breakpoint",
               g_fault_vector == 1 && (dr6 & 2) && dr_watched == 1);
        /* Breakpoints where the companion executes and reads: 0x100000
         * (its entry), 0x100040; read/write at 0x8000 and 0x9e000 (its
         * pattern), global and local enables.  Then 200,000 exits and a
         * while on the companion's CPU. */
        const uint32_t dr[4] = { 0x100000, 0x100040, 0x8000, 0x9e000 };
        const uint32_t dr7 = 0x400 | 0xff | (0u << 16) | (0u << 20) | (3u << 24) | (3u << 26) |
                             (3u << 28) | (3u << 30);
        DR_WRITE(7, 0x400);
        DR_WRITE(0, dr[0]);
        DR_WRITE(1, dr[1]);
        DR_WRITE(2, dr[2]);
        DR_WRITE(3, dr[3]);
        DR_WRITE(7, dr7);
        for (uint32_t i = 0; i < 200000; i++)
                cpuid(0, 0);
        spin(4000000);
        tried += 200000;
        uint32_t got[5] = { DR_READ(0), DR_READ(1), DR_READ(2), DR_READ(3), DR_READ(7) };
        DR_WRITE(7, 0x400);
        gprintf("attack privileged: DR0-3 0x%x 0x%x 0x%x 0x%x DR7 0x%x after 200,000 exits\n",
                got[0], got[1], got[2], got[3], got[4]);
        report("privileged-debug-registers-kept", got[0] == dr[0] && got[1] == dr[1] &&
                                                      got[2] == dr[2] && got[3] == dr[3] &&
                                                      (got[4] & 0xffff27ff) == dr7);

        /* RDPMC: no PMU is offered (CPUID 0xA is zero), so every counter
         * index #GPs, with CR4.PCE or without. */
        uint32_t cr4 = read_cr4(), not_gp = 0;
        for (uint32_t r = 0; r < 64; r++) {
                uint32_t ecx = r < 4 ? r : r < 8 ? 0x40000000u + (r - 4) : rnd();
                if (r == 32)
                        try_write_cr4(cr4 | (1u << 8)); /* PCE */
                uint32_t lo, hi;
                fault_arm();
                __asm__ volatile(TRY_BEGIN "rdpmc" TRY_END
                                 : "=a"(lo), "=d"(hi)
                                 : "c"(ecx)
                                 : "memory");
                tried++;
                if (g_fault_vector != VEC_GP && not_gp++ < 4)
                        gprintf("attack privileged: rdpmc 0x%x: vector %d\n", ecx, g_fault_vector);
        }
        try_write_cr4(cr4);
        report("privileged-rdpmc-gp", not_gp == 0);

        /* LGDT/LIDT with bases outside RAM (and odd limits): they load and
         * read back; nothing uses them (interrupts off, no segment load)
         * before the originals are restored. */
        struct dtr gdt0, idt0, g, i2;
        __asm__ volatile("sgdt %0\n\tsidt %1" : "=m"(gdt0), "=m"(idt0));
        static const uint32_t bases[] = { 0xf0000000u, 0xffffff00u, 0x7fff0000u,
                                          0xfee00000u, 0xb0000000u, 0x00400000u };
        uint32_t dt_bad = 0;
        for (unsigned k = 0; k < 6; k++) {
                struct dtr nd = { (uint16_t)(k ? rnd() : 0xffff), bases[k] };
                __asm__ volatile("cli\n\tlgdt %2\n\tlidt %2\n\tsgdt %0\n\tsidt %1\n\t"
                                 "lgdt %3\n\tlidt %4"
                                 : "=m"(g), "=m"(i2)
                                 : "m"(nd), "m"(gdt0), "m"(idt0)
                                 : "memory");
                tried += 2;
                if (g.base != nd.base || g.limit != nd.limit || i2.base != nd.base ||
                    i2.limit != nd.limit)
                        dt_bad++;
        }
        struct dtr g3, i3;
        __asm__ volatile("sgdt %0\n\tsidt %1" : "=m"(g3), "=m"(i3));
        report("privileged-lgdt-lidt-outside-ram",
               dt_bad == 0 && g3.base == gdt0.base && g3.limit == gdt0.limit &&
                   i3.base == idt0.base && i3.limit == idt0.limit);

        /* INVPCID: as CPUID.7.EBX[10] says.  Offered: types 2 and 3 work,
         * type 0/1 with a PCID but CR4.PCIDE clear #GP, reserved
         * descriptor bits #GP, types above 3 #GP.  Hidden: #UD. */
        bool invpcid = cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ebx & (1u << 10));
        static uint32_t desc[4] __attribute__((aligned(16)));
        static const struct {
                uint32_t type, pcid, hi;
                int want;
        } inv[] = {
                { 2, 0, 0, VEC_NONE }, { 3, 0, 0, VEC_NONE },         { 0, 0, 0, VEC_NONE },
                { 1, 0, 0, VEC_NONE }, { 0, 5, 0, VEC_GP },           { 1, 5, 0, VEC_GP },
                { 4, 0, 0, VEC_GP },   { 0xffffffffu, 0, 0, VEC_GP }, { 2, 0x1000, 0, VEC_GP },
                { 2, 0, 1, VEC_GP },
        };
        uint32_t inv_bad = 0;
        for (unsigned k = 0; k < sizeof(inv) / sizeof(inv[0]); k++) {
                desc[0] = inv[k].pcid;
                desc[1] = inv[k].hi;
                desc[2] = 0x100000;
                desc[3] = 0;
                fault_arm();
                __asm__ volatile(TRY_BEGIN "invpcid (%0), %1" TRY_END
                                 :
                                 : "r"(desc), "r"(inv[k].type)
                                 : "memory");
                tried++;
                int want = invpcid ? inv[k].want : VEC_UD;
                if (g_fault_vector != want) {
                        gprintf("attack privileged: invpcid type %u pcid 0x%x: vector %d, want "
                                "%d\n",
                                inv[k].type, inv[k].pcid, g_fault_vector, want);
                        inv_bad++;
                }
        }
        gprintf("attack privileged: INVPCID %s\n", invpcid ? "offered" : "hidden (#UD)");
        report("privileged-invpcid-as-cpuid-says", inv_bad == 0);

        /* WBINVD and INVD: no fault, its memory as it was (INVD may lose
         * dirty lines on hardware; vtvisor performs WBINVD, which keeps
         * them: nothing here depends on the difference). */
        fault_arm();
        __asm__ volatile(TRY_BEGIN "wbinvd" TRY_END ::: "memory");
        int vw = g_fault_vector;
        fault_arm();
        __asm__ volatile(TRY_BEGIN "invd" TRY_END ::: "memory");
        int vi = g_fault_vector;
        tried += 2;
        report("privileged-wbinvd-invd-no-fault", vw == VEC_NONE && vi == VEC_NONE);

        /* LOCK MOV CR0 (AMD's alternative encoding of MOV CR8) and MOV to
         * CR8 do not exist in 32-bit mode on Intel: #UD. */
        fault_arm();
        __asm__ volatile(TRY_BEGIN ".byte 0xf0, 0x0f, 0x22, 0xc0" TRY_END
                         :
                         : "a"(read_cr0())
                         : "memory");
        tried++;
        report("privileged-lock-mov-cr0-ud", g_fault_vector == VEC_UD);
        gprintf("attack privileged: tried %u\n", tried);
        report("privileged-attacker-survived", true);
}

/* ---- gpa-high: guest-physical addresses above 4 GiB (PAE paging) ---- */

/* PAE paging: PDPT entry 0 maps the first GiB 1:1 with 2 MiB pages (its
 * RAM, code and stack); entry 3 a directory whose first entry is the
 * window, a 2 MiB page at linear 0xC0000000 pointed anywhere. */
#define WINDOW 0xc0000000u
static uint64_t pae_pdpt[4] __attribute__((aligned(32)));
static uint64_t pae_pd_low[512] __attribute__((aligned(4096)));
static uint64_t pae_pd_win[512] __attribute__((aligned(4096)));
/* A second PDPT whose window directory maps its own RAM at 0x200000. */
static uint64_t pae_pdpt2[4] __attribute__((aligned(32)));
static uint64_t pae_pd_win2[512] __attribute__((aligned(4096)));

static void window_to(uint64_t pde)
{
        pae_pd_win[0] = pde;
        __asm__ volatile("invlpg (%0)" : : "r"(WINDOW) : "memory");
}

/* exiting: the CR0 write that sets PG also flips NE, a bit vtvisor owns,
 * so it exits and vtvisor performs it: then VM entry, not the guest's
 * MOV, loads the PDPTEs, from the VMCS (SDM Vol. 3C, "Loading
 * Page-Directory-Pointer-Table Entries" at VM entry, with EPT). */
static void pae_on(bool exiting)
{
        for (uint32_t i = 0; i < 512; i++)
                pae_pd_low[i] = ((uint64_t)i << 21) | 0x83; /* P, RW, PS */
        uint64_t *pdpt = exiting ? pae_pdpt2 : pae_pdpt;
        pdpt[0] = (uint32_t)pae_pd_low | 1;
        pdpt[3] = (uint32_t)(exiting ? pae_pd_win2 : pae_pd_win) | 1;
        __asm__ volatile("movl %0, %%cr3" : : "r"((uint32_t)pdpt) : "memory");
        try_write_cr4(read_cr4() | (1u << 5));
        uint32_t cr0 = read_cr0() | (1u << 31);
        if (exiting)
                cr0 ^= 1u << 5; /* NE */
        __asm__ volatile("movl %0, %%cr0" : : "r"(cr0) : "memory");
}

static void pae_off(void)
{
        __asm__ volatile("movl %0, %%cr0" : : "r"(read_cr0() & ~(1u << 31)) : "memory");
        try_write_cr4(read_cr4() & ~(1u << 5));
}

/* One read, and one write read back, at physical address pa. */
static void high_probe(uint64_t pa, uint32_t *bad)
{
        window_to((pa & ~0x1fffffull) | 0x83);
        volatile uint32_t *p = (volatile uint32_t *)(WINDOW + ((uint32_t)pa & 0x1ffffc));
        fault_arm();
        uint32_t v = *p;
        *p = 0x600dbeef;
        uint32_t w = *p;
        if (g_fault_vector != VEC_NONE || v != 0xffffffffu || w != 0xffffffffu) {
                if ((*bad)++ < 8)
                        gprintf("attack gpa-high: at 0x%llx read 0x%08x, after a write 0x%08x, "
                                "vector %d\n",
                                pa, v, w, g_fault_vector);
        }
}

static void attack_gpa_high(void)
{
        uint32_t nrand = cmdline_number("samples", 300);
        uint32_t maxphy = 36;
        if (cpuid(0x80000000, 0).eax >= 0x80000008)
                maxphy = cpuid(0x80000008, 0).eax & 0xff;
        gprintf("attack gpa-high: start: PAE paging, MAXPHYADDR %u: reads and writes at every "
                "power of two from 4 GiB, %u random addresses below 2^%u, and PDEs with bits "
                "%u-63 set\n",
                maxphy, nrand, maxphy, maxphy);
        uint32_t tried = 0, bad = 0;
        pae_on(false);
        /* Its own RAM through the window first: the mapping works. */
        window_to(0x200000 | 0x83);
        *(volatile uint32_t *)(0x200000 + 0x1230) = 0x12345678;
        bool window_ok = *(volatile uint32_t *)(WINDOW + 0x1230) == 0x12345678;
        report("gpa-high-pae-window-works", window_ok);

        for (uint32_t k = 32; k < maxphy && k < 52; k++) {
                uint64_t pa = 1ull << k;
                tried += 3;
                high_probe(pa, &bad);
                high_probe(pa + 0x1ffffc, &bad);                 /* the last word of it */
                high_probe((pa << 1) - 0x200000 + 0x1000, &bad); /* below the next one */
        }
        for (uint32_t i = 0; i < nrand && maxphy > 32; i++) {
                /* A random bit length from 33 to MAXPHYADDR, then random
                 * bits below its top one: every range gets samples. */
                uint32_t k = 32 + rnd() % (maxphy - 32);
                uint64_t pa = (1ull << k) | (rnd64() & ((1ull << k) - 1));
                tried++;
                high_probe(pa & ~3ull, &bad);
        }
        gprintf("attack gpa-high: %u probes, %u not all ones or not dropped\n", tried, bad);
        report("gpa-high-reads-all-ones-writes-dropped", bad == 0);

        /* A PDE with an address bit at or above MAXPHYADDR (and bit 63
         * with EFER.NXE clear): reserved, a #PF with P and RSVD set. */
        uint32_t not_rsvd = 0;
        for (uint32_t b = maxphy; b < 64; b++) {
                window_to((1ull << b) | 0x83);
                uint32_t v = 0;
                fault_arm();
                __asm__ volatile(TRY_BEGIN "movl (%1), %0" TRY_END
                                 : "+r"(v)
                                 : "r"(WINDOW + 0x40)
                                 : "memory");
                tried++;
                if (g_fault_vector != 14 || (g_fault_error & 9) != 9) {
                        if (not_rsvd++ < 8)
                                gprintf("attack gpa-high: PDE bit %u: vector %d error 0x%x, read "
                                        "0x%08x\n",
                                        b, g_fault_vector, g_fault_error, v);
                }
        }
        report("gpa-high-above-maxphyaddr-reserved-pf", not_rsvd == 0);
        pae_off();
        gprintf("attack gpa-high: tried %u\n", tried);
        /* cr0-exit: PAE paging on again, by a CR0 write that exits, with
         * another PDPT: its entry 3 maps its RAM at 0x200000 in the window,
         * where the first PDPT's (whose PDPTEs the CPU last held) maps
         * nothing.  As on hardware, the window must show its RAM.  FAILS
         * today (docs/security.md): vtvisor does not load the PDPTEs into
         * the VMCS when it performs such a write, so the guest runs on
         * stale ones (#PF here; a triple fault if none were ever held). */
        if (!cmdline_has_word("cr0-exit"))
                return;
        uint32_t ne = read_cr0() & (1u << 5);
        gprintf("attack gpa-high: PAE paging on again, another PDPT, by a CR0 write that also "
                "flips NE (0x%x)\n",
                ne);
        uart_drain();
        pae_pd_win[0] = 0;
        pae_pd_win2[0] = 0x200000 | 0x83;
        pae_on(true);
        uint32_t again = 0;
        fault_arm();
        __asm__ volatile(TRY_BEGIN "movl (%1), %0" TRY_END
                         : "+r"(again)
                         : "r"(WINDOW + 0x1230)
                         : "memory");
        int vec = g_fault_vector;
        pae_off();
        gprintf("attack gpa-high: window read 0x%08x, vector %d, NE now 0x%x\n", again, vec,
                read_cr0() & (1u << 5));
        report("gpa-high-pae-by-exiting-cr0-write",
               vec == VEC_NONE && again == 0x12345678 && (read_cr0() & (1u << 5)) != ne);
}

/* ---- hvimage: vtvisor's own image and page tables ---- */

#define MB2_MAGIC_X 0x12345678u /* vtvisor's multiboot2 magic, XORed */
static void attack_hvimage(void)
{
        uint32_t img = cmdline_number("image", 0x100000);
        uint32_t to = cmdline_number("to", 0x4000000);
        uint32_t end = ram_end();
        gprintf("attack hvimage: start: vtvisor's image from host 0x%08x, its image and page "
                "tables above its RAM searched 0x%08x-0x%08x, every 4 KiB\n",
                img, end, to);
        uint32_t tried = 0;
        /* The image's first addresses, as guest-physical ones, are its own
         * RAM (its own image at 1 MiB): vtvisor's multiboot2 header (within
         * its first 32 KiB) is not there. */
        uint32_t found = 0;
        const uint32_t mb2 = 0xe85250d6u ^ MB2_MAGIC_X;
        for (uint32_t a = img; a < img + 0x8000 && a + 4 <= end; a += 8) {
                tried++;
                if ((*(volatile uint32_t *)a ^ MB2_MAGIC_X) == mb2)
                        found++;
        }
        gprintf("attack hvimage: multiboot2 magic found %u times at 0x%08x-0x%08x\n", found, img,
                img + 0x8000);
        report("hvimage-not-vtvisor-header", found == 0);
        /* Past its RAM (the rest of the image, the page tables), every
         * page: reads all ones, a write is dropped. */
        uint32_t bad = 0, pages = 0;
        for (uint32_t a = (end + 0xfff) & ~0xfffu; a < to; a += 0x1000) {
                if (a >= IOAPIC && a < IOAPIC + 0x1000)
                        continue;
                volatile uint32_t *p = (volatile uint32_t *)(a + (rnd() & 0xffc));
                uint32_t v = *p;
                *p = rnd();
                uint32_t w = *p;
                tried += 3;
                pages++;
                if (v != 0xffffffffu || w != 0xffffffffu) {
                        if (bad++ < 8)
                                gprintf("attack hvimage: at 0x%08x read 0x%08x, after a write "
                                        "0x%08x\n",
                                        (uint32_t)p, v, w);
                }
        }
        gprintf("attack hvimage: %u pages from 0x%08x to 0x%08x, %u not all ones or not dropped\n",
                pages, end, to, bad);
        report("hvimage-all-ones-writes-dropped", bad == 0);
        gprintf("attack hvimage: tried %u\n", tried);
}

/* ---- straddle ---- */

/* Loads and stores of 2 and 4 bytes whose bytes straddle a page boundary:
 * from its RAM's last page into unbacked memory, from unbacked memory into
 * the first byte of the ECAM window, the I/O APIC and the local APIC
 * pages, and from the ECAM window's and the I/O APIC page's last bytes into
 * unbacked memory.  Every byte of a load must be what a one-byte load of
 * it gives (RAM, all ones, the device's register); a store must change
 * exactly its RAM bytes.  Then a string store straddling the end of RAM,
 * which vtvisor does not emulate: it must stop the VM naming it. */
enum {
        SD_LD32,
        SD_LD32_SIB, /* -2(base, index, 2) */
        SD_LD32_ES,  /* an ES override (flat) */
        SD_LD16,
        SD_LDZX16,
        SD_LDSX16,
        SD_ST32,
        SD_ST16,
        SD_ST32_IMM,
        SD_FORMS
};
static const uint8_t sd_size[SD_FORMS] = { 4, 4, 4, 2, 2, 2, 4, 2, 4 };
static const char *const sd_name[SD_FORMS] = { "mov r32,m", "mov r32,m(sib)", "mov r32,es:m",
                                               "mov r16,m", "movzx",          "movsx",
                                               "mov m,r32", "mov m,r16",      "mov m,imm32" };
#define SD_IMM 0xa1b2c3d4u

/* Performs form f at a; v is the register's value before (for loads, the
 * bits a 16-bit MOV keeps) or the value stored.  Returns the register. */
static uint32_t sd_access(unsigned f, uint32_t a, uint32_t v)
{
        uint32_t idx = rnd() & 0xff;
        switch (f) {
        case SD_LD32:
                __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
                break;
        case SD_LD32_SIB:
                __asm__ volatile("movl -2(%1,%2,2), %0"
                                 : "=r"(v)
                                 : "r"(a + 2 - 2 * idx), "r"(idx)
                                 : "memory");
                break;
        case SD_LD32_ES:
                __asm__ volatile("movl %%es:(%1), %0" : "=r"(v) : "r"(a) : "memory");
                break;
        case SD_LD16:
                __asm__ volatile("movw (%1), %w0" : "+r"(v) : "r"(a) : "memory");
                break;
        case SD_LDZX16:
                __asm__ volatile("movzwl (%1), %0" : "=r"(v) : "r"(a) : "memory");
                break;
        case SD_LDSX16:
                __asm__ volatile("movswl (%1), %0" : "=r"(v) : "r"(a) : "memory");
                break;
        case SD_ST32:
                __asm__ volatile("movl %1, (%0)" : : "r"(a), "r"(v) : "memory");
                break;
        case SD_ST16:
                __asm__ volatile("movw %w1, (%0)" : : "r"(a), "r"(v) : "memory");
                break;
        default:
                __asm__ volatile("movl %1, (%0)" : : "r"(a), "i"(SD_IMM) : "memory");
                v = SD_IMM;
                break;
        }
        return v;
}

static uint8_t sd_byte(uint32_t a)
{
        return *(volatile uint8_t *)a;
}

/* What a load of form f at a must give from the register's old value v:
 * the bytes one-byte loads read, merged as the form merges them. */
static uint32_t sd_expected(unsigned f, uint32_t a, uint32_t v)
{
        uint32_t m = 0;
        for (unsigned i = 0; i < sd_size[f]; i++)
                m |= (uint32_t)sd_byte(a + i) << (8 * i);
        switch (f) {
        case SD_LD16:
                return (v & 0xffff0000u) | m;
        case SD_LDSX16:
                return (uint32_t)(int32_t)(int16_t)m;
        default:
                return m;
        }
}

struct sd_edge {
        const char *name;
        uint32_t at;    /* the boundary: the access's second page starts here */
        bool lo_ram;    /* the page below is its RAM */
        bool lo_dev;    /* the page below is a device */
        bool hi_backed; /* the page above is a device (else unbacked) */
        bool store;     /* stores are made too */
};

static void attack_straddle(void)
{
        uint32_t rounds = cmdline_number("rounds", 3000);
        uint32_t ram = ram_end();
        const struct sd_edge edges[] = {
                { "ram-end", ram, true, false, false, true },
                { "ecam-start", ECAM, false, false, true, true },
                { "ecam-end", ECAM + 0x100000u, false, true, false, true },
                { "ioapic-start", IOAPIC, false, false, true, true },
                { "ioapic-end", IOAPIC + 0x1000u, false, true, false, true },
                { "lapic-start", APIC, false, false, true, false },
        };
        const unsigned nedges = sizeof(edges) / sizeof(edges[0]);
        gprintf("attack straddle: start: %u loads and stores straddling RAM's end, the ECAM "
                "window's and the I/O APIC page's edges and the local APIC page's start\n",
                rounds);
        uint16_t vendor = *(volatile uint16_t *)ECAM;
        uint32_t tried = 0, bad_load = 0, bad_store = 0, faults = 0;
        uint32_t by_edge[8] = { 0 };
        for (uint32_t r = 0; r < rounds; r++) {
                const struct sd_edge *e = &edges[rnd() % nedges];
                unsigned f = rnd() % SD_FORMS;
                bool store = f >= SD_ST32;
                if (store && !e->store)
                        f = SD_LD32;
                store = f >= SD_ST32;
                unsigned s = sd_size[f];
                uint32_t a = e->at - 1 - rnd() % (s - 1); /* 1..s-1 bytes below */
                uint32_t v = rnd();
                if (e->lo_ram) {
                        *(volatile uint32_t *)(ram - 8) = rnd();
                        *(volatile uint32_t *)(ram - 4) = rnd();
                }
                uint8_t before[8];
                for (unsigned i = 0; e->lo_ram && i < 8; i++)
                        before[i] = sd_byte(ram - 8 + i);
                /* The register value a load must give, from one-byte loads
                 * made before it (a device may change on a read; these do
                 * not: RAM, unbacked memory, ECAM, IOREGSEL, reserved). */
                uint32_t want = store ? 0 : sd_expected(f, a, v);
                fault_arm();
                uint32_t got = sd_access(f, a, v);
                tried++;
                by_edge[e - edges]++;
                if (g_fault_vector != VEC_NONE) {
                        faults++;
                        gprintf("attack straddle: %s at 0x%08x (%s): vector %d\n", sd_name[f], a,
                                e->name, g_fault_vector);
                        continue;
                }
                if (!store && got != want) {
                        if (bad_load++ < 8)
                                gprintf("attack straddle: %s at 0x%08x (%s): 0x%08x, want "
                                        "0x%08x\n",
                                        sd_name[f], a, e->name, got, want);
                        continue;
                }
                if (!store)
                        continue;
                /* A store: its RAM bytes hold the value's, every other RAM
                 * byte is unchanged, its unbacked bytes still read all
                 * ones. */
                bool ok = true;
                for (unsigned i = 0; e->lo_ram && i < 8; i++) {
                        uint32_t b = ram - 8 + i;
                        uint8_t want_b = b >= a ? (uint8_t)(got >> (8 * (b - a))) : before[i];
                        ok &= sd_byte(b) == want_b;
                }
                for (unsigned i = 0; i < s; i++) {
                        uint32_t b = a + i;
                        bool unbacked = b < e->at ? !e->lo_ram && !e->lo_dev : !e->hi_backed;
                        if (unbacked)
                                ok &= sd_byte(b) == 0xff;
                }
                if (!ok && bad_store++ < 8)
                        gprintf("attack straddle: %s of 0x%08x at 0x%08x (%s): wrong bytes after\n",
                                sd_name[f], got, a, e->name);
        }
        gprintf("attack straddle: by edge:");
        for (unsigned i = 0; i < nedges; i++)
                gprintf(" %s %u", edges[i].name, by_edge[i]);
        gprintf("; faults %u, wrong loads %u, wrong stores %u\n", faults, bad_load, bad_store);
        report("straddle-no-fault", faults == 0);
        report("straddle-loads-bytewise", bad_load == 0);
        report("straddle-stores-ram-bytes-only", bad_store == 0);
        report("straddle-ecam-id-kept", *(volatile uint16_t *)ECAM == vendor);
        gprintf("attack straddle: tried %u\n", tried);
        /* A string store whose second element straddles RAM's end: vtvisor
         * emulates no string instruction on MMIO and stops the VM. */
        static const uint32_t src[2] = { 0x11223344u, 0x55667788u };
        const uint32_t *from = src;
        uint32_t to = ram - 6, n = 2;
        gprintf("attack straddle: rep movsd of 8 bytes to 0x%08x\n", to);
        uart_drain();
        __asm__ volatile("cld\n\trep movsl" : "+S"(from), "+D"(to), "+c"(n) : : "memory");
        report("straddle-string-stopped", false);
}

/* ---- mmio-64 ---- */

/* One instruction for group 3 of longmode.S: RAX-R15 (not RSP) are loaded
 * from regs, the code run, the registers stored into out and the vector
 * raised (-1: none) into vec. */
struct m64 {
        uint64_t regs[16];
        uint64_t out[16];
        uint8_t code[32];
        int32_t vec;
        uint32_t pad;
};
_Static_assert(sizeof(struct m64) == 296, "M64_SIZE in longmode.S");
#define M64_BATCH 64
static struct m64 m64_tab[M64_BATCH];
extern uint32_t lm_m_tab, lm_m_n;

/* What the checker needs to know of an instruction. */
struct m64_meta {
        uint32_t target;
        bool load, lock, unbacked;
        int dest;        /* the register a load writes, -1 for a store */
        bool high8;      /* AH, CH, DH or BH */
        uint8_t dsize;   /* bytes of the register written: 1, 2, 4 or 8 */
        uint64_t loaded; /* the value in dsize bytes a load from unbacked memory gives */
};

/* An address in one device page or in unbacked memory, now and then
 * straddling the page's end (LAPIC: never reaching the ICR). */
static uint32_t m64_target(uint32_t ram, bool *unbacked)
{
        uint32_t t;
        *unbacked = false;
        switch (rnd() & 3) {
        case 0:
                t = IOAPIC + (rnd() & 0xfff);
                break;
        case 1:
                t = APIC + (rnd() & 0xfff);
                if (t - APIC >= REG_ICR_LO - 8 && t - APIC < REG_ICR_HI + 0x10)
                        t = APIC + REG_ID;
                break;
        case 2:
                t = ECAM + (rnd() & 0xfffff);
                break;
        default:
                *unbacked = true;
                return ram + 0x1000 + (rnd() & 0x1fff) - (rnd() & 7);
        }
        if (rnd() % 8 == 0)
                t = (t | 0xfff) - (rnd() & 7);
        return t;
}

/* Fills e (its code at its own address) and m with one random MOV-family
 * instruction of 64-bit mode aimed at m->target: legacy and REX prefixes,
 * ModRM with and without SIB (any base and index register but RSP),
 * displacements, RIP-relative and absolute (moffs) forms, every size. */
static void m64_gen(struct m64 *e, struct m64_meta *m, uint32_t ram)
{
        static const uint8_t prefixes[] = { 0x66, 0x67, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0xf0 };
        uint8_t *p = e->code;
        unsigned n = 0;
        bool opsize16 = false, addr32 = false;
        m->target = m64_target(ram, &m->unbacked);
        m->lock = false;
        for (unsigned k = rnd() % 3; k; k--) {
                uint8_t b = prefixes[rnd() % (sizeof(prefixes) - (rnd() % 16 ? 1 : 0))];
                opsize16 |= b == 0x66;
                addr32 |= b == 0x67;
                m->lock |= b == 0xf0;
                p[n++] = b;
        }
        uint8_t rex = rnd() % 4 ? (uint8_t)(0x40 | (rnd() & 15)) : 0;
        if (rex)
                p[n++] = rex;
        bool w = rex & 8;
        unsigned opsize = w ? 8 : opsize16 ? 2 : 4;
        for (int r = 0; r < 16; r++)
                e->regs[r] = rnd64();
        unsigned form = rnd() % 10;
        m->dest = -1;
        m->high8 = false;
        if (form == 9) {
                /* A0-A3: moffs, 8 bytes (4 under 67). */
                uint8_t op = (uint8_t)(0xa0 + (rnd() & 3));
                p[n++] = op;
                m->load = op < 0xa2;
                unsigned size = op & 1 ? opsize : 1;
                m->dest = m->load ? 0 : -1;
                m->dsize = (uint8_t)size;
                m->loaded = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
                uint64_t a = m->target;
                for (unsigned b = 0; b < (addr32 ? 4u : 8u); b++)
                        p[n++] = (uint8_t)(a >> (8 * b));
                p[n] = 0xc3;
                return;
        }
        /* 88 89 8A 8B C6 C7 0FB6 0FB7 0FBE 0FBF */
        static const uint8_t ops[9][2] = { { 0x88 },       { 0x89 },       { 0x8a },
                                           { 0x8b },       { 0xc6 },       { 0xc7 },
                                           { 0x0f, 0xb6 }, { 0x0f, 0xb7 }, { 0x0f, 0xbe } };
        const uint8_t *op = ops[form];
        uint8_t op2 = op[1];
        if (op[0] == 0x0f && rnd() & 1)
                op2 |= 1; /* B7 / BF */
        p[n++] = op[0];
        if (op[0] == 0x0f)
                p[n++] = op2;
        bool byte_op = op[0] == 0x88 || op[0] == 0x8a || op[0] == 0xc6;
        bool imm = op[0] == 0xc6 || op[0] == 0xc7;
        m->load = op[0] == 0x8a || op[0] == 0x8b || op[0] == 0x0f;
        unsigned reg = imm ? 0 : rnd() & 7;
        unsigned regx = reg | (rex & 4 ? 8 : 0);
        /* Never RSP (nor SPL): not as a destination, not as the value. */
        if (regx == 4 && (!byte_op || rex)) {
                reg = 3;
                regx = 3;
        }
        unsigned mod = rnd() % 3, rm = rnd() & 7;
        int base = -1, index = -1;
        unsigned scale = 1;
        bool riprel = false;
        unsigned disp_len = mod == 1 ? 1 : mod == 2 ? 4 : 0;
        uint8_t sib = 0;
        /* A disp32 alone (sign-extended) or RIP + disp32 reaches only 2 GiB
         * each way; above that, only under 67 (the address wraps at 4 GiB)
         * or with a base register. */
        bool far = !addr32 && (m->target >= 0x80000000u || m->target - (uint32_t)p >= 0x7fff0000u);
        if (mod == 0 && rm == 5 && far)
                rm = 3;
        if (rm == 4) {
                unsigned ss = rnd() & 3, ix = rnd() & 7, bs = rnd() & 7;
                if (mod == 0 && bs == 5 && far)
                        bs = 3;
                unsigned ixx = ix | (rex & 2 ? 8 : 0), bsx = bs | (rex & 1 ? 8 : 0);
                if (bsx == 4) {
                        bs = 3;
                        bsx = 3;
                }
                if (ixx == bsx && !(mod == 0 && bs == 5)) {
                        /* Base and index apart (its low bits now differ;
                         * index 4 without REX.X is none). */
                        ix = (bs + 1) & 7;
                        ixx = ix | (rex & 2 ? 8 : 0);
                }
                sib = (uint8_t)((ss << 6) | (ix << 3) | bs);
                if (ixx != 4) {
                        index = (int)ixx;
                        scale = 1u << ss;
                }
                if (mod == 0 && bs == 5)
                        disp_len = 4;
                else
                        base = (int)bsx;
        } else if (mod == 0 && rm == 5) {
                riprel = true;
                disp_len = 4;
        } else {
                base = (int)(rm | (rex & 1 ? 8 : 0));
        }
        if (base >= 0 && base == (int)regx && !imm) {
                /* The base is also the register operand: a store would
                 * write the address itself, a load clobber it (allowed,
                 * but then the checker knows less); keep them apart. */
                regx = base == 3 ? 2 : 3;
                reg = regx & 7;
                if (rex & 4)
                        regx |= 8;
        }
        if (index >= 0 && index == (int)regx && !imm) {
                regx = (unsigned)(index == 3 ? 2 : 3) | (rex & 4 ? 8 : 0);
                reg = regx & 7;
        }
        p[n++] = (uint8_t)((mod << 6) | (reg << 3) | rm);
        if (rm == 4)
                p[n++] = sib;
        unsigned disp_at = n;
        int32_t disp = disp_len == 0   ? 0
                       : disp_len == 1 ? (int8_t)rnd()
                                       : (int32_t)(rnd() & 0x1ffff) - 0x10000;
        n += disp_len;
        unsigned imm_len = 0;
        if (imm)
                imm_len = byte_op ? 1 : opsize == 2 ? 2 : 4;
        for (unsigned b = 0; b < imm_len; b++)
                p[n + b] = (uint8_t)rnd();
        n += imm_len;
        p[n] = 0xc3;
        /* Registers (and displacement) that make the address the target. */
        uint64_t want = m->target;
        if (riprel) {
                disp = (int32_t)(m->target - ((uint32_t)p + n));
        } else {
                uint64_t iv = 0;
                if (index >= 0) {
                        iv = rnd() & 0xfff;
                        e->regs[index] = iv;
                }
                if (base >= 0)
                        e->regs[base] = want - iv * scale - (uint64_t)(int64_t)disp;
                else
                        disp = (int32_t)(want - iv * scale);
        }
        for (unsigned b = 0; b < disp_len; b++)
                p[disp_at + b] = (uint8_t)((uint32_t)disp >> (8 * b));
        /* What a load writes. */
        if (!m->load)
                return;
        unsigned src = byte_op ? 1 : op[0] == 0x0f ? (op2 & 1 ? 2 : 1) : opsize;
        m->dest = (int)regx;
        m->dsize = (uint8_t)(byte_op ? 1 : opsize);
        if (byte_op && !rex && reg >= 4) {
                m->high8 = true;
                m->dest = (int)reg - 4;
        }
        uint64_t ones = src == 8 ? ~0ull : (1ull << (8 * src)) - 1;
        if (op[0] == 0x0f && (op2 & 8)) /* MOVSX: all ones sign-extended */
                ones = ~0ull;
        m->loaded = m->dsize == 8 ? ones : ones & ((1ull << (8 * m->dsize)) - 1);
}

/* What register r must hold after the instruction, from its value before. */
static uint64_t m64_want(const struct m64 *e, const struct m64_meta *m, int r)
{
        uint64_t v = e->regs[r];
        if (r != m->dest || !m->unbacked)
                return v;
        if (m->high8)
                return (v & ~0xff00ull) | (m->loaded << 8);
        switch (m->dsize) {
        case 8:
                return m->loaded;
        case 4:
                return m->loaded; /* a 32-bit write zero-extends */
        default:
                return (v & ~((1ull << (8 * m->dsize)) - 1)) | m->loaded;
        }
}

static void attack_mmio_64(void)
{
        uint32_t rounds = cmdline_number("rounds", 4000);
        uint32_t ram = ram_end();
        bool lm = cpuid(0x80000000, 0).eax >= 0x80000001 && (cpuid(0x80000001, 0).edx >> 29) & 1;
        gprintf("attack mmio-64: start: %u MOV-family instructions of random 64-bit form (REX, "
                "SIB, RIP-relative, moffs, 8 bytes) at the I/O APIC, local APIC, ECAM and "
                "unbacked memory\n",
                rounds);
        if (!report("mmio-64-long-mode-offered", lm))
                return;
        lm_m_tab = (uint32_t)m64_tab;
        static struct m64_meta meta[M64_BATCH];
        uint32_t tried = 0, lock_ud = 0, bad_vec = 0, bad_regs = 0, fatal = 0, unbacked_loads = 0;
        while (tried < rounds) {
                uint32_t n = rounds - tried < M64_BATCH ? rounds - tried : M64_BATCH;
                for (uint32_t i = 0; i < n; i++)
                        m64_gen(&m64_tab[i], &meta[i], ram);
                lm_m_n = n;
                lm_fatal = 0;
                lm_setup(); /* LTR marked the TSS busy */
                lm_run(3);
                if (lm_fatal) {
                        if (fatal++ < 4)
                                gprintf("attack mmio-64: unexpected vector %u at rip 0x%llx\n",
                                        lm_fatal - 1, lm_fatal_rip);
                        tried += n;
                        continue;
                }
                for (uint32_t i = 0; i < n; i++) {
                        const struct m64 *e = &m64_tab[i];
                        const struct m64_meta *m = &meta[i];
                        const uint8_t *c = e->code;
                        if (e->vec != (m->lock ? VEC_UD : VEC_NONE)) {
                                if (bad_vec++ < 8)
                                        gprintf(
                                            "attack mmio-64: vector %d at 0x%08x, bytes %02x %02x "
                                            "%02x %02x %02x %02x\n",
                                            e->vec, m->target, c[0], c[1], c[2], c[3], c[4], c[5]);
                                continue;
                        }
                        lock_ud += m->lock;
                        if (m->lock)
                                continue;
                        unbacked_loads += m->load && m->unbacked;
                        for (int r = 0; r < 16; r++) {
                                if (r == 4 || (r == m->dest && !m->unbacked))
                                        continue;
                                if (e->out[r] == m64_want(e, m, r))
                                        continue;
                                if (bad_regs++ < 8)
                                        gprintf("attack mmio-64: r%d 0x%llx, want 0x%llx after "
                                                "bytes %02x %02x %02x %02x %02x %02x at 0x%08x\n",
                                                r, e->out[r], m64_want(e, m, r), c[0], c[1], c[2],
                                                c[3], c[4], c[5], m->target);
                                break;
                        }
                }
                tried += n;
        }
        /* Unbacked memory still reads all ones. */
        uint32_t ones_bad = 0;
        for (uint32_t k = 0; k < 64; k++)
                ones_bad += *(volatile uint32_t *)(ram + 0x1000 + (rnd() & 0xffc)) != 0xffffffffu;
        gprintf("attack mmio-64: %u with LOCK (#UD), %u loads from unbacked memory checked; "
                "%u unexpected vectors, %u wrong registers, %u fatal\n",
                lock_ud, unbacked_loads, bad_vec, bad_regs, fatal);
        report("mmio-64-vectors", bad_vec == 0 && fatal == 0 && lock_ud > 0);
        report("mmio-64-registers", bad_regs == 0 && unbacked_loads > 0);
        report("mmio-64-unbacked-all-ones", ones_bad == 0);
        gprintf("attack mmio-64: tried %u\n", tried);
}

/* ---- cli-spin, cli-hlt ---- */

static void attack_cli_spin(void)
{
        gprintf("attack cli-spin: start: spinning with interrupts off for ever\n");
        gprintf("attack cli-spin: tried 1\n");
        uart_drain();
        __asm__ volatile("cli\n1: jmp 1b");
}

extern char cli_hlt_insn[];

static void attack_cli_hlt(void)
{
        gprintf("attack cli-hlt: start: hlt at 0x%08x next 0x%08x with interrupts off\n",
                (uint32_t)cli_hlt_insn, (uint32_t)cli_hlt_insn + 1);
        gprintf("attack cli-hlt: tried 1\n");
        uart_drain();
        __asm__ volatile("cli\n.global cli_hlt_insn\ncli_hlt_insn:\n\thlt");
        report("cli-hlt-stopped", false);
}

void guest_main(void)
{
        char name[16] = "";
        cmdline_value("attack", name, sizeof(name));
        rng_state = cmdline_number("seed", (uint32_t)rdtsc() | 1);
        if (!rng_state)
                rng_state = 1;
        gprintf("attack: %s, seed %u\n", name, rng_state);
        if (!gstrcmp(name, "gpa"))
                attack_gpa();
        else if (!gstrcmp(name, "msr"))
                attack_msr();
        else if (!gstrcmp(name, "ports"))
                attack_ports();
        else if (!gstrcmp(name, "insn"))
                attack_insn();
        else if (!gstrcmp(name, "storm"))
                attack_storm();
        else if (!gstrcmp(name, "mmio"))
                attack_mmio();
        else if (!gstrcmp(name, "mmio-64"))
                attack_mmio_64();
        else if (!gstrcmp(name, "straddle"))
                attack_straddle();
        else if (!gstrcmp(name, "mmio-random"))
                attack_mmio_random();
        else if (!gstrcmp(name, "long-mode"))
                attack_long_mode();
        else if (!gstrcmp(name, "cli-spin"))
                attack_cli_spin();
        else if (!gstrcmp(name, "cli-hlt"))
                attack_cli_hlt();
        else if (!gstrcmp(name, "cpuid-storm"))
                attack_cpuid_storm();
        else if (!gstrcmp(name, "self-ipi"))
                attack_self_ipi();
        else if (!gstrcmp(name, "triple-fault"))
                attack_triple_fault();
        else if (!gstrcmp(name, "reset-loop"))
                attack_reset_loop();
        else if (!gstrcmp(name, "privileged"))
                attack_privileged();
        else if (!gstrcmp(name, "gpa-high"))
                attack_gpa_high();
        else if (!gstrcmp(name, "hvimage"))
                attack_hvimage();
        else if (!gstrcmp(name, "smp-ipi"))
                attack_smp_ipi();
        else
                report("attack-known", false);
}
