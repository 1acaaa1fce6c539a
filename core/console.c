#include "core/console.h"
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/spinlock.h"
#include "arch/x86/serial.h"
#include "lib/log.h"
#include "lib/printf.h"
#include "lib/string.h"

/* Nothing writes COM1 synchronously for a guest.  Every line, a guest's or
 * the hypervisor's, goes into one output ring as a record (who it is from,
 * how long, the bytes as they go on the wire, "\r\n" included) and leaves
 * the ring as the UART's transmit FIFO empties: console_drain, called from
 * the scheduler loop of every CPU and after each enqueue, writes at most a
 * FIFO's worth and never waits.  A VM may have at most CONSOLE_SHARE bytes
 * waiting; what it prints beyond that, while the serial line is busy, is
 * dropped and counted, and a note says so once its backlog has gone out.
 * Hypervisor lines are never dropped: when the ring is full their writer
 * waits for the line (the old behaviour, now only for vtvisor's own log). */
#define RING_SIZE      32768u /* a power of two */
#define RING_MASK      (RING_SIZE - 1)
#define CONSOLE_SHARE  4096u /* a VM's most bytes waiting: 0.36 s at 115,200 baud */
#define GUEST_HEADROOM 2048u /* ring space only the hypervisor's lines may take */
#define WAIT_SPINS     1000000u

struct record_hdr {
        struct console_share *from; /* NULL: the hypervisor */
        uint16_t len;               /* bytes that follow */
} __attribute__((packed));

/* console_lock protects the ring, COM1 and open_owner.  Innermost of all
 * locks. */
static struct spinlock console_lock = SPINLOCK_INIT;

static struct {
        uint8_t buf[RING_SIZE];
        uint32_t head, tail; /* free-running: head - tail bytes are waiting */
        /* The record being sent: its sender and the bytes of it left. */
        struct console_share *cur;
        uint32_t cur_left;
} ring;

/* The VM whose unfinished line is on screen (or queued), its "[NAME] "
 * already there. */
static const struct console_share *open_owner;
/* Stands for "someone else" in open_owner (console_guest's drop note). */
static const struct console_share nobody;
/* The operator's text is the hypervisor's, with a line of its own.  Its
 * open line (the prompt and what has been typed) is kept, so that it can
 * be shown again after someone else's line cut into it. */
static struct console_share operator_share;
static char operator_line[128];
static size_t operator_len;

static uint32_t ring_free(void)
{
        return RING_SIZE - (ring.head - ring.tail);
}

static void ring_put(const void *p, size_t n)
{
        const uint8_t *b = p;
        for (size_t i = 0; i < n; i++)
                ring.buf[(ring.head++) & RING_MASK] = b[i];
}

/* Text on the wire: each "\n" becomes "\r\n". */
static uint32_t wire_len(const char *text, size_t len)
{
        uint32_t n = (uint32_t)len;
        for (size_t i = 0; i < len; i++)
                n += text[i] == '\n';
        return n;
}

static void ring_put_text(const char *text, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                if (text[i] == '\n')
                        ring.buf[(ring.head++) & RING_MASK] = '\r';
                ring.buf[(ring.head++) & RING_MASK] = (uint8_t)text[i];
        }
}

static void ring_get(void *p, size_t n)
{
        uint8_t *b = p;
        for (size_t i = 0; i < n; i++)
                b[i] = ring.buf[(ring.tail++) & RING_MASK];
}

/* Sends what the transmitter takes now; with wait, sends until at least
 * `need` bytes of the ring are free (or the ring is empty).  Lock held. */
static void drain_locked(bool wait, uint32_t need)
{
        unsigned spins = 0;
        while (ring.head != ring.tail) {
                if (wait && ring_free() >= need)
                        return;
                if (!serial_tx_empty()) {
                        /* A missing port reads 0xff (THRE set): never stuck. */
                        if (!wait || ++spins > WAIT_SPINS)
                                return;
                        cpu_pause();
                        continue;
                }
                spins = 0;
                for (unsigned n = 0; n < SERIAL_FIFO_DEPTH && ring.head != ring.tail; n++) {
                        if (ring.cur_left == 0) {
                                struct record_hdr h;
                                ring_get(&h, sizeof(h));
                                ring.cur = h.from;
                                ring.cur_left = h.len;
                                if (h.from)
                                        h.from->queued -= (uint32_t)sizeof(h);
                                if (h.len == 0)
                                        continue;
                        }
                        uint8_t byte;
                        ring_get(&byte, 1);
                        serial_tx(byte);
                        ring.cur_left--;
                        if (ring.cur)
                                ring.cur->queued--;
                }
        }
}

/* Bytes a record takes: its header, an end to someone else's open line,
 * "[NAME] " (name NULL: none) unless it continues its own open line, the
 * text, "\r\n". */
static uint32_t record_size(const struct console_share *from, const char *name, const char *text,
                            size_t len, bool complete)
{
        uint32_t n = (uint32_t)sizeof(struct record_hdr) + wire_len(text, len);
        if (open_owner && open_owner != from)
                n += 2;
        if (name && open_owner != from)
                n += (uint32_t)vtv_strlen(name) + 3;
        if (complete)
                n += 2;
        return n;
}

