#include "core/sched.h"
#include "core/vapic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "core/vcpu.h"
#include "lib/log.h"

#define MAX_VCPUS_PER_CPU 64

struct sched_entry {
        struct vm *vm;
        unsigned index;
        unsigned parked_gen; /* the VM build this entry last let go of */
        uint64_t vtime;      /* TSC ticks it has run (sched_kick_should_yield) */
};

struct sched_cpu {
        struct sched_entry e[MAX_VCPUS_PER_CPU];
        size_t n;
        size_t next;          /* round-robin position */
        struct vcpu *current; /* whose VMCS is loaded, with its state */
        size_t running;       /* the entry in vcpu_run, since run_start */
        uint64_t run_start;
        /* Switches from one vCPU to another and the TSC ticks they took
         * (vcpu_put and vcpu_load), reported when the CPU's loop ends. */
        uint64_t switches, switch_ticks;
};

static struct sched_cpu cpus[MAX_CPUS];

bool sched_add(struct vm *vm, unsigned index, unsigned cpu)
{
        struct sched_cpu *sc = &cpus[cpu];
        if (sc->n == MAX_VCPUS_PER_CPU)
                return false;
        sc->e[sc->n++] = (struct sched_entry){ vm, index, 0, 0 };
        return true;
}

static void put_current(struct sched_cpu *sc)
{
        if (sc->current) {
                vcpu_put(sc->current);
                sc->current = NULL;
        }
}

/* The VM stopped: this CPU lets go of its vCPU (VMCLEAR here, where the
 * VMCS is active) and the last vCPU to do so releases or rebuilds the VM. */
static void park(struct sched_cpu *sc, struct sched_entry *e)
{
        struct vm *vm = e->vm;
        struct vcpu *v = &vm->vcpus[e->index];
        spin_lock(&vm->lock);
        /* Seen stopping without the lock: the last vCPU may have rebuilt
         * the VM since. */
        if (vm->run == VM_STOPPING && e->parked_gen != vm->gen) {
                /* A rebuild loads VMCSes on this CPU: nothing stays current. */
                put_current(sc);
                vcpu_unload(v);
                e->parked_gen = vm->gen;
                vm_vcpu_parked(vm);
        }
        spin_unlock(&vm->lock);
}

/* Whether v can run now: wakes it for a due interrupt, NMI or SIPI. */
static bool ready(struct vcpu *v, uint64_t now)
{
        struct vm *vm = v->vm;
        if (v->state == VCPU_RUNNABLE)
                return true;
        bool go = false;
        spin_lock(&vm->lock);
        if (vm->stopped) {
                spin_unlock(&vm->lock);
                return false;
        }
        vdev_poll(vm); /* an interrupt another VM's frame called for */
        if (v->state == VCPU_HALTED) {
                struct lapic *a = vcpu_lapic(v);
                lapic_timer_expire(a, now + v->tsc_offset);
                if (lapic_highest_pending(a) >= 0 || (v->requests & VCPU_REQ_NMI))
                        v->state = VCPU_RUNNABLE;
        } else if (v->state == VCPU_HALTED_NOINT && (v->requests & VCPU_REQ_NMI)) {
                v->state = VCPU_RUNNABLE;
        }
        go = v->state == VCPU_RUNNABLE;
        if (!go && !vm_can_wake(vm)) {
                /* Every vCPU halted and nothing can wake one. */
                bool noint = true;
                for (unsigned i = 0; i < vm->nvcpus; i++)
                        noint &= vm->vcpus[i].state != VCPU_HALTED;
                if (noint)
                        vm_stop(vm, "every vCPU halted with interrupts disabled or waits for "
                                    "SIPI, and no other can wake one");
                else
                        vm_stop(vm, "halted waiting for an interrupt, and no device of this VM "
                                    "can raise one");
        }
        spin_unlock(&vm->lock);
        return go;
}

