/* The physical COM1 port: 16550, 115200 baud, 8N1.  Output only. */
#ifndef VTV_ARCH_X86_SERIAL_H
#define VTV_ARCH_X86_SERIAL_H

#include "lib/types.h"

void serial_init(void);
void serial_putc(char c);
/* Waits until the transmitter is empty (LSR bit 6), so nothing is lost when
 * the machine stops right after. */
void serial_flush(void);
/* Without waiting: the transmitter's FIFO is empty (LSR bit 5), so up to
 * SERIAL_FIFO_DEPTH bytes may be written with serial_tx at once. */
#define SERIAL_FIFO_DEPTH 16
bool serial_tx_empty(void);
/* One byte to the transmitter as it is (no CR added); see serial_tx_empty. */
void serial_tx(uint8_t byte);
/* A received byte, or -1 when none is waiting. */
int serial_getc(void);

#endif
