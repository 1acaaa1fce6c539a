#include "devices/acpi.h"
#include "lib/bytes.h"
#include "lib/printf.h"
#include "lib/string.h"

#define OEM_ID           "VTVISR"
#define OEM_TABLE_ID     "VTVISR  "
#define OEM_REVISION     1
#define CREATOR_ID       "VTVR"
#define CREATOR_REVISION 1

/* System description table header (ACPI 6.4 5.2.6, table 5.4). */
#define HDR_LEN      36
#define HDR_LENGTH   4
#define HDR_REVISION 8
#define HDR_CHECKSUM 9

#define RSDP_LEN       36
#define RSDP_V1_LEN    20 /* the part the first checksum covers */
#define FACS_LEN       64
#define FADT_LEN       276 /* FADT major version 6 (ACPI 6.4 table 5.9) */
#define MADT_FIXED_LEN 44
#define MCFG_LEN       60

#define XSDT_REVISION 1
#define FADT_REVISION 6
#define FADT_MINOR    4
#define MADT_REVISION 5 /* ACPI 6.3 and later */
#define DSDT_REVISION 2 /* 2 and up: AML integers are 64-bit (ACPI 6.4 5.2.11.1) */
#define FACS_VERSION  2
#define MCFG_REVISION 1

/* MCFG (PCI Firmware 3.2, 4.1.2): the header, 8 reserved bytes, then one
 * 16-byte allocation per ECAM range: base address (the address of bus 0
 * of the segment, whatever the start bus), segment, start and end bus, 4
 * reserved bytes. */
#define MCFG_ALLOC         44
#define MCFG_ALLOC_BASE    0
#define MCFG_ALLOC_SEGMENT 8
#define MCFG_ALLOC_START   10
#define MCFG_ALLOC_END     11

/* FADT field offsets (ACPI 6.4 table 5.9). */
#define FADT_FIRMWARE_CTRL   36
#define FADT_DSDT            40
#define FADT_PM_PROFILE      45
#define FADT_SCI_INT         46
#define FADT_SMI_CMD         48
#define FADT_PM1A_EVT_BLK    56
#define FADT_PM1A_CNT_BLK    64
#define FADT_PM_TMR_BLK      76
#define FADT_PM1_EVT_LEN     88
#define FADT_PM1_CNT_LEN     89
#define FADT_PM_TMR_LEN      91
#define FADT_P_LVL2_LAT      96
#define FADT_P_LVL3_LAT      98
#define FADT_CENTURY         108
#define FADT_IAPC_BOOT_ARCH  109
#define FADT_FLAGS           112
#define FADT_RESET_REG       116
#define FADT_RESET_VALUE     128
#define FADT_MINOR_VERSION   131
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT          140
#define FADT_X_PM1A_EVT_BLK  148
#define FADT_X_PM1A_CNT_BLK  172
#define FADT_X_PM_TMR_BLK    208
#define FADT_HYPERVISOR_ID   268

/* FADT flags (ACPI 6.4 table 5.10). */
#define FADT_F_WBINVD        BIT(0) /* must be set: WBINVD flushes caches */
#define FADT_F_PROC_C1       BIT(2) /* C1 (HLT) works on every CPU */
#define FADT_F_PWR_BUTTON    BIT(4) /* no fixed-feature power button */
#define FADT_F_SLP_BUTTON    BIT(5) /* no fixed-feature sleep button */
#define FADT_F_FIX_RTC       BIT(6) /* no RTC wake status in PM1 */
#define FADT_F_RESET_REG_SUP BIT(10)
#define FADT_F_HEADLESS      BIT(12)
/* TMR_VAL_EXT (bit 8) stays 0: the PM timer is 24 bits wide. */

/* IA-PC boot architecture flags (ACPI 6.4 table 5.11). */
#define BOOT_ARCH_LEGACY_DEVICES  BIT(0) /* the UART and RTC sit at ISA ports */
#define BOOT_ARCH_VGA_NOT_PRESENT BIT(2)
/* 8042 (bit 1) stays 0: there is no keyboard controller, and Linux then
 * skips probing ports 0x60/0x64 (FADT revision >= 2). */

/* Generic Address Structure (ACPI 6.4 5.2.3.2). */
#define GAS_LEN          12
#define GAS_SYSTEM_IO    1
#define GAS_ACCESS_BYTE  1
#define GAS_ACCESS_WORD  2
#define GAS_ACCESS_DWORD 3

