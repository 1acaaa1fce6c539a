#include "core/monitor.h"
#include "arch/x86/cpu.h"
#include "arch/x86/mm.h"
#include "arch/x86/percpu.h"
#include "arch/x86/serial.h"
#include "arch/x86/tsc.h"
#include "core/console.h"
#include "core/iobus.h"
#include "core/irq.h"
#include "lib/log.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vmx/vmx_names.h"

#define KEY_CTRL_A  0x01
#define KEY_CTRL_C  0x03
#define KEY_BS      0x08
#define KEY_DEL     0x7f
#define LINE_MAX    64
#define PROMPT      "vtvisor> "
#define SAY_MAX     160
#define GUEST_BATCH 16

enum mode { TO_GUEST, PREFIX, PROMPT_OPEN, PROMPT_PREFIX };

static enum mode mode;
static struct vm *keyboard; /* the VM that gets the keys */
static char line[LINE_MAX + 1];
static size_t line_len;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
        char buf[SAY_MAX];
        va_list ap;
        va_start(ap, fmt);
        size_t n = vtv_vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n >= sizeof(buf))
                n = sizeof(buf) - 1;
        console_operator(buf, n, true);
}

static bool vm_runs(const struct vm *vm)
{
        return vm->run == VM_RUNNING && !vm->stopped;
}

/* Keys for the VM with the keyboard: into its UART's receive FIFO.  When
 * that VM has stopped for good (not restarting), the keyboard moves to the
 * first VM that runs. */
static void to_guest(const uint8_t *keys, size_t n)
{
        if (n == 0)
                return;
        if (!keyboard || keyboard->run == VM_DEAD) {
                struct vm *was = keyboard;
                keyboard = NULL;
                for (size_t i = 0; !keyboard && i < vm_count(); i++) {
                        if (vm_runs(vm_at(i)))
                                keyboard = vm_at(i);
                }
                if (keyboard && was)
                        say("keyboard: %s (%s has stopped)", keyboard->cfg.name, was->cfg.name);
        }
        struct vm *vm = keyboard;
        if (!vm)
                return;
        spin_lock(&vm->lock);
        if (vm_runs(vm)) {
                for (size_t i = 0; i < n; i++)
                        vuart_receive(&vm->uart, keys[i]);
                iobus_uart_update_irq(vm);
        }
        spin_unlock(&vm->lock);
}

static const char *state_name(const struct vm *vm)
{
        switch (vm->run) {
        case VM_RUNNING:
                return vm->stopped ? "stopping" : "running";
        case VM_STOPPING:
                return "stopping";
        case VM_DEAD:
                return "stopped";
        default:
                return "empty";
        }
}

static size_t cpu_list(const struct vm *vm, char *buf, size_t size)
{
        size_t pos = 0;
        unsigned n = vm->cfg.vcpus ? vm->cfg.vcpus : 1;
        buf[0] = '\0';
        for (unsigned i = 0; i < n && pos + 8 < size; i++)
                pos += vtv_snprintf(buf + pos, size - pos, "%s%u", i ? "," : "", vm->vcpu_cpu[i]);
        return pos;
}

static void cmd_list(void)
{
        say("  %-16s %-9s %5s %-12s %8s %8s %12s", "NAME", "STATE", "VCPUS", "CPUS", "MEMORY",
            "UPTIME", "EXITS");
        for (size_t i = 0; i < vm_count(); i++) {
                struct vm *vm = vm_at(i);
                char cpus[48];
                spin_lock(&vm->lock);
                cpu_list(vm, cpus, sizeof(cpus));
                bool runs = vm->run == VM_RUNNING;
                uint64_t exits = 0, up = 0;
                if (runs) {
                        exits = vm_exits(vm, EXIT_REASON_MAX);
                        up = (rdtsc() - vm->built_tsc) / tsc_hz();
                }
                say("%c %-16s %-9s %5u %-12s %4llu MiB %6llu s %12llu", vm == keyboard ? '*' : ' ',
                    vm->cfg.name, state_name(vm), vm->cfg.vcpus ? vm->cfg.vcpus : 1, cpus,
                    (unsigned long long)(vm->cfg.ram_size >> 20), (unsigned long long)up,
                    (unsigned long long)exits);
                spin_unlock(&vm->lock);
        }
        say("* has the keyboard; free host memory %llu KiB",
            (unsigned long long)(mm_free_bytes() >> 10));
}

