#include "devices/reset.h"
#include "devices/acpi.h"

_Static_assert(RESET_CONTROL_PORT == ACPI_RESET_PORT, "the FADT's reset register is 0xcf9");
_Static_assert((ACPI_RESET_VALUE & (RCR_SYS_RST | RCR_RST_CPU)) == (RCR_SYS_RST | RCR_RST_CPU),
               "the FADT's reset value must set SYS_RST and RST_CPU");

/* Output-port pulse commands: 0xf0-0xff, low 4 bits a mask where 0 means
 * "pulse this bit"; bit 0 is the reset line. */
#define KBC_CMD_PULSE_MASK 0xf0
#define KBC_OUTPUT_RESET   0x01

void reset_init(struct reset *r)
{
        r->rcr = 0;
}

bool reset_claims(uint16_t port, unsigned size)
{
        return size == 1 && (port == RESET_CONTROL_PORT || port == KBC_COMMAND_PORT);
}

static uint32_t ones(unsigned size)
{
        return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

uint32_t reset_in(struct reset *r, uint16_t port, unsigned size)
{
        if (!reset_claims(port, size))
                return ones(size);
        if (port == RESET_CONTROL_PORT)
                return r->rcr;
        return KBC_STATUS_ABSENT;
}

void reset_out(struct reset *r, uint16_t port, unsigned size, uint32_t value, bool *reset_requested)
{
        *reset_requested = false;
        if (!reset_claims(port, size))
                return;
        uint8_t b = (uint8_t)value;
        if (port == RESET_CONTROL_PORT) {
                /* The reset starts on RST_CPU going from 0 to 1 (Intel ICH
                 * and PCH datasheets, RST_CNT; PIIX4 datasheet, RC), so the
                 * 0x02-then-0x06 sequence resets once, on the second
                 * write.  The reset puts the register back to 0. */
                bool rising = (b & RCR_RST_CPU) && !(r->rcr & RCR_RST_CPU);
                r->rcr = b & RCR_BITS;
                if (rising) {
                        r->rcr = 0;
                        *reset_requested = true;
                }
                return;
        }
        if ((b & KBC_CMD_PULSE_MASK) == KBC_CMD_PULSE_MASK && !(b & KBC_OUTPUT_RESET))
                *reset_requested = true;
        /* Every other command goes to a controller that is not there. */
}