/* A _PSS/_CST-less guest: latencies above 100 and 1000 us mean C2 and C3
 * are not supported (ACPI 6.4 table 5.9, P_LVL2_LAT / P_LVL3_LAT). */
#define P_LVL2_NONE 101
#define P_LVL3_NONE 1001

/* MADT (ACPI 6.4 5.2.12). */
#define MADT_PCAT_COMPAT   BIT(0)
#define MADT_LAPIC         0
#define MADT_IOAPIC        1
#define MADT_ISO           2
#define MADT_LAPIC_NMI     4
#define MADT_LAPIC_LEN     8
#define MADT_IOAPIC_LEN    12
#define MADT_ISO_LEN       10
#define MADT_LAPIC_NMI_LEN 6
#define MADT_LAPIC_ENABLED BIT(0)
/* MPS INTI flags (table 5.26): polarity in bits 1:0, trigger in 3:2. */
#define MPS_ACTIVE_HIGH 0x1
#define MPS_LEVEL       0xc
#define ALL_PROCESSORS  0xff
#define LINT1           1

/* AML opcodes (ACPI 6.4 20.2). */
#define AML_ZERO       0x00
#define AML_ONE        0x01
#define AML_NAME       0x08
#define AML_BYTE       0x0a
#define AML_WORD       0x0b
#define AML_DWORD      0x0c
#define AML_QWORD      0x0e
#define AML_SCOPE      0x10
#define AML_BUFFER     0x11
#define AML_PACKAGE    0x12
#define AML_EXT        0x5b
#define AML_EXT_DEVICE 0x82
#define AML_ROOT       0x5c

/* Resource descriptors (ACPI 6.4 6.4). */
#define RES_IRQ_NOFLAGS 0x22 /* small item 0x04, length 2 */
#define RES_IO          0x47 /* small item 0x08, length 7 */
#define RES_END         0x79 /* small item 0x0f, length 1 */
#define RES_MEM32_FIXED 0x86
#define RES_DWORD_ADDR  0x87
#define RES_WORD_ADDR   0x88
#define RES_IO_DECODE16 0x01
#define ADDR_MEMORY     0
#define ADDR_IO         1
#define ADDR_BUS        2
#define ADDR_MIN_FIXED  BIT(2)
#define ADDR_MAX_FIXED  BIT(3)
#define IO_ENTIRE_RANGE 0x3
#define MEM_READ_WRITE  0x1 /* non-cacheable; for Memory32Fixed: writable */

static uint8_t checksum(const uint8_t *p, size_t len)
{
        uint8_t sum = 0;
        for (size_t i = 0; i < len; i++)
                sum = (uint8_t)(sum + p[i]);
        return (uint8_t)-sum;
}

static void header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
        vtv_memcpy(t, sig, 4);
        put32(t + HDR_LENGTH, len);
        t[HDR_REVISION] = rev;
        vtv_memcpy(t + 10, OEM_ID, 6);
        vtv_memcpy(t + 16, OEM_TABLE_ID, 8);
        put32(t + 24, OEM_REVISION);
        vtv_memcpy(t + 28, CREATOR_ID, 4);
        put32(t + 32, CREATOR_REVISION);
}

static void seal(uint8_t *t)
{
        uint32_t len = (uint32_t)t[HDR_LENGTH] | (uint32_t)t[HDR_LENGTH + 1] << 8 |
                       (uint32_t)t[HDR_LENGTH + 2] << 16 | (uint32_t)t[HDR_LENGTH + 3] << 24;
        t[HDR_CHECKSUM] = 0;
        t[HDR_CHECKSUM] = checksum(t, len);
}

static void gas_io(uint8_t *g, uint16_t port, uint8_t bits, uint8_t access)
{
        g[0] = GAS_SYSTEM_IO;
        g[1] = bits;
        g[2] = 0; /* bit offset */
        g[3] = access;
        put64(g + 4, port);
}

