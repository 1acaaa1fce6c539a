#include "arch/x86/serial.h"
#include "arch/x86/cpu.h"

#define COM1     0x3f8
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

void serial_init(void)
{
        outb(COM1 + UART_IER, 0x00);
        outb(COM1 + UART_LCR, 0x80); /* DLAB: divisor follows */
        outb(COM1 + 0, 1);           /* 115200 = 115200 / 1 */
        outb(COM1 + 1, 0);
        outb(COM1 + UART_LCR, 0x03); /* 8N1 */
        outb(COM1 + UART_FCR, 0xc7); /* FIFOs on and cleared */
        outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

void serial_putc(char c)
{
        if (c == '\n')
                serial_putc('\r');
        /* A missing port reads 0xff: don't spin forever on it. */
        for (unsigned i = 0; i < 1000000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
                cpu_pause();
        outb(COM1 + UART_THR, (uint8_t)c);
}

bool serial_tx_empty(void)
{
        return (inb(COM1 + UART_LSR) & LSR_THRE) != 0;
}

void serial_tx(uint8_t byte)
{
        outb(COM1 + UART_THR, byte);
}

void serial_flush(void)
{
        for (unsigned i = 0; i < 1000000 && !(inb(COM1 + UART_LSR) & LSR_TEMT); i++)
                cpu_pause();
}

int serial_getc(void)
{
        uint8_t lsr = inb(COM1 + UART_LSR);
        /* 0xff: no UART at all. */
        if (lsr == 0xff || !(lsr & 0x01))
                return -1;
        return inb(COM1 + UART_THR);
}