static void cmd_cpus(void)
{
        for (unsigned c = 0; c < ncpus_online; c++) {
                char what[SAY_MAX - 32];
                size_t pos = 0;
                what[0] = '\0';
                for (size_t i = 0; i < vm_count(); i++) {
                        const struct vm *vm = vm_at(i);
                        unsigned n = vm->cfg.vcpus ? vm->cfg.vcpus : 1;
                        for (unsigned k = 0; k < n && pos + 40 < sizeof(what); k++) {
                                if (vm->vcpu_cpu[k] != c)
                                        continue;
                                pos += vtv_snprintf(what + pos, sizeof(what) - pos,
                                                    "%s%s vCPU %u (%s)", pos ? ", " : "",
                                                    vm->cfg.name, k, state_name(vm));
                        }
                }
                say("cpu %u (APIC ID %u): %s", c, pcpus[c].apic_id, pos ? what : "idle");
        }
}

static void cmd_stats(struct vm *vm)
{
        spin_lock(&vm->lock);
        if (vm->run != VM_RUNNING) {
                say("vm %s is %s: no statistics until it runs again", vm->cfg.name, state_name(vm));
                spin_unlock(&vm->lock);
                return;
        }
        uint64_t exits = vm_exits(vm, EXIT_REASON_MAX);
        say("vm %s: %llu exits and %llu interrupts injected since it was built, %llu console "
            "bytes dropped",
            vm->cfg.name, (unsigned long long)exits, (unsigned long long)vm->irqs_injected,
            (unsigned long long)vm->console.dropped_total);
        for (uint32_t r = 0; r < EXIT_REASON_MAX; r++) {
                uint64_t n = vm_exits(vm, r);
                if (n)
                        say("  %-28s %12llu", vmx_exit_reason_name(r), (unsigned long long)n);
        }
        for (unsigned i = 0; i < vm->nvdev; i++) {
                char dev[160];
                vdev_stats(&vm->vdev[i], dev, sizeof(dev));
                say("  00:%02x.0 %s", vm->vdev[i].slot, dev);
        }
        spin_unlock(&vm->lock);
}

static const char COMMANDS[] = "help, list, console NAME, stop NAME, restart NAME, start NAME, "
                               "stats NAME, nmi NAME, cpus, exit";

/* The VM's NMI button: LINT1 of each vCPU (irq_nmi_button). */
static void cmd_nmi(struct vm *vm)
{
        unsigned nmis = 0, fixed = 0;
        spin_lock(&vm->lock);
        bool runs = vm->run == VM_RUNNING && !vm->stopped;
        if (runs)
                irq_nmi_button(vm, &nmis, &fixed);
        spin_unlock(&vm->lock);
        if (!runs)
                say("nmi %s: not running", vm->cfg.name);
        else
                say("nmi %s: LINT1 asserted on %u vCPU(s): %u NMI(s), %u fixed interrupt(s), the "
                    "rest masked",
                    vm->cfg.name, vm->nvcpus, nmis, fixed);
}

static void cmd_help(void)
{
        say("list          every VM: state, vCPUs and their CPUs, memory, uptime, exits");
        say("console NAME  the keyboard goes to VM NAME (every VM's output stays visible)");
        say("stop NAME     stop VM NAME; the others run on");
        say("restart NAME  rebuild VM NAME from its modules: fresh memory, devices, vCPUs");
        say("start NAME    build a stopped VM again");
        say("stats NAME    VM NAME's exits by reason, interrupts injected, its virtio devices' "
            "counters");
        say("nmi NAME      press VM NAME's NMI button: LINT1 of each vCPU's local APIC");
        say("cpus          each physical CPU and the vCPUs placed on it");
        say("exit          back to the console of the VM with the keyboard (also Ctrl-A c)");
}

/* Splits "cmd arg" (extra words are an error). */
static bool split(char *s, char **cmd, char **arg)
{
        while (*s == ' ')
                s++;
        *cmd = s;
        while (*s && *s != ' ')
                s++;
        if (*s)
                *s++ = '\0';
        while (*s == ' ')
                s++;
        *arg = s;
        while (*s && *s != ' ')
                s++;
        if (*s)
                *s++ = '\0';
        while (*s == ' ')
                s++;
        return *s == '\0';
}

static struct vm *named(const char *cmd, const char *arg)
{
        if (!*arg) {
                say("%s: which VM? (%s NAME; list shows the names)", cmd, cmd);
                return NULL;
        }
        struct vm *vm = vm_by_name(arg);
        if (!vm)
                say("%s: no VM is called '%s' (list shows the names)", cmd, arg);
        return vm;
}

static void leave_prompt(void)
{
        mode = TO_GUEST;
        if (keyboard)
                say("keyboard: %s (Ctrl-A c opens the prompt)", keyboard->cfg.name);
}

