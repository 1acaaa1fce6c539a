/* The firmware's ACPI tables, as far as finding CPUs and I/O APICs needs:
 * RSDP, RSDT or XSDT, MADT (ACPI 6.5, chapter 5.2).  Every length, count
 * and address comes from firmware bytes and is treated as hostile: each is
 * checked against what the mapper returned before anything is read, all
 * offsets stay within 32-bit table lengths held in wider types, and every
 * loop advances by at least one byte per step within a mapped length. */
#include "boot/fw_acpi.h"
#include "lib/bytes.h"
#include "lib/string.h"

/* System Description Table Header (5.2.6): Signature[4], Length u32 at 4,
 * Revision at 8, Checksum at 9, then OEM fields up to 36 bytes. */
#define SDT_HEADER_LEN 36
#define SDT_LENGTH     4
#define SDT_REVISION   8

/* RSDP (5.2.5.3). */
#define RSDP_REVISION     15
#define RSDP_RSDT_ADDRESS 16
#define RSDP_LENGTH       20
#define RSDP_XSDT_ADDRESS 24
/* ACPI 2.0 to 6.5 define the RSDP as 36 bytes; a length beyond a page is
 * junk that happened to match the signature and the first checksum, and
 * checksumming it could walk far into memory that is no table at all. */
#define RSDP_MAX_LEN 4096

/* MADT (5.2.12): the header, then Local Interrupt Controller Address
 * (u32) at 36 and Flags (u32) at 40; the entries start at 44. */
#define MADT_LAPIC_ADDRESS 36
#define MADT_FLAGS         40
#define MADT_ENTRIES       44
#define MADT_PCAT_COMPAT   BIT(0)

/* Entry types and the sizes their fields need (5.2.12.2, .3, .8, .12). */
#define MADT_LAPIC              0
#define MADT_LAPIC_LEN          8
#define MADT_IOAPIC             1
#define MADT_IOAPIC_LEN         12
#define MADT_LAPIC_OVERRIDE     5
#define MADT_LAPIC_OVERRIDE_LEN 12
#define MADT_X2APIC             9
#define MADT_X2APIC_LEN         16
#define MADT_CPU_ENABLED        BIT(0)
#define MADT_CPU_ONLINE_CAPABLE BIT(1)
/* Online Capable was defined in ACPI 6.3, with MADT revision 5; before it
 * bit 1 was reserved (must be zero), so older MADTs do not get to set it. */
#define MADT_REV_ONLINE_CAPABLE 5
/* The broadcast destinations cannot be one CPU's ID: 0xFF in xAPIC mode,
 * 0xFFFFFFFF in x2APIC mode (Intel SDM vol. 3A, APIC chapter).  Linux
 * likewise ignores a Processor Local APIC entry with ID 0xFF. */
#define XAPIC_BROADCAST  0xffu
#define X2APIC_BROADCAST 0xffffffffu

/* The BIOS areas searched for the RSDP (5.2.5.1). */
#define BDA_EBDA_SEGMENT 0x40e
#define EBDA_SCAN_LEN    1024
#define BIOS_AREA_START  0xe0000
#define BIOS_AREA_END    0x100000 /* exclusive */
#define RSDP_ALIGN       16

/* Maps len bytes at pa, refusing what no mapper should be asked for: an
 * empty range or one that wraps past the top of the address space. */
static const uint8_t *map_bytes(phys_map_fn map, void *ctx, uint64_t pa, size_t len)
{
        if (len == 0 || pa > UINT64_MAX - len)
                return NULL;
        return map(ctx, pa, len);
}

/* ACPI checksums (5.2.5.3, 5.2.6): all bytes, checksum included, sum to 0
 * modulo 256. */
static bool sums_to_zero(const uint8_t *p, size_t len)
{
        uint8_t sum = 0;
        for (size_t i = 0; i < len; i++)
                sum = (uint8_t)(sum + p[i]);
        return sum == 0;
}

