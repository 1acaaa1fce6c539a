/* A 16550A UART as the guest sees it at 0x3F8-0x3FF.  Output is collected
 * into lines and handed to a sink (the hypervisor prefixes the VM's name).
 * Transmission is instant unless the hypervisor says the line behind the
 * UART is behind (vuart_set_tx_busy): then LSR reports the transmitter
 * busy and the "transmitter empty" interrupt waits until it is not, so a
 * driver that waits for THRE is held back as by a real, slow line.
 * Input arrives through vuart_receive() into a 16-byte FIFO.  The
 * interrupt line follows the 16550's rules (received data, transmitter
 * empty), gated by MCR.OUT2 as on a PC.  Pure: no I/O, no VMX. */
#ifndef VTV_DEVICES_UART_H
#define VTV_DEVICES_UART_H

#include "lib/types.h"

#define UART_BASE     0x3f8
#define UART_PORTS    8
#define UART_LINE_MAX 512
#define UART_RX_FIFO  16
#define UART_IRQ      4

/* complete: the text ends a line (the guest sent a newline).  Otherwise it
 * is the start or a further piece of a line still being written: flushed
 * early (vuart_flush) or cut because the line buffer was full. */
typedef void (*uart_line_fn)(void *ctx, const char *line, size_t len, bool complete);

struct vuart {
        uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
        bool thre_pending; /* the "transmitter empty" interrupt is owed */
        bool tx_busy;      /* LSR shows THRE and TEMT clear (vuart_set_tx_busy) */
        uint8_t esc;       /* inside a terminal escape sequence: 1 after ESC, 2 in CSI */
        uint8_t rx[UART_RX_FIFO];
        unsigned rx_head, rx_count;
        bool overrun;
        char line[UART_LINE_MAX];
        size_t len;
        uart_line_fn sink;
        void *ctx;
};

void vuart_init(struct vuart *u, uart_line_fn sink, void *ctx);
uint8_t vuart_read(struct vuart *u, unsigned offset);
/* Returns whether the write may have changed the interrupt line
 * (vuart_irq_asserted): false for the scratch, line-control and divisor
 * registers and the read-only ones. */
bool vuart_write(struct vuart *u, unsigned offset, uint8_t value);
/* Emits a pending partial line (e.g. when the VM stops, or when the guest
 * has paused in the middle of a line, like a shell prompt). */
void vuart_flush(struct vuart *u);
/* Bytes of a line waiting for its end. */
size_t vuart_pending(const struct vuart *u);
/* The line behind the UART is behind (busy) or has caught up: LSR's THRE
 * and TEMT follow, and catching up owes the THRE interrupt.  Bytes written
 * while busy are still taken; the hypervisor decides what it keeps. */
void vuart_set_tx_busy(struct vuart *u, bool busy);
/* Queues one received byte; false when the FIFO was full (overrun). */
bool vuart_receive(struct vuart *u, uint8_t c);
/* True while the UART asserts its interrupt line (IRQ 4 on a PC). */
bool vuart_irq_asserted(const struct vuart *u);

#endif