static void build_fadt(const struct acpi_config *cfg, uint8_t *t, gpa_t facs, gpa_t dsdt)
{
        header(t, "FACP", FADT_LEN, FADT_REVISION);
        put32(t + FADT_FIRMWARE_CTRL, (uint32_t)facs);
        put64(t + FADT_X_FIRMWARE_CTRL, facs);
        put32(t + FADT_DSDT, (uint32_t)dsdt);
        put64(t + FADT_X_DSDT, dsdt);
        t[FADT_PM_PROFILE] = 0; /* unspecified */
        put16(t + FADT_SCI_INT, ACPI_SCI_IRQ);
        /* SMI_CMD = 0: no SMM, the platform is always in ACPI mode, so
         * ACPI_ENABLE/ACPI_DISABLE stay 0 (ACPI 6.4 table 5.9). */
        put32(t + FADT_SMI_CMD, 0);

        /* PM1a event and control blocks: what OSPM uses for S5 (ACPI 6.4
         * 4.8.3.1, 4.8.3.2, 16.1.7).  The X_ blocks repeat them; their
         * width must equal the length fields times 8. */
        put32(t + FADT_PM1A_EVT_BLK, ACPI_PM1A_EVT_PORT);
        put32(t + FADT_PM1A_CNT_BLK, ACPI_PM1A_CNT_PORT);
        t[FADT_PM1_EVT_LEN] = ACPI_PM1_EVT_LEN;
        t[FADT_PM1_CNT_LEN] = ACPI_PM1_CNT_LEN;
        gas_io(t + FADT_X_PM1A_EVT_BLK, ACPI_PM1A_EVT_PORT, ACPI_PM1_EVT_LEN * 8, GAS_ACCESS_WORD);
        gas_io(t + FADT_X_PM1A_CNT_BLK, ACPI_PM1A_CNT_PORT, ACPI_PM1_CNT_LEN * 8, GAS_ACCESS_WORD);
        if (cfg->pm_timer) {
                put32(t + FADT_PM_TMR_BLK, ACPI_PM_TMR_PORT);
                t[FADT_PM_TMR_LEN] = ACPI_PM_TMR_LEN;
                gas_io(t + FADT_X_PM_TMR_BLK, ACPI_PM_TMR_PORT, ACPI_PM_TMR_LEN * 8,
                       GAS_ACCESS_DWORD);
        }
        /* No PM1b, PM2 or GPE blocks: all optional (zero = absent). */

        put16(t + FADT_P_LVL2_LAT, P_LVL2_NONE);
        put16(t + FADT_P_LVL3_LAT, P_LVL3_NONE);
        /* CENTURY = 0: the RTC's century byte is not promised. */
        t[FADT_CENTURY] = 0;
        put16(t + FADT_IAPC_BOOT_ARCH, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_VGA_NOT_PRESENT);

        uint32_t flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
                         FADT_F_FIX_RTC | FADT_F_HEADLESS;
        if (cfg->reset_reg) {
                /* 0xcf9 with 0x06 (hard reset) is the PC chipset convention
                 * that Linux's reboot=pci also uses, so one emulated port
                 * serves both paths. */
                flags |= FADT_F_RESET_REG_SUP;
                gas_io(t + FADT_RESET_REG, ACPI_RESET_PORT, 8, GAS_ACCESS_BYTE);
                t[FADT_RESET_VALUE] = ACPI_RESET_VALUE;
        }
        put32(t + FADT_FLAGS, flags);
        t[FADT_MINOR_VERSION] = FADT_MINOR;
        vtv_memcpy(t + FADT_HYPERVISOR_ID, "VTVISOR", 7);
        seal(t);
}

static void build_facs(uint8_t *t)
{
        /* ACPI 6.4 5.2.10: required unless HW_REDUCED_ACPI.  No waking
         * vector (no S1-S4), no global lock users; no checksum field. */
        vtv_memcpy(t, "FACS", 4);
        put32(t + 4, FACS_LEN);
        t[32] = FACS_VERSION;
}

static uint32_t madt_len(unsigned ncpus)
{
        return MADT_FIXED_LEN + ncpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN + 2 * MADT_ISO_LEN +
               MADT_LAPIC_NMI_LEN;
}

static uint8_t *madt_iso(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
        e[0] = MADT_ISO;
        e[1] = MADT_ISO_LEN;
        e[2] = 0; /* bus: ISA */
        e[3] = irq;
        put32(e + 4, gsi);
        put16(e + 8, flags);
        return e + MADT_ISO_LEN;
}