const char *fw_acpi_rsdp_root(const uint8_t *rsdp, size_t len, uint64_t *root_pa, bool *is_xsdt)
{
        *root_pa = 0;
        *is_xsdt = false;
        if (!rsdp || len < FW_RSDP_V1_LEN)
                return "the RSDP is shorter than 20 bytes";
        if (vtv_memcmp(rsdp, "RSD PTR ", 8) != 0)
                return "the RSDP has no \"RSD PTR \" signature";
        /* The first checksum covers the ACPI 1.0 fields only, so that 1.0
         * software can check any revision (5.2.5.3). */
        if (!sums_to_zero(rsdp, FW_RSDP_V1_LEN))
                return "the RSDP checksum is wrong";
        uint32_t rsdt = get32(rsdp + RSDP_RSDT_ADDRESS);
        /* Revision 0 is ACPI 1.0, whose RSDP ends at the RSDT address;
         * revision 2 and later add Length, the XSDT address and an
         * extended checksum over Length bytes. */
        if (rsdp[RSDP_REVISION] >= 2) {
                if (len < FW_RSDP_V2_LEN)
                        return "the ACPI 2.0+ RSDP is shorter than 36 bytes";
                uint32_t length = get32(rsdp + RSDP_LENGTH);
                if (length < FW_RSDP_V2_LEN)
                        return "the RSDP length is below 36";
                if (length > RSDP_MAX_LEN)
                        return "the RSDP length is implausible";
                if (length > len)
                        return "the RSDP is longer than the bytes given";
                if (!sums_to_zero(rsdp, length))
                        return "the RSDP extended checksum is wrong";
                uint64_t xsdt = get64(rsdp + RSDP_XSDT_ADDRESS);
                /* "An ACPI-compatible OS must use the XSDT if present"
                 * (5.2.5.3, the XSDT Address field). */
                if (xsdt) {
                        *root_pa = xsdt;
                        *is_xsdt = true;
                        return NULL;
                }
        }
        if (!rsdt)
                return "the RSDP gives neither an RSDT nor an XSDT address";
        *root_pa = rsdt;
        return NULL;
}

/* Checks the RSDP candidate at pa: NULL if it is one, else why not (also
 * "no signature", which the caller does not report). */
static const char *try_rsdp(phys_map_fn map, void *ctx, uint64_t pa, bool *has_signature)
{
        *has_signature = false;
        const uint8_t *p = map_bytes(map, ctx, pa, FW_RSDP_V1_LEN);
        if (!p || vtv_memcmp(p, "RSD PTR ", 8) != 0)
                return "no signature";
        *has_signature = true;
        size_t len = FW_RSDP_V1_LEN;
        if (p[RSDP_REVISION] >= 2) {
                /* Map the fixed 36 bytes to read Length, then all of it. */
                p = map_bytes(map, ctx, pa, FW_RSDP_V2_LEN);
                if (!p)
                        return "the ACPI 2.0+ RSDP runs past mapped memory";
                uint32_t length = get32(p + RSDP_LENGTH);
                len = FW_RSDP_V2_LEN;
                if (length > FW_RSDP_V2_LEN && length <= RSDP_MAX_LEN) {
                        p = map_bytes(map, ctx, pa, length);
                        if (!p)
                                return "the RSDP length runs past mapped memory";
                        len = length;
                }
                /* Shorter or implausible lengths: fw_acpi_rsdp_root says so. */
        }
        uint64_t root;
        bool xsdt;
        return fw_acpi_rsdp_root(p, len, &root, &xsdt);
}

/* Scans [start, start+len) on 16-byte boundaries.  Returns true when found;
 * else keeps in *first_err the first reason a candidate with the signature
 * was refused. */
static bool scan_rsdp(phys_map_fn map, void *ctx, uint64_t start, uint64_t len, uint64_t *rsdp_pa,
                      const char **first_err)
{
        for (uint64_t off = 0; off < len; off += RSDP_ALIGN) {
                bool sig;
                const char *err = try_rsdp(map, ctx, start + off, &sig);
                if (!err) {
                        *rsdp_pa = start + off;
                        return true;
                }
                if (sig && !*first_err)
                        *first_err = err;
        }
        return false;
}

const char *fw_acpi_find_rsdp(phys_map_fn map, void *ctx, uint64_t *rsdp_pa)
{
        const char *first_err = NULL;
        *rsdp_pa = 0;

        /* The BIOS data area holds the EBDA's real-mode segment at 40:0Eh
         * (5.2.5.1).  A segment that puts it inside the interrupt table or
         * the BIOS data area itself (below 0x500; 0 when there is no EBDA)
         * names no EBDA (ACPICA likewise skips 0x400 and below). */
        const uint8_t *bda = map_bytes(map, ctx, BDA_EBDA_SEGMENT, 2);
        if (bda) {
                uint64_t ebda = (uint64_t)get16(bda) << 4;
                if (ebda >= 0x500 && scan_rsdp(map, ctx, ebda, EBDA_SCAN_LEN, rsdp_pa, &first_err))
                        return NULL;
        }
        if (scan_rsdp(map, ctx, BIOS_AREA_START, BIOS_AREA_END - BIOS_AREA_START, rsdp_pa,
                      &first_err))
                return NULL;
        return first_err ? first_err : "no RSDP in the EBDA or in the BIOS area 0xE0000-0xFFFFF";
}

