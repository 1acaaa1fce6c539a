#include "arch/x86/smp.h"
#include "arch/x86/cpu.h"
#include "arch/x86/hapic.h"
#include "arch/x86/mm.h"
#include "arch/x86/percpu.h"
#include "arch/x86/tsc.h"
#include "lib/log.h"
#include "lib/string.h"

#define AP_TRAMPOLINE_PA 0x8000 /* as in ap_start.S */

extern const uint8_t ap_tramp_start[], ap_tramp_end[], ap_tramp_cr3[]; /* ap_start.S */
extern uint8_t boot_pml4[];                                            /* boot.S */

/* Hand-over to the AP being started (ap_start.S reads them). */
uint64_t ap_boot_cr3, ap_boot_stack;
struct pcpu *ap_boot_pcpu;

static void (*ap_continue)(struct pcpu *p);
static volatile int ap_state; /* 0 starting, 1 ready, -1 failed */

void ap_main(struct pcpu *p);
void ap_main(struct pcpu *p)
{
        percpu_enter(p);
        hapic_init_cpu();
        p->apic_id = hapic_id();
        ap_continue(p);
        smp_ap_failed(p, "its start-up code returned");
}

void smp_ap_ready(struct pcpu *p)
{
        p->online = true;
        __atomic_store_n(&ap_state, 1, __ATOMIC_RELEASE);
}

void smp_ap_failed(struct pcpu *p, const char *why)
{
        log_line("cpu with APIC ID %u: left out: %s", p->apic_id, why);
        __atomic_store_n(&ap_state, -1, __ATOMIC_RELEASE);
        cpu_halt_forever();
}

static void delay_us(uint64_t us)
{
        uint64_t end = rdtsc() + tsc_hz() / 1000000 * us;
        while (rdtsc() < end)
                cpu_pause();
}

/* Waits up to us microseconds for the AP to leave state 0. */
static int wait_ap(uint64_t us)
{
        uint64_t end = rdtsc() + tsc_hz() / 1000000 * us;
        int s;
        while ((s = __atomic_load_n(&ap_state, __ATOMIC_ACQUIRE)) == 0 && rdtsc() < end)
                cpu_pause();
        return s;
}

static bool start_one(struct pcpu *p, uint32_t apic_id)
{
        uint64_t stack = mm_alloc_pages((CPU_STACK_SIZE + CPU_IST_SIZE) / PAGE_SIZE, PAGE_SIZE);
        if (!stack) {
                log_line("cpu with APIC ID %u: left out: no memory for its stacks", apic_id);
                return false;
        }
        uint8_t *base = hpa_to_hva(stack);
        p->ist_top = base + CPU_IST_SIZE;
        p->stack_top = base + CPU_IST_SIZE + CPU_STACK_SIZE;
        p->apic_id = apic_id;
        ap_boot_stack = (uint64_t)(uintptr_t)p->stack_top;
        ap_boot_pcpu = p;
        __atomic_store_n(&ap_state, 0, __ATOMIC_RELEASE);

        /* INIT, 10 ms, STARTUP, 200 us, STARTUP (SDM 8.4.4.1); a CPU that
         * is already running ignores the second STARTUP. */
        hapic_send_init(apic_id);
        hapic_wait_idle();
        delay_us(10000);
        for (int i = 0; i < 2; i++) {
                hapic_send_sipi(apic_id, AP_TRAMPOLINE_PA >> 12);
                hapic_wait_idle();
                if (wait_ap(200) != 0)
                        break;
        }
        int s = wait_ap(500000);
        if (s == 0)
                log_line("cpu with APIC ID %u: left out: it did not start within 0.5 s of the "
                         "STARTUP IPIs",
                         apic_id);
        if (s != 1) {
                mm_free_pages(stack, (CPU_STACK_SIZE + CPU_IST_SIZE) / PAGE_SIZE);
                return false;
        }
        return true;
}

unsigned smp_start_cpus(const uint32_t *apic_ids, size_t n, unsigned max_cpus,
                        void (*cpu_main)(struct pcpu *p))
{
        struct pcpu *bsp = this_cpu();
        ap_continue = cpu_main;
        size_t tlen = (size_t)(ap_tramp_end - ap_tramp_start);
        vtv_memcpy(hpa_to_hva(AP_TRAMPOLINE_PA), ap_tramp_start, tlen);
        *(uint32_t *)hpa_to_hva(AP_TRAMPOLINE_PA + (uint64_t)(ap_tramp_cr3 - ap_tramp_start)) =
            (uint32_t)(uintptr_t)boot_pml4;
        ap_boot_cr3 = read_cr3();

        for (size_t i = 0; i < n && ncpus_online < max_cpus && ncpus_online < MAX_CPUS; i++) {
                if (apic_ids[i] == bsp->apic_id)
                        continue;
                struct pcpu *p = &pcpus[ncpus_online];
                vtv_memset(p, 0, sizeof(*p));
                p->id = ncpus_online;
                if (start_one(p, apic_ids[i]))
                        ncpus_online++;
                else
                        vtv_memset(p, 0, sizeof(*p));
        }
        return ncpus_online;
}

void smp_stop_others(void)
{
        if (ncpus_online < 2)
                return; /* also before per-CPU data exists */
        unsigned self = this_cpu_id();
        for (unsigned i = 0; i < ncpus_online; i++) {
                if (i != self && pcpus[i].online)
                        hapic_send_nmi(pcpus[i].apic_id);
        }
}

void smp_kick(unsigned cpu)
{
        if (cpu != this_cpu_id() && cpu < ncpus_online)
                hapic_send_fixed(pcpus[cpu].apic_id, HOST_VEC_KICK);
}
