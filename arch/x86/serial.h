/* The physical COM1 port: 16550, 115200 baud, 8N1.  Output only. */
#ifndef VTV_ARCH_X86_SERIAL_H
#define VTV_ARCH_X86_SERIAL_H

void serial_init(void);
void serial_putc(char c);
/* Waits until the transmitter is empty (LSR bit 6), so nothing is lost when
 * the machine stops right after. */
void serial_flush(void);
/* A received byte, or -1 when none is waiting. */
int serial_getc(void);

#endif