static void put_record(struct console_share *from, const char *name, const char *text, size_t len,
                       bool complete)
{
        uint32_t total = record_size(from, name, text, len, complete);
        struct record_hdr h = { from, (uint16_t)(total - sizeof(struct record_hdr)) };
        ring_put(&h, sizeof(h));
        if (open_owner && open_owner != from)
                ring_put("\r\n", 2);
        if (name && open_owner != from) {
                ring_put("[", 1);
                ring_put(name, vtv_strlen(name));
                ring_put("] ", 2);
        }
        ring_put_text(text, len);
        if (complete)
                ring_put("\r\n", 2);
        bool cut_operator = open_owner == &operator_share && from != &operator_share;
        open_owner = complete ? NULL : from;
        if (from)
                from->queued += total;
        /* Someone else's whole line cut into the operator's: show the
         * prompt and what was typed again below it. */
        if (cut_operator && complete && operator_len) {
                uint32_t again =
                    record_size(&operator_share, NULL, operator_line, operator_len, false);
                if (ring_free() >= again)
                        put_record(&operator_share, NULL, operator_line, operator_len, false);
        }
}

/* Whether a VM's record of `total` bytes fits its share and the ring. */
static bool guest_fits(const struct console_share *sh, uint32_t total)
{
        return sh->queued + total <= CONSOLE_SHARE && ring_free() >= total + GUEST_HEADROOM;
}

void console_guest(struct console_share *sh, const char *name, const char *text, size_t len,
                   bool complete)
{
        spin_lock(&console_lock);
        drain_locked(false, 0);
        /* The note waits until all the VM's earlier output is out, so a
         * VM that keeps outrunning the line gets one note, not many. */
        if (sh->dropped && sh->queued == 0) {
                char note[96];
                size_t n = (size_t)vtv_snprintf(note, sizeof(note),
                                                "(console: %llu bytes of output dropped, more "
                                                "than the serial line carries)",
                                                (unsigned long long)sh->dropped);
                /* The note starts a line of its own, also after its own
                 * open line. */
                const struct console_share *was = open_owner;
                if (was == sh)
                        open_owner = &nobody;
                if (guest_fits(sh, record_size(sh, name, note, n, true))) {
                        put_record(sh, name, note, n, true);
                        sh->dropped = 0;
                } else {
                        open_owner = was;
                }
        }
        if (!sh->dropped && guest_fits(sh, record_size(sh, name, text, len, complete))) {
                put_record(sh, name, text, len, complete);
        } else {
                sh->dropped += len + (complete ? 1 : 0);
                sh->dropped_total += len + (complete ? 1 : 0);
        }
        drain_locked(false, 0);
        spin_unlock(&console_lock);
}

bool console_pending(void)
{
        return __atomic_load_n(&ring.head, __ATOMIC_RELAXED) !=
               __atomic_load_n(&ring.tail, __ATOMIC_RELAXED);
}

bool console_backlogged(const struct console_share *sh)
{
        return __atomic_load_n(&sh->queued, __ATOMIC_RELAXED) > CONSOLE_SHARE / 2;
}

void console_drain(void)
{
        if (!console_pending())
                return;
        if (!spin_trylock(&console_lock))
                return; /* whoever holds it drains */
        drain_locked(false, 0);
        spin_unlock(&console_lock);
}

static void hypervisor_line(const char *text, size_t len)
{
        spin_lock(&console_lock);
        /* The log's lines end in "\n"; on the wire that is "\r\n". */
        bool nl = len && text[len - 1] == '\n';
        size_t body = nl ? len - 1 : len;
        uint32_t total = record_size(NULL, NULL, text, body, nl);
        drain_locked(true, total);
        if (ring_free() >= total) {
                put_record(NULL, NULL, text, body, nl);
                drain_locked(false, 0);
        } else {
                /* The serial port does not move: nothing can be queued. */
                for (size_t i = 0; i < len; i++)
                        serial_putc(text[i]);
        }
        spin_unlock(&console_lock);
}

void console_operator(const char *text, size_t len, bool complete)
{
        spin_lock(&console_lock);
        if (complete) {
                operator_len = 0;
        } else if (operator_len + len <= sizeof(operator_line)) {
                vtv_memcpy(operator_line + operator_len, text, len);
                operator_len += len;
        }
        uint32_t total = record_size(&operator_share, NULL, text, len, complete);
        drain_locked(true, total);
        if (ring_free() >= total)
                put_record(&operator_share, NULL, text, len, complete);
        drain_locked(false, 0);
        spin_unlock(&console_lock);
}

__attribute__((noreturn)) static void console_halt(void)
{
        /* Whatever the other CPUs were doing stops here too. */
        desc_panic_begin();
        smp_stop_others();
        drain_locked(true, RING_SIZE);
        serial_flush();
        cpu_halt_forever();
}

static unsigned console_cpu(void)
{
        return this_cpu_id();
}

static const struct log_output console_output = {
        .line = hypervisor_line,
        .halt = console_halt,
        .cpu = console_cpu,
};

void console_init(void)
{
        serial_init();
        log_set_output(&console_output);
}