/* What to say about one table; the strings are constant, so one set per
 * table. */
struct table_msgs {
        const char *unreadable;
        const char *short_len;
        const char *past_map;
        const char *checksum;
};

static const struct table_msgs rsdt_msgs = {
        "the RSDT is unreadable",
        "the RSDT length is below its 36-byte header",
        "the RSDT length runs past mapped memory",
        "the RSDT checksum is wrong",
};
static const struct table_msgs xsdt_msgs = {
        "the XSDT is unreadable",
        "the XSDT length is below its 36-byte header",
        "the XSDT length runs past mapped memory",
        "the XSDT checksum is wrong",
};
static const struct table_msgs madt_msgs = {
        "the MADT is unreadable",
        "the MADT length is below its 44 bytes of fixed fields",
        "the MADT length runs past mapped memory",
        "the MADT checksum is wrong",
};

/* Maps the header at pa to learn the length, then the whole table, and
 * checks length and checksum.  *len is read once, from the first mapping,
 * and is all the caller may rely on. */
static const char *load_table(phys_map_fn map, void *ctx, uint64_t pa, uint32_t min_len,
                              const struct table_msgs *msgs, const uint8_t **table, uint32_t *len)
{
        const uint8_t *hdr = map_bytes(map, ctx, pa, SDT_HEADER_LEN);
        if (!hdr)
                return msgs->unreadable;
        uint32_t length = get32(hdr + SDT_LENGTH);
        if (length < min_len)
                return msgs->short_len;
        const uint8_t *t = map_bytes(map, ctx, pa, length);
        if (!t)
                return msgs->past_map;
        if (!sums_to_zero(t, length))
                return msgs->checksum;
        *table = t;
        *len = length;
        return NULL;
}

/* Adds a CPU unless it is unusable or already listed.  Local APIC Flags
 * (5.2.12.2, and the same for the x2APIC entry, 5.2.12.12): with
 * Enabled clear and Online Capable clear the processor is unusable and
 * OSPM shall ignore the entry; Online Capable is reserved when Enabled is
 * set. */
static void add_cpu(struct fw_madt *out, uint32_t apic_id, uint32_t uid, uint32_t flags,
                    bool x2apic, uint8_t madt_rev)
{
        bool enabled = flags & MADT_CPU_ENABLED;
        bool online =
            !enabled && madt_rev >= MADT_REV_ONLINE_CAPABLE && (flags & MADT_CPU_ONLINE_CAPABLE);
        if (!enabled && !online)
                return;
        if (apic_id == (x2apic ? X2APIC_BROADCAST : XAPIC_BROADCAST))
                return;
        /* Each processor has one entry, keyed by its APIC ID; firmware that
         * lists an ID twice (say once as xAPIC and once as x2APIC) would
         * have us start one CPU twice, so only the first entry counts. */
        for (size_t i = 0; i < out->ncpus; i++)
                if (out->cpus[i].apic_id == apic_id)
                        return;
        if (out->ncpus == FW_MAX_CPUS) {
                out->truncated = true;
                return;
        }
        out->cpus[out->ncpus++] = (struct fw_cpu){
                .apic_id = apic_id,
                .acpi_uid = uid,
                .enabled = enabled,
                .online_capable = online,
                .x2apic_entry = x2apic,
        };
}

static void add_ioapic(struct fw_madt *out, uint8_t id, uint32_t address, uint32_t gsi_base)
{
        if (out->nioapics == FW_MAX_IOAPICS) {
                out->truncated = true;
                return;
        }
        out->ioapics[out->nioapics++] = (struct fw_ioapic){ id, address, gsi_base };
}