static void execute(char *text)
{
        char *cmd, *arg;
        if (!split(text, &cmd, &arg)) {
                say("one name at most: %s", COMMANDS);
                return;
        }
        if (!*cmd)
                return;
        const char *err;
        struct vm *vm;
        if (!vtv_strcmp(cmd, "help") || !vtv_strcmp(cmd, "?")) {
                cmd_help();
        } else if (!vtv_strcmp(cmd, "list")) {
                cmd_list();
        } else if (!vtv_strcmp(cmd, "cpus")) {
                cmd_cpus();
        } else if (!vtv_strcmp(cmd, "exit") || !vtv_strcmp(cmd, "quit")) {
                leave_prompt();
        } else if (!vtv_strcmp(cmd, "console")) {
                if ((vm = named(cmd, arg)) != NULL) {
                        keyboard = vm;
                        say("keyboard: %s%s", vm->cfg.name,
                            vm_runs(vm) ? "" : " (not running: keys are dropped until it runs)");
                }
        } else if (!vtv_strcmp(cmd, "stop")) {
                if ((vm = named(cmd, arg)) != NULL && (err = vm_operator_stop(vm)) != NULL)
                        say("stop %s: %s", vm->cfg.name, err);
        } else if (!vtv_strcmp(cmd, "restart")) {
                if ((vm = named(cmd, arg)) != NULL && (err = vm_operator_restart(vm)) != NULL)
                        say("restart %s: %s", vm->cfg.name, err);
        } else if (!vtv_strcmp(cmd, "start")) {
                if ((vm = named(cmd, arg)) != NULL && (err = vm_operator_start(vm)) != NULL)
                        say("start %s: %s", vm->cfg.name, err);
        } else if (!vtv_strcmp(cmd, "stats")) {
                if ((vm = named(cmd, arg)) != NULL)
                        cmd_stats(vm);
        } else if (!vtv_strcmp(cmd, "nmi")) {
                if ((vm = named(cmd, arg)) != NULL)
                        cmd_nmi(vm);
        } else {
                say("unknown command '%s'; commands: %s", cmd, COMMANDS);
        }
}

static void prompt_key(uint8_t c)
{
        if (c == '\r' || c == '\n') {
                console_operator("", 0, true);
                line[line_len] = '\0';
                line_len = 0;
                execute(line);
                if (mode == PROMPT_OPEN)
                        console_operator(PROMPT, sizeof(PROMPT) - 1, false);
        } else if (c == KEY_BS || c == KEY_DEL) {
                if (line_len) {
                        line_len--;
                        console_operator("\b \b", 3, false);
                }
        } else if (c == KEY_CTRL_C) {
                line_len = 0;
                console_operator("^C", 2, true);
                console_operator(PROMPT, sizeof(PROMPT) - 1, false);
        } else if (c >= 0x20 && c < 0x7f && line_len < LINE_MAX) {
                line[line_len++] = (char)c;
                char echo = (char)c;
                console_operator(&echo, 1, false);
        }
}

void monitor_poll(void)
{
        uint8_t batch[GUEST_BATCH];
        size_t n = 0;
        int c;
        while ((c = serial_getc()) >= 0) {
                uint8_t k = (uint8_t)c;
                switch (mode) {
                case TO_GUEST:
                        if (k == KEY_CTRL_A) {
                                mode = PREFIX;
                                break;
                        }
                        batch[n++] = k;
                        if (n == sizeof(batch)) {
                                to_guest(batch, n);
                                n = 0;
                        }
                        break;
                case PREFIX:
                        mode = TO_GUEST;
                        if (k == KEY_CTRL_A) {
                                batch[n++] = k; /* Ctrl-A Ctrl-A: one Ctrl-A */
                                if (n == sizeof(batch)) {
                                        to_guest(batch, n);
                                        n = 0;
                                }
                        } else if (k == 'c') {
                                to_guest(batch, n);
                                n = 0;
                                mode = PROMPT_OPEN;
                                line_len = 0;
                                console_operator(PROMPT, sizeof(PROMPT) - 1, false);
                        } else {
                                say("Ctrl-A c opens the vtvisor> prompt; Ctrl-A Ctrl-A sends "
                                    "Ctrl-A");
                        }
                        break;
                case PROMPT_OPEN:
                        if (k == KEY_CTRL_A)
                                mode = PROMPT_PREFIX;
                        else
                                prompt_key(k);
                        break;
                case PROMPT_PREFIX:
                        mode = PROMPT_OPEN;
                        if (k == 'c') { /* Ctrl-A c again: back to the VM */
                                console_operator("", 0, true);
                                leave_prompt();
                        }
                        break;
                }
        }
        to_guest(batch, n);
}

void monitor_init(const char *name)
{
        keyboard = name ? vm_by_name(name) : NULL;
        for (size_t i = 0; !keyboard && i < vm_count(); i++) {
                if (vm_runs(vm_at(i)))
                        keyboard = vm_at(i);
        }
        if (keyboard)
                log_line("console: keys go to vm %s; Ctrl-A c opens the vtvisor> prompt "
                         "('help' lists its commands)",
                         keyboard->cfg.name);
}