static void build_madt(const struct acpi_config *cfg, uint8_t *t)
{
        header(t, "APIC", madt_len(cfg->ncpus), MADT_REVISION);
        put32(t + 36, ACPI_LAPIC_ADDR);
        /* PCAT_COMPAT: the guest should mask the dual 8259s; Linux probes
         * them at ports 0x21/0xa1 and falls back to no PIC when the mask
         * it writes does not read back. */
        put32(t + 40, MADT_PCAT_COMPAT);
        uint8_t *e = t + MADT_FIXED_LEN;
        for (unsigned i = 0; i < cfg->ncpus; i++, e += MADT_LAPIC_LEN) {
                e[0] = MADT_LAPIC;
                e[1] = MADT_LAPIC_LEN;
                e[2] = (uint8_t)i; /* ACPI processor UID */
                e[3] = (uint8_t)i; /* APIC ID */
                put32(e + 4, MADT_LAPIC_ENABLED);
        }
        e[0] = MADT_IOAPIC;
        e[1] = MADT_IOAPIC_LEN;
        e[2] = cfg->ioapic_id;
        e[3] = 0;
        put32(e + 4, ACPI_IOAPIC_ADDR);
        put32(e + 8, ACPI_IOAPIC_GSI_BASE);
        e += MADT_IOAPIC_LEN;
        /* The PC convention (ACPI 6.4 5.2.12.5): the PIT's IRQ 0 is wired
         * to IOAPIC pin 2; ISA defaults (edge, high) otherwise. */
        e = madt_iso(e, 0, 2, 0);
        /* The SCI is level-triggered (ACPI 6.4 5.2.9, SCI_INT); declared
         * active high so the IOAPIC pin needs no inversion. */
        e = madt_iso(e, ACPI_SCI_IRQ, ACPI_SCI_IRQ, MPS_ACTIVE_HIGH | MPS_LEVEL);
        /* LINT1 of every local APIC is NMI, as on PCs (ACPI 6.4 5.2.12.7). */
        e[0] = MADT_LAPIC_NMI;
        e[1] = MADT_LAPIC_NMI_LEN;
        e[2] = ALL_PROCESSORS;
        put16(e + 3, 0); /* conforms to the bus: edge, active high */
        e[5] = LINT1;
        seal(t);
}

/* A bounded AML writer.  Packages are written content first: pkg_end()
 * then shifts the content to make room for the minimal PkgLength
 * encoding (ACPI 6.4 20.2.4), which depends on the content's size. */
struct aml {
        uint8_t *buf;
        size_t len, cap;
        bool overflow;
};

static void emit(struct aml *a, const void *p, size_t n)
{
        if (n > a->cap - a->len) {
                a->overflow = true;
                return;
        }
        vtv_memcpy(a->buf + a->len, p, n);
        a->len += n;
}

static void emit1(struct aml *a, uint8_t b)
{
        emit(a, &b, 1);
}

static size_t pkg_begin(struct aml *a)
{
        return a->len;
}

