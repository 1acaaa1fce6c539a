/* libFuzzer target for devices/uart.c, the 16550A model.
 *
 * Input: records to the end, each
 *
 *   u8   operation: bits 2:0 pick it (0-2 read, 3-5 write, 6 a received
 *        byte, 7 flush, reset or the interrupt line); bit 3 set lets the
 *        offset be any byte instead of 0-7
 *   u8   register offset (bits 2:0 unless bit 3 of the operation is set)
 *   u8   value (written, received)
 *
 * Besides "no crash", every step checks what uart.h and the PC16550D
 * datasheet promise, against a shadow of what the guest wrote and of the
 * bytes received: registers read back what was written (masked as the
 * chip does), LSR has THRE and TEMT set and DR exactly when the receive
 * FIFO holds data, received bytes come out of RBR in order and are never
 * more than 16, IIR names a real source, and the interrupt line is up
 * only with OUT2 set and loopback off.  Lines handed to the sink hold only
 * printable text (no newline, carriage return or escape), at most
 * UART_LINE_MAX bytes, and a partial line is never empty.  A re-init
 * leaves the same state as a fresh one. */
#include "tests/fuzz/fuzz.h"

#include "devices/uart.h"

struct shadow {
        uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
        uint8_t fifo[UART_RX_FIFO];
        unsigned count;
        size_t written; /* bytes written to THR outside loopback */
        size_t emitted; /* bytes handed to the sink */
};

static struct shadow sh;

static void sink(void *ctx, const char *line, size_t len, bool complete)
{
        CHECK(ctx == &sh);
        CHECK(len <= UART_LINE_MAX);
        CHECK(complete || len > 0);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)line[i];
                CHECK((c >= 0x20 && c < 0x7f) || c == '\t' || c == '\b');
        }
        sh.emitted += len;
        CHECK(sh.emitted <= sh.written);
}

static void shadow_receive(uint8_t c)
{
        if (sh.count < UART_RX_FIFO)
                sh.fifo[sh.count++] = c;
}

static void check_state(const struct vuart *u)
{
        CHECK(u->rx_count <= UART_RX_FIFO && u->rx_head < UART_RX_FIFO);
        CHECK(u->rx_count == sh.count);
        CHECK(u->len < UART_LINE_MAX);
        CHECK(u->esc <= 2);
        if (vuart_irq_asserted(u))
                CHECK((u->mcr & 0x08) && !(u->mcr & 0x10));
        CHECK(vuart_pending(u) == u->len);
}

static void do_read(struct vuart *u, unsigned off)
{
        bool dlab = sh.lcr & 0x80;
        bool irq_before = vuart_irq_asserted(u);
        uint8_t v = vuart_read(u, off);
        switch (off) {
        case 0:
                if (dlab) {
                        CHECK(v == sh.dll);
                } else if (sh.count) {
                        CHECK(v == sh.fifo[0]);
                        memmove(sh.fifo, sh.fifo + 1, --sh.count);
                } else {
                        CHECK(v == 0);
                }
                break;
        case 1:
                CHECK(v == (dlab ? sh.dlm : sh.ier));
                break;
        case 2: {
                uint8_t id = v & 0x0f;
                CHECK(id == 1 || id == 2 || id == 4 || id == 6);
                CHECK((v & 0x30) == 0);
                CHECK((v & 0xc0) == ((sh.fcr & 1) ? 0xc0 : 0));
                /* An interrupt is reported only when enabled. */
                if (id == 4)
                        CHECK((sh.ier & 1) && sh.count);
                if (id == 2)
                        CHECK(sh.ier & 2);
                if (id == 6)
                        CHECK(sh.ier & 4);
                /* The line is up exactly when IIR names a source (and the
                 * OUT2 buffer passes it). */
                bool gate = (sh.mcr & 0x08) && !(sh.mcr & 0x10);
                CHECK(irq_before == (gate && id != 1));
                break;
        }
        case 3:
                CHECK(v == sh.lcr);
                break;
        case 4:
                CHECK(v == sh.mcr);
                break;
        case 5:
                CHECK((v & 0x60) == 0x60);
                CHECK(!!(v & 1) == (sh.count != 0));
                CHECK((v & 0x9c) == 0);
                break;
        case 6:
                if (!(sh.mcr & 0x10))
                        CHECK(v == 0xb0);
                else
                        CHECK((v & 0x0f) == 0);
                break;
        case 7:
                CHECK(v == sh.scr);
                break;
        default:
                CHECK(v == 0xff);
                break;
        }
}

static void do_write(struct vuart *u, unsigned off, uint8_t v)
{
        bool dlab = sh.lcr & 0x80;
        if (off == 0 && !dlab && !(sh.mcr & 0x10))
                sh.written++; /* before the write: it may emit a line */
        bool irq_before = vuart_irq_asserted(u);
        /* A write that says it leaves the interrupt line alone does. */
        if (!vuart_write(u, off, v))
                CHECK(vuart_irq_asserted(u) == irq_before);
        switch (off) {
        case 0:
                if (dlab)
                        sh.dll = v;
                else if (sh.mcr & 0x10)
                        shadow_receive(v);
                break;
        case 1:
                if (dlab)
                        sh.dlm = v;
                else
                        sh.ier = v & 0x0f;
                break;
        case 2:
                sh.fcr = v & 0xc9;
                if (v & 2)
                        sh.count = 0;
                break;
        case 3:
                sh.lcr = v;
                break;
        case 4:
                sh.mcr = v & 0x1f;
                break;
        case 7:
                sh.scr = v;
                break;
        default:
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct vuart u, fresh;
        struct fuzz_in in = fuzz_in(data, size);

        memset(&sh, 0, sizeof(sh));
        sh.dll = 12;
        vuart_init(&u, sink, &sh);
        check_state(&u);

        while (!in_empty(&in)) {
                uint8_t op = in_u8(&in);
                uint8_t off = in_u8(&in);
                uint8_t val = in_u8(&in);
                unsigned reg = (op & 8) ? off : (off & 7u);
                switch (op & 7) {
                case 0:
                case 1:
                case 2:
                        do_read(&u, reg);
                        break;
                case 3:
                case 4:
                case 5:
                        do_write(&u, reg, val);
                        break;
                case 6: {
                        bool full = sh.count == UART_RX_FIFO;
                        CHECK(vuart_receive(&u, val) == !full);
                        shadow_receive(val);
                        break;
                }
                default:
                        if (val & 1) {
                                vuart_flush(&u);
                                CHECK(vuart_pending(&u) == 0);
                        } else if (val & 2) {
                                /* A reset (the VM's restart): same as new. */
                                vuart_init(&u, sink, &sh);
                                vuart_init(&fresh, sink, &sh);
                                CHECK(memcmp(&u, &fresh, sizeof(u)) == 0);
                                size_t w = sh.written, e = sh.emitted;
                                memset(&sh, 0, sizeof(sh));
                                sh.dll = 12;
                                sh.written = w;
                                sh.emitted = e;
                        }
                        break;
                }
                check_state(&u);
        }
        vuart_flush(&u);
        return 0;
}