/* Fair shares on a shared CPU.  A kick (an external-interrupt exit) means
 * another CPU left work for a vCPU here: an interrupt for the one running
 * (the slow path injects it; no need to leave) or for another.  Leaving at
 * once gives that other vCPU its interrupt soon, but if every kick made
 * the running vCPU yield, a VM could take the CPU from the others on it
 * by having its vCPU on another CPU send IPIs (hostile-smp-ipi's `steal`
 * measurement).  So the running vCPU yields only when another vCPU of this
 * CPU has run less (its vtime, by KICK_MARGIN), as a woken vCPU that slept
 * has; otherwise the other waits for the end of the slice.  A vCPU's
 * deficit counts for at most one slice (sched_account): a long sleeper
 * does not then keep the CPU. */
#define KICK_MARGIN (TIME_SLICE_TSC / 8)

bool sched_kick_should_yield(void)
{
        struct sched_cpu *sc = &cpus[this_cpu_id()];
        uint64_t cur = sc->e[sc->running].vtime + (rdtsc() - sc->run_start);
        for (size_t i = 0; i < sc->n; i++) {
                if (i == sc->running ||
                    __atomic_load_n(&sc->e[i].vm->run, __ATOMIC_ACQUIRE) != VM_RUNNING)
                        continue;
                if (sc->e[i].vtime + KICK_MARGIN < cur)
                        return true;
        }
        return false;
}

/* After entry i ran: its time, and every other entry's deficit behind it
 * held to one slice. */
static void sched_account(struct sched_cpu *sc, size_t i)
{
        uint64_t vt = sc->e[i].vtime += rdtsc() - sc->run_start;
        for (size_t k = 0; k < sc->n; k++) {
                if (sc->e[k].vtime + TIME_SLICE_TSC < vt)
                        sc->e[k].vtime = vt - TIME_SLICE_TSC;
        }
}

static bool any_vm_alive(void)
{
        for (size_t i = 0; i < vm_count(); i++) {
                enum vm_run_state rs = __atomic_load_n(&vm_at(i)->run, __ATOMIC_ACQUIRE);
                if (rs == VM_RUNNING || rs == VM_STOPPING)
                        return true;
        }
        return false;
}

void sched_run(void)
{
        unsigned id = this_cpu_id();
        struct sched_cpu *sc = &cpus[id];

        for (;;) {
                uint64_t now = rdtsc();
                if (id == 0) {
                        vm_poll_console(now);
                        /* A build loads VMCSes here: nothing stays current. */
                        if (vm_start_pending()) {
                                put_current(sc);
                                vm_start_requested();
                        }
                }
                console_drain();
                bool alive = false, ran = false;
                for (size_t k = 0; k < sc->n; k++) {
                        size_t i = (sc->next + k) % sc->n;
                        struct sched_entry *e = &sc->e[i];
                        struct vm *vm = e->vm;
                        enum vm_run_state rs = __atomic_load_n(&vm->run, __ATOMIC_ACQUIRE);
                        if (rs == VM_DEAD || rs == VM_EMPTY)
                                continue;
                        alive = true;
                        if (rs == VM_STOPPING) {
                                park(sc, e);
                                continue;
                        }
                        struct vcpu *v = &vm->vcpus[e->index];
                        if (!ready(v, now))
                                continue;
                        if (sc->current != v) {
                                bool had = sc->current != NULL;
                                uint64_t t0 = rdtsc();
                                put_current(sc);
                                vcpu_load(v);
                                sc->current = v;
                                if (had) {
                                        sc->switches++;
                                        sc->switch_ticks += rdtsc() - t0;
                                }
                        }
                        sc->running = i;
                        sc->run_start = rdtsc();
                        vcpu_run(v);
                        sched_account(sc, i);
                        sc->next = (i + 1) % sc->n;
                        ran = true;
                        break;
                }
                /* CPU 0 also serves the console: it goes on while any VM,
                 * on any CPU, can still run. */
                if (!alive && id == 0)
                        alive = any_vm_alive();
                if (!alive)
                        break;
                if (!ran)
                        cpu_pause();
        }
        put_current(sc);
        if (sc->switches)
                log_line("cpu %u: %llu vCPU switches, %llu TSC ticks each on average", id,
                         (unsigned long long)sc->switches,
                         (unsigned long long)(sc->switch_ticks / sc->switches));
}