static void pkg_end(struct aml *a, size_t start)
{
        if (a->overflow)
                return;
        size_t n = a->len - start, k;
        /* One byte holds 6 bits of length; each extra byte adds 8 bits to
         * the 4 left in the lead byte. */
        if (n + 1 < BIT(6))
                k = 1;
        else if (n + 2 < BIT(12))
                k = 2;
        else if (n + 3 < BIT(20))
                k = 3;
        else
                k = 4;
        if (k > a->cap - a->len) {
                a->overflow = true;
                return;
        }
        vtv_memmove(a->buf + start + k, a->buf + start, n);
        a->len += k;
        size_t total = n + k;
        if (k == 1) {
                a->buf[start] = (uint8_t)total;
                return;
        }
        a->buf[start] = (uint8_t)((k - 1) << 6 | (total & 0xf));
        for (size_t i = 1; i < k; i++)
                a->buf[start + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
}

static void aml_int(struct aml *a, uint64_t v)
{
        uint8_t b[8];
        if (v == 0) {
                emit1(a, AML_ZERO);
        } else if (v == 1) {
                emit1(a, AML_ONE);
        } else if (v <= 0xff) {
                emit1(a, AML_BYTE);
                emit1(a, (uint8_t)v);
        } else if (v <= 0xffff) {
                emit1(a, AML_WORD);
                put16(b, (uint16_t)v);
                emit(a, b, 2);
        } else if (v <= 0xffffffff) {
                emit1(a, AML_DWORD);
                put32(b, (uint32_t)v);
                emit(a, b, 4);
        } else {
                emit1(a, AML_QWORD);
                put64(b, v);
                emit(a, b, 8);
        }
}

/* Name (seg, v) */
static void aml_name_int(struct aml *a, const char seg[4], uint64_t v)
{
        emit1(a, AML_NAME);
        emit(a, seg, 4);
        aml_int(a, v);
}

/* EISAID (ACPI 6.4 19.6.35): three letters of 5 bits each ('A' = 1) and
 * four hex digits, stored big-endian; always a DWordConst. */
static void aml_name_eisaid(struct aml *a, const char seg[4], const char id[7])
{
        uint16_t vendor = (uint16_t)((id[0] - '@') << 10 | (id[1] - '@') << 5 | (id[2] - '@'));
        uint16_t product = 0;
        for (int i = 3; i < 7; i++) {
                char c = id[i];
                product = (uint16_t)(product << 4 | (c <= '9' ? c - '0' : c - 'A' + 10));
        }
        uint8_t b[4] = { (uint8_t)(vendor >> 8), (uint8_t)vendor, (uint8_t)(product >> 8),
                         (uint8_t)product };
        emit1(a, AML_NAME);
        emit(a, seg, 4);
        emit1(a, AML_DWORD);
        emit(a, b, 4);
}

/* Name (seg, Buffer () { res }) with the end tag appended; checksum 0
 * means "treat as valid" (ACPI 6.4 6.4.2.9). */
static void aml_name_resources(struct aml *a, const char seg[4], const uint8_t *res, size_t n)
{
        emit1(a, AML_NAME);
        emit(a, seg, 4);
        emit1(a, AML_BUFFER);
        size_t pkg = pkg_begin(a);
        aml_int(a, n + 2);
        emit(a, res, n);
        emit1(a, RES_END);
        emit1(a, 0);
        pkg_end(a, pkg);
}

static size_t res_io(uint8_t *r, uint16_t port, uint8_t align, uint8_t len)
{
        r[0] = RES_IO;
        r[1] = RES_IO_DECODE16;
        put16(r + 2, port); /* minimum */
        put16(r + 4, port); /* maximum */
        r[6] = align;
        r[7] = len;
        return 8;
}

/* A Word Address Space Descriptor for a range the bridge produces (ACPI
 * 6.4 6.4.3.5.3): fixed, positive decode, no translation. */
static size_t res_word(uint8_t *r, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
        r[0] = RES_WORD_ADDR;
        put16(r + 1, 13);
        r[3] = type;
        r[4] = ADDR_MIN_FIXED | ADDR_MAX_FIXED;
        r[5] = tflags;
        put16(r + 6, 0); /* granularity */
        put16(r + 8, min);
        put16(r + 10, max);
        put16(r + 12, 0); /* translation */
        put16(r + 14, (uint16_t)(max - min + 1));
        return 16;
}

/* The DWord form (ACPI 6.4 6.4.3.5.2), for the 32-bit MMIO window. */
static size_t res_dword_mem(uint8_t *r, uint32_t min, uint32_t len)
{
        r[0] = RES_DWORD_ADDR;
        put16(r + 1, 23);
        r[3] = ADDR_MEMORY;
        r[4] = ADDR_MIN_FIXED | ADDR_MAX_FIXED;
        r[5] = MEM_READ_WRITE;
        put32(r + 6, 0);
        put32(r + 10, min);
        put32(r + 14, min + len - 1);
        put32(r + 18, 0);
        put32(r + 22, len);
        return 26;
}

/* A Fixed Location Memory Range Descriptor (ACPI 6.4 6.4.3.4):
 * Memory32Fixed (ReadWrite, base, len), a range the device consumes. */
static size_t res_mem32_fixed(uint8_t *r, uint32_t base, uint32_t len)
{
        r[0] = RES_MEM32_FIXED;
        put16(r + 1, 9);
        r[3] = MEM_READ_WRITE;
        put32(r + 4, base);
        put32(r + 8, len);
        return 12;
}

static uint64_t ecam_len(const struct acpi_config *cfg)
{
        return ((uint64_t)cfg->mcfg_end_bus + 1) * MiB(1);
}

/* Device (ECAM): the motherboard resource that reserves the ECAM window.
 * PCI Firmware 3.2 4.1.2: the MCFG's ranges must be reserved through ACPI
 * as motherboard resources (PNP0C02), e820 reservation being optional;
 * Linux looks for them in every PNP0C01/PNP0C02 _CRS (is_acpi_reserved).
 * Not in PCI0._CRS: every memory range there is a window the bridge
 * forwards to PCI, which Linux would hand out to BARs.  A child of PCI0 as
 * on Intel platforms, whose PNP0C02 "PDRC" under the host bridge reserves
 * its PCIEXBAR. */
static void dsdt_ecam(const struct acpi_config *cfg, struct aml *a)
{
        uint8_t res[12];
        size_t n = 0;

        emit1(a, AML_EXT);
        emit1(a, AML_EXT_DEVICE);
        size_t dev = pkg_begin(a);
        emit(a, "ECAM", 4);
        aml_name_eisaid(a, "_HID", "PNP0C02");
        aml_name_int(a, "_UID", 0);
        n += res_mem32_fixed(res + n, (uint32_t)cfg->mcfg_base, (uint32_t)ecam_len(cfg));
        aml_name_resources(a, "_CRS", res, n);
        pkg_end(a, dev);
}

/* _PRT (ACPI 6.4 6.2.13): for each device slot 1-31 and pin INTA#-INTD#
 * a Package { Address 0xSSSSFFFF (any function of slot S), Pin, Source 0,
 * Source Index GSI }; Source 0 means the GSI is an I/O APIC input. */
static void dsdt_prt(struct aml *a)
{
        emit1(a, AML_NAME);
        emit(a, "_PRT", 4);
        emit1(a, AML_PACKAGE);
        size_t outer = pkg_begin(a);
        emit1(a, 31 * 4);
        for (unsigned slot = 1; slot < 32; slot++) {
                for (unsigned pin = 0; pin < 4; pin++) {
                        emit1(a, AML_PACKAGE);
                        size_t e = pkg_begin(a);
                        emit1(a, 4);
                        aml_int(a, (uint64_t)slot << 16 | 0xffff);
                        aml_int(a, pin);
                        aml_int(a, 0);
                        aml_int(a, ACPI_PCI_GSI(slot, pin));
                        pkg_end(a, e);
                }
        }
        pkg_end(a, outer);
}

static void dsdt_pci(const struct acpi_config *cfg, struct aml *a)
{
        uint8_t res[96];
        size_t n = 0;

        emit1(a, AML_EXT);
        emit1(a, AML_EXT_DEVICE);
        size_t dev = pkg_begin(a);
        emit(a, "PCI0", 4);
        /* A PCI root bridge (ACPI 6.4 6.1.5 _HID; PCI Firmware Spec 3.2,
         * 4.1.1: PNP0A03) on segment 0, bus 0. */
        aml_name_eisaid(a, "_HID", "PNP0A03");
        aml_name_int(a, "_UID", 0);
        aml_name_int(a, "_SEG", 0);
        aml_name_int(a, "_BBN", 0);
        /* _CRS: what the bridge decodes.  Buses 0-255, or only those the
         * MCFG covers, as Linux otherwise reports that it "only partially
         * covers this bridge" (pci_mmconfig_insert); the config ports
         * 0xcf8-0xcff it consumes; all other I/O ports; the MMIO window. */
        n += res_word(res + n, ADDR_BUS, 0, 0, cfg->mcfg_base ? cfg->mcfg_end_bus : 0xff);
        n += res_io(res + n, 0xcf8, 1, 8);
        n += res_word(res + n, ADDR_IO, IO_ENTIRE_RANGE, 0, 0xcf7);
        n += res_word(res + n, ADDR_IO, IO_ENTIRE_RANGE, 0xd00, 0xffff);
        if (cfg->pci_mmio_size)
                n += res_dword_mem(res + n, cfg->pci_mmio_base, cfg->pci_mmio_size);
        aml_name_resources(a, "_CRS", res, n);
        dsdt_prt(a);
        if (cfg->mcfg_base)
                dsdt_ecam(cfg, a);
        pkg_end(a, dev);
}

static void dsdt_com1(struct aml *a)
{
        uint8_t res[16];
        size_t n = 0;

        emit1(a, AML_EXT);
        emit1(a, AML_EXT_DEVICE);
        size_t dev = pkg_begin(a);
        emit(a, "COM1", 4);
        aml_name_eisaid(a, "_HID", "PNP0501"); /* 16550A-compatible UART */
        aml_name_int(a, "_UID", 1);
        n += res_io(res + n, 0x3f8, 1, 8);
        res[n++] = RES_IRQ_NOFLAGS;
        put16(res + n, 1u << 4); /* IRQ 4 */
        n += 2;
        aml_name_resources(a, "_CRS", res, n);
        pkg_end(a, dev);
}

/* Returns the table length, or 0 when it does not fit in cap bytes. */
static size_t build_dsdt(const struct acpi_config *cfg, uint8_t *t, size_t cap)
{
        if (cap < HDR_LEN)
                return 0;
        struct aml a = { .buf = t, .len = HDR_LEN, .cap = cap };

        /* \_S5: SLP_TYPa and SLP_TYPb for soft-off (ACPI 6.4 7.4.2). */
        emit1(&a, AML_NAME);
        emit(&a, "_S5_", 4);
        emit1(&a, AML_PACKAGE);
        size_t pkg = pkg_begin(&a);
        emit1(&a, 4);
        aml_int(&a, ACPI_SLP_TYP_S5);
        aml_int(&a, ACPI_SLP_TYP_S5);
        aml_int(&a, 0);
        aml_int(&a, 0);
        pkg_end(&a, pkg);

        if (cfg->pci || cfg->com1) {
                emit1(&a, AML_SCOPE);
                size_t scope = pkg_begin(&a);
                emit1(&a, AML_ROOT);
                emit(&a, "_SB_", 4);
                if (cfg->pci)
                        dsdt_pci(cfg, &a);
                if (cfg->com1)
                        dsdt_com1(&a);
                pkg_end(&a, scope);
        }
        if (a.overflow)
                return 0;
        header(t, "DSDT", (uint32_t)a.len, DSDT_REVISION);
        seal(t);
        return a.len;
}

static void build_mcfg(const struct acpi_config *cfg, uint8_t *t)
{
        header(t, "MCFG", MCFG_LEN, MCFG_REVISION);
        uint8_t *e = t + MCFG_ALLOC;
        put64(e + MCFG_ALLOC_BASE, cfg->mcfg_base);
        put16(e + MCFG_ALLOC_SEGMENT, 0);
        e[MCFG_ALLOC_START] = 0;
        e[MCFG_ALLOC_END] = cfg->mcfg_end_bus;
        seal(t);
}

static void build_xsdt(uint8_t *t, const gpa_t *entries, unsigned n)
{
        header(t, "XSDT", HDR_LEN + 8 * n, XSDT_REVISION);
        for (unsigned i = 0; i < n; i++)
                put64(t + HDR_LEN + 8 * i, entries[i]);
        seal(t);
}

static void build_rsdp(uint8_t *t, gpa_t xsdt)
{
        /* ACPI 6.4 5.2.5.3: the first checksum covers the ACPI 1.0 part,
         * the extended one all 36 bytes.  No RSDT: revision 2 OSPMs use
         * the XSDT. */
        vtv_memcpy(t, "RSD PTR ", 8);
        vtv_memcpy(t + 9, OEM_ID, 6);
        t[15] = 2;
        put32(t + 16, 0);
        put32(t + 20, RSDP_LEN);
        put64(t + 24, xsdt);
        t[8] = checksum(t, RSDP_V1_LEN);
        t[32] = checksum(t, RSDP_LEN);
}

#define FAIL(buf, ...) (vtv_snprintf((buf), sizeof(buf), __VA_ARGS__), (const char *)(buf))

/* Whether [a, a + alen) and [b, b + blen) share a byte; empty ranges
 * share none. */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
        return alen && blen && a < b + blen && b < a + alen;
}

