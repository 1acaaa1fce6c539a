#include "devices/uart.h"
#include "lib/string.h"

/* Register offsets and bits (PC16550D datasheet). */
#define REG_RBR_THR 0
#define REG_IER     1
#define REG_IIR_FCR 2
#define REG_LCR     3
#define REG_MCR     4
#define REG_LSR     5
#define REG_MSR     6
#define REG_SCR     7
#define LCR_DLAB    0x80
#define MCR_OUT2    0x08
#define MCR_LOOP    0x10
#define LSR_DR      0x01
#define LSR_OE      0x02
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define IER_RDA     0x01
#define IER_THRE    0x02
#define IIR_NONE    0x01
#define IIR_THRE    0x02
#define IIR_RDA     0x04
#define IIR_RLS     0x06
#define IIR_FIFO    0xc0

void vuart_init(struct vuart *u, uart_line_fn sink, void *ctx)
{
        vtv_memset(u, 0, sizeof(*u));
        u->sink = sink;
        u->ctx = ctx;
        u->dll = 12; /* 9600 baud, a common reset default */
}

void vuart_flush(struct vuart *u)
{
        if (u->len) {
                u->sink(u->ctx, u->line, u->len, false);
                u->len = 0;
        }
}

size_t vuart_pending(const struct vuart *u)
{
        return u->len;
}

static void transmit(struct vuart *u, uint8_t c)
{
        if (c == '\n') {
                u->sink(u->ctx, u->line, u->len, true);
                u->len = 0;
                return;
        }
        if (c == '\r')
                return;
        /* Terminal control sequences (ECMA-48: ESC, or ESC '[' parameters
         * and a final byte 0x40-0x7e) are dropped whole: the operator's
         * terminal is not the guest's to drive, and a shell's line editing
         * sends them after every prompt. */
        if (c == 0x1b) {
                u->esc = 1;
                return;
        }
        if (u->esc == 1) {
                u->esc = c == '[' ? 2 : 0;
                return;
        }
        if (u->esc == 2) {
                if (c >= 0x40 && c <= 0x7e)
                        u->esc = 0;
                else if (c < 0x20 || c > 0x3f)
                        u->esc = 0; /* malformed: end it, drop the byte */
                return;
        }
        /* The guest must not be able to send terminal escapes or binary
         * noise to the operator's console; backspace is harmless and lets a
         * shell's line editing work. */
        u->line[u->len++] = (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\b' ? (char)c : '?';
        if (u->len == UART_LINE_MAX)
                vuart_flush(u);
}

bool vuart_receive(struct vuart *u, uint8_t c)
{
        if (u->rx_count == UART_RX_FIFO) {
                u->overrun = true;
                return false;
        }
        u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO] = c;
        u->rx_count++;
        return true;
}

/* The highest-priority pending interrupt (PC16550D table 4), or IIR_NONE. */
static uint8_t pending_source(const struct vuart *u)
{
        if ((u->ier & 0x04) && u->overrun)
                return IIR_RLS;
        if ((u->ier & IER_RDA) && u->rx_count)
                return IIR_RDA;
        if ((u->ier & IER_THRE) && u->thre_pending)
                return IIR_THRE;
        return IIR_NONE;
}

bool vuart_irq_asserted(const struct vuart *u)
{
        /* On a PC the line reaches the interrupt controller only through
         * the OUT2-controlled buffer. */
        return (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP) && pending_source(u) != IIR_NONE;
}

uint8_t vuart_read(struct vuart *u, unsigned offset)
{
        switch (offset) {
        case REG_RBR_THR: {
                if (u->lcr & LCR_DLAB)
                        return u->dll;
                if (!u->rx_count)
                        return 0;
                uint8_t c = u->rx[u->rx_head];
                u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
                u->rx_count--;
                return c;
        }
        case REG_IER:
                return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
        case REG_IIR_FCR: {
                uint8_t src = pending_source(u);
                /* Reading IIR while it reports THRE acknowledges it. */
                if (src == IIR_THRE)
                        u->thre_pending = false;
                return src | ((u->fcr & 1) ? IIR_FIFO : 0);
        }
        case REG_LCR:
                return u->lcr;
        case REG_MCR:
                return u->mcr;
        case REG_LSR: {
                uint8_t lsr = (u->tx_busy ? 0 : LSR_THRE | LSR_TEMT) | (u->rx_count ? LSR_DR : 0) |
                              (u->overrun ? LSR_OE : 0);
                u->overrun = false; /* error bits clear on read */
                return lsr;
        }
        case REG_MSR:
                if (u->mcr & MCR_LOOP) {
                        /* Loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
                        return (uint8_t)(((u->mcr & 0x02) << 3) | ((u->mcr & 0x01) << 5) |
                                         ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
                }
                return 0xb0; /* DCD, DSR, CTS: a terminal is attached */
        case REG_SCR:
                return u->scr;
        default:
                return 0xff;
        }
}

void vuart_set_tx_busy(struct vuart *u, bool busy)
{
        if (u->tx_busy && !busy)
                u->thre_pending = true; /* the transmitter has emptied */
        u->tx_busy = busy;
}

bool vuart_write(struct vuart *u, unsigned offset, uint8_t value)
{
        switch (offset) {
        case REG_RBR_THR:
                if (u->lcr & LCR_DLAB) {
                        u->dll = value;
                        return false;
                } else {
                        if (u->mcr & MCR_LOOP)
                                vuart_receive(u, value);
                        else
                                transmit(u, value);
                        /* Sent at once: the holding register is empty again,
                         * unless the line behind it is behind. */
                        u->thre_pending = !u->tx_busy;
                }
                break;
        case REG_IER:
                if (u->lcr & LCR_DLAB) {
                        u->dlm = value;
                        return false;
                } else {
                        /* Enabling THRE with an empty holding register raises
                         * the interrupt at once, as on a real 16550. */
                        if ((value & IER_THRE) && !(u->ier & IER_THRE) && !u->tx_busy)
                                u->thre_pending = true;
                        u->ier = value & 0x0f;
                }
                break;
        case REG_IIR_FCR:
                u->fcr = value & 0xc9;
                if (value & 0x02) { /* clear the receive FIFO */
                        u->rx_count = 0;
                        u->rx_head = 0;
                }
                break;
        case REG_LCR:
                u->lcr = value;
                return false;
        case REG_MCR:
                u->mcr = value & 0x1f;
                break;
        case REG_SCR:
                u->scr = value;
                return false;
        default:
                return false; /* LSR and MSR are read-only */
        }
        return true;
}
