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
#define MCR_LOOP    0x10
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define IIR_NONE    0x01
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
                u->sink(u->ctx, u->line, u->len);
                u->len = 0;
        }
}

static void transmit(struct vuart *u, uint8_t c)
{
        if (c == '\n') {
                u->sink(u->ctx, u->line, u->len);
                u->len = 0;
                return;
        }
        if (c == '\r')
                return;
        /* The guest must not be able to send terminal escapes or binary
         * noise to the operator's console. */
        u->line[u->len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? (char)c : '?';
        if (u->len == UART_LINE_MAX)
                vuart_flush(u);
}

uint8_t vuart_read(struct vuart *u, unsigned offset)
{
        switch (offset) {
        case REG_RBR_THR:
                return (u->lcr & LCR_DLAB) ? u->dll : 0; /* no input yet */
        case REG_IER:
                return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
        case REG_IIR_FCR:
                return IIR_NONE | ((u->fcr & 1) ? IIR_FIFO : 0);
        case REG_LCR:
                return u->lcr;
        case REG_MCR:
                return u->mcr;
        case REG_LSR:
                return LSR_THRE | LSR_TEMT;
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

void vuart_write(struct vuart *u, unsigned offset, uint8_t value)
{
        switch (offset) {
        case REG_RBR_THR:
                if (u->lcr & LCR_DLAB)
                        u->dll = value;
                else if (!(u->mcr & MCR_LOOP))
                        transmit(u, value);
                break;
        case REG_IER:
                if (u->lcr & LCR_DLAB)
                        u->dlm = value;
                else
                        u->ier = value & 0x0f;
                break;
        case REG_IIR_FCR:
                u->fcr = value & 0xc9;
                break;
        case REG_LCR:
                u->lcr = value;
                break;
        case REG_MCR:
                u->mcr = value & 0x1f;
                break;
        case REG_SCR:
                u->scr = value;
                break;
        default:
                break; /* LSR and MSR are read-only */
        }
}