/* Reads the entries of a loaded MADT, t[0..len), len >= MADT_ENTRIES. */
static const char *parse_entries(const uint8_t *t, uint32_t len, struct fw_madt *out)
{
        uint8_t rev = t[SDT_REVISION];
        bool overridden = false;
        out->lapic_address = get32(t + MADT_LAPIC_ADDRESS);
        out->pcat_compat = get32(t + MADT_FLAGS) & MADT_PCAT_COMPAT;

        /* Every entry starts with Type and Length bytes (5.2.12).  A
         * Length below 2 would not move the walk forward, and one past the
         * table's end leaves no trustworthy place for the next entry: both
         * end the walk with an error.  off <= len throughout. */
        for (uint32_t off = MADT_ENTRIES; off < len;) {
                if (len - off < 2)
                        return "a MADT entry header runs past the end of the MADT";
                const uint8_t *e = t + off;
                uint8_t type = e[0], elen = e[1];
                if (elen < 2)
                        return "a MADT entry has a length below 2";
                if (elen > len - off)
                        return "a MADT entry runs past the end of the MADT";
                /* Known types may grow in later revisions, so longer is fine;
                 * shorter than the fields they carry is not. */
                switch (type) {
                case MADT_LAPIC:
                        if (elen < MADT_LAPIC_LEN)
                                return "a MADT Processor Local APIC entry is too short";
                        /* ACPI Processor UID at 2, APIC ID at 3, Flags at 4. */
                        add_cpu(out, e[3], e[2], get32(e + 4), false, rev);
                        break;
                case MADT_X2APIC:
                        if (elen < MADT_X2APIC_LEN)
                                return "a MADT Processor Local x2APIC entry is too short";
                        /* Reserved at 2, x2APIC ID at 4, Flags at 8, UID at 12. */
                        add_cpu(out, get32(e + 4), get32(e + 12), get32(e + 8), true, rev);
                        break;
                case MADT_IOAPIC:
                        if (elen < MADT_IOAPIC_LEN)
                                return "a MADT I/O APIC entry is too short";
                        /* ID at 2, reserved at 3, address at 4, GSI base at 8. */
                        add_ioapic(out, e[2], get32(e + 4), get32(e + 8));
                        break;
                case MADT_LAPIC_OVERRIDE:
                        if (elen < MADT_LAPIC_OVERRIDE_LEN)
                                return "a MADT Local APIC Address Override entry is too short";
                        /* "Only one ... may be defined" (5.2.12.8): should
                         * firmware give more, the first one stands. */
                        if (!overridden) {
                                out->lapic_address = get64(e + 4);
                                overridden = true;
                        }
                        break;
                default:
                        /* Types this parser does not need (interrupt source
                         * overrides, NMIs, and 0x80-0xFF, reserved for OEMs)
                         * are stepped over. */
                        break;
                }
                off += elen;
        }
        return NULL;
}

const char *fw_acpi_parse_madt(phys_map_fn map, void *ctx, uint64_t root_pa, bool is_xsdt,
                               struct fw_madt *out)
{
        vtv_memset(out, 0, sizeof(*out));

        /* RSDT (5.2.7): 32-bit physical addresses after the header; XSDT
         * (5.2.8): 64-bit ones, not necessarily 8-byte aligned. */
        const struct table_msgs *msgs = is_xsdt ? &xsdt_msgs : &rsdt_msgs;
        const uint8_t *root;
        uint32_t root_len;
        const char *err = load_table(map, ctx, root_pa, SDT_HEADER_LEN, msgs, &root, &root_len);
        if (err)
                return err;
        if (vtv_memcmp(root, is_xsdt ? "XSDT" : "RSDT", 4) != 0)
                return is_xsdt ? "the XSDT has no \"XSDT\" signature"
                               : "the RSDT has no \"RSDT\" signature";
        uint32_t esize = is_xsdt ? 8 : 4;
        if ((root_len - SDT_HEADER_LEN) % esize)
                return is_xsdt ? "the XSDT length is not a whole number of 8-byte entries"
                               : "the RSDT length is not a whole number of 4-byte entries";

        /* An entry whose table cannot be mapped may be one we do not need;
         * only if no MADT turns up is it worth mentioning. */
        bool unreadable = false;
        for (uint32_t off = SDT_HEADER_LEN; off < root_len; off += esize) {
                uint64_t pa = is_xsdt ? get64(root + off) : get32(root + off);
                if (!pa)
                        continue;
                const uint8_t *hdr = map_bytes(map, ctx, pa, SDT_HEADER_LEN);
                if (!hdr) {
                        unreadable = true;
                        continue;
                }
                /* The first table signed "APIC" is the MADT; there is one. */
                if (vtv_memcmp(hdr, "APIC", 4) != 0)
                        continue;
                const uint8_t *madt;
                uint32_t madt_len;
                err = load_table(map, ctx, pa, MADT_ENTRIES, &madt_msgs, &madt, &madt_len);
                if (!err)
                        err = parse_entries(madt, madt_len, out);
                if (err) {
                        vtv_memset(out, 0, sizeof(*out));
                        return err;
                }
                return NULL;
        }
        if (unreadable)
                return is_xsdt ? "no MADT in the XSDT (some tables it lists are unreadable)"
                               : "no MADT in the RSDT (some tables it lists are unreadable)";
        return is_xsdt ? "no MADT in the XSDT" : "no MADT in the RSDT";
}