/* The I/O APIC page up to the end of the local APIC page. */
#define APIC_RANGE_LEN (ACPI_LAPIC_ADDR + PAGE_SIZE - ACPI_IOAPIC_ADDR)

/* Checks the PCI windows; returns NULL, or out->err. */
static const char *check_config(const struct acpi_config *cfg, size_t buf_size,
                                struct acpi_layout *out)
{
        if (cfg->pci_mmio_size) {
                uint64_t end = (uint64_t)cfg->pci_mmio_base + cfg->pci_mmio_size;
                if (!cfg->pci)
                        return FAIL(out->err, "a PCI MMIO window without the PCI host bridge");
                if (end > GiB(4))
                        return FAIL(out->err, "PCI MMIO window [0x%x, 0x%llx) crosses 4 GiB",
                                    cfg->pci_mmio_base, (unsigned long long)end);
                if (overlaps(cfg->pci_mmio_base, cfg->pci_mmio_size, ACPI_IOAPIC_ADDR,
                             APIC_RANGE_LEN))
                        return FAIL(out->err,
                                    "PCI MMIO window [0x%x, 0x%llx) overlaps the I/O APIC or "
                                    "local APIC at 0x%x-0x%llx",
                                    cfg->pci_mmio_base, (unsigned long long)end, ACPI_IOAPIC_ADDR,
                                    (unsigned long long)(ACPI_LAPIC_ADDR + PAGE_SIZE));
        }
        if (cfg->mcfg_base) {
                uint64_t base = cfg->mcfg_base, len = ecam_len(cfg), align = MiB(1);
                /* PCIe Base 5.0 7.2.2: the base is aligned to 2^(n+20) bytes,
                 * n the bits that number the buses. */
                while (align < len)
                        align <<= 1;
                if (!cfg->pci)
                        return FAIL(out->err, "an ECAM window (MCFG) without the PCI host bridge");
                if (!IS_ALIGNED(base, align))
                        return FAIL(out->err, "ECAM window at 0x%llx is not aligned to %llu MiB",
                                    (unsigned long long)base, (unsigned long long)(align >> 20));
                if (base >= GiB(4) || base + len > GiB(4))
                        return FAIL(out->err, "ECAM window at 0x%llx does not end below 4 GiB",
                                    (unsigned long long)base);
                if (overlaps(base, len, cfg->pci_mmio_base, cfg->pci_mmio_size))
                        return FAIL(out->err,
                                    "ECAM window [0x%llx, 0x%llx) overlaps the PCI MMIO window",
                                    (unsigned long long)base, (unsigned long long)(base + len));
                if (overlaps(base, len, ACPI_IOAPIC_ADDR, APIC_RANGE_LEN))
                        return FAIL(out->err,
                                    "ECAM window [0x%llx, 0x%llx) overlaps the I/O APIC or "
                                    "local APIC",
                                    (unsigned long long)base, (unsigned long long)(base + len));
                if (overlaps(base, len, cfg->base, buf_size))
                        return FAIL(out->err,
                                    "ECAM window [0x%llx, 0x%llx) overlaps the ACPI tables",
                                    (unsigned long long)base, (unsigned long long)(base + len));
        }
        return NULL;
}

const char *acpi_build(const struct acpi_config *cfg, void *buf, size_t buf_size,
                       struct acpi_layout *out)
{
        uint8_t *b = buf;
        vtv_memset(out, 0, sizeof(*out));

        if (cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS)
                return FAIL(out->err, "%u vCPUs: the MADT describes 1 to %u", cfg->ncpus,
                            ACPI_MAX_CPUS);
        if (!IS_ALIGNED(cfg->base, 64))
                return FAIL(out->err, "ACPI base 0x%llx is not 64-byte aligned (the FACS must be)",
                            (unsigned long long)cfg->base);
        const char *err = check_config(cfg, buf_size, out);
        if (err)
                return err;

        size_t mcfg_len = cfg->mcfg_base ? MCFG_LEN : 0;
        unsigned nxsdt = cfg->mcfg_base ? 3 : 2; /* FADT, MADT[, MCFG] */
        size_t off_facs = 64, off_xsdt = off_facs + FACS_LEN;
        size_t off_fadt = ALIGN_UP(off_xsdt + HDR_LEN + 8 * nxsdt, 16);
        size_t off_madt = ALIGN_UP(off_fadt + FADT_LEN, 16);
        size_t off_mcfg = ALIGN_UP(off_madt + madt_len(cfg->ncpus), 16);
        size_t off_dsdt = ALIGN_UP(off_mcfg + mcfg_len, 16);
        size_t dsdt_len = 0;
        if (buf_size > off_dsdt) {
                vtv_memset(b, 0, buf_size);
                dsdt_len = build_dsdt(cfg, b + off_dsdt, buf_size - off_dsdt);
        }
        if (!dsdt_len)
                return FAIL(out->err, "ACPI buffer of %zu bytes is too small for %u vCPUs",
                            buf_size, cfg->ncpus);
        size_t size = off_dsdt + dsdt_len;
        /* FADT.DSDT and FIRMWARE_CTRL are 32-bit fields. */
        if (cfg->base + size > GiB(4) || cfg->base + size < cfg->base)
                return FAIL(out->err, "ACPI tables at 0x%llx would end above 4 GiB",
                            (unsigned long long)cfg->base);

        out->rsdp = cfg->base;
        out->facs = cfg->base + off_facs;
        out->xsdt = cfg->base + off_xsdt;
        out->fadt = cfg->base + off_fadt;
        out->madt = cfg->base + off_madt;
        out->dsdt = cfg->base + off_dsdt;
        out->xsdt_len = HDR_LEN + 8 * nxsdt;
        out->fadt_len = FADT_LEN;
        out->madt_len = madt_len(cfg->ncpus);
        out->dsdt_len = (uint32_t)dsdt_len;
        if (mcfg_len) {
                out->mcfg = cfg->base + off_mcfg;
                out->mcfg_len = MCFG_LEN;
        }
        out->size = size;

        build_facs(b + off_facs);
        build_fadt(cfg, b + off_fadt, out->facs, out->dsdt);
        build_madt(cfg, b + off_madt);
        if (mcfg_len)
                build_mcfg(cfg, b + off_mcfg);
        const gpa_t entries[] = { out->fadt, out->madt, out->mcfg };
        build_xsdt(b + off_xsdt, entries, nxsdt);
        build_rsdp(b, out->xsdt);
        return NULL;
}
