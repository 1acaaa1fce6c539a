/* Host unit tests for devices/virtio/virtio_blk.c: the offered features
 * and device configuration, and every request type through a real split
 * virtqueue (devices/virtio/virtqueue.c) laid out in fake guest RAM by the
 * driver in vq_driver.h, as Linux's virtio_blk would: header, data, status
 * byte.
 *
 * Guest RAM and the disk are heap blocks of exactly their size, so ASan
 * reports any byte the device touches past either. */
#include "tests/unit/check_compat.h"
#include "tests/unit/vq_driver.h"
#include "devices/virtio/virtio_blk.h"
#include "devices/virtio/virtio_pci.h" /* VIRTIO_DEVCFG_MAX */

#define RAM_SIZE     0x40000u
#define HDR_GPA      0x4000u /* request header */
#define STATUS_GPA   0x4100u /* status byte */
#define DATA_GPA     0x8000u /* data buffers, up to 0x30000 */
#define DISK_SECTORS 64u
#define DISK_SIZE    (DISK_SECTORS * 512u)
#define STATUS_FILL  0xee /* the status byte before the device writes it */

static uint8_t *disk;
static struct vq_chain chain;
static struct virtio_blk blk;
static uint64_t features;
static uint8_t devcfg[VIRTIO_DEVCFG_MAX];
static unsigned devcfg_len;

/* --- the driver side ---------------------------------------------------- */

static uint16_t le16(const uint8_t *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
        return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void header(uint64_t gpa, uint32_t type, uint64_t sector)
{
        w32(gpa, type);
        w32(gpa + 4, 0);
        w64(gpa + 8, sector);
}

static void fill_disk(void)
{
        for (unsigned i = 0; i < DISK_SIZE; i++)
                disk[i] = (uint8_t)(i * 7 + i / 512);
}

static void setup_blk(bool readonly)
{
        virtio_blk_init(&blk, disk, DISK_SIZE, readonly, "vm-one", &features, devcfg, &devcfg_len);
}

static void setup(void)
{
        drv_ram_alloc(RAM_SIZE);
        memset(ram, 0, RAM_SIZE);
        disk = malloc(DISK_SIZE);
        ck_assert_ptr_nonnull(disk);
        fill_disk();
        drv_queue_setup(VIRTIO_BLK_QUEUE_SZ, VIRTIO_BLK_QUEUE_SZ, false);
        ram[STATUS_GPA] = STATUS_FILL;
        setup_blk(false);
}

static void teardown(void)
{
        free(ram);
        free(disk);
}

/* Makes the chain available, runs the device, and returns the used length
 * of the one request it completed. */
static uint32_t run(const struct buf *b, unsigned n)
{
        uint16_t before = q.used_idx;
        add_chain(b, n);
        bool pushed = false;
        const char *err = NULL;
        ck_assert_int_eq(virtio_blk_process(&blk, &q, &mem, &chain, &pushed, &err), VQ_EMPTY);
        ck_assert_ptr_null(err);
        ck_assert(pushed);
        ck_assert_uint_eq(q.used_idx, (uint16_t)(before + 1));
        return used_len(before);
}

/* A request of the usual shape: header, one data buffer, status. */
static uint32_t run_simple(uint32_t type, uint64_t sector, uint32_t len, bool data_write)
{
        header(HDR_GPA, type, sector);
        struct buf b[3] = { { HDR_GPA, 16, false } };
        unsigned n = 1;
        if (len)
                b[n++] = (struct buf){ DATA_GPA, len, data_write };
        b[n++] = (struct buf){ STATUS_GPA, 1, true };
        return run(b, n);
}

static uint8_t status(void)
{
        return ram[STATUS_GPA];
}

/* --- features and configuration ------------------------------------------ */

START_TEST(features_read_write)
{
        ck_assert_x64_eq(features, BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
                                       BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_DISCARD));
        setup_blk(true);
        ck_assert_x64_eq(features, BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
                                       BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_RO));
}
END_TEST

START_TEST(config_layout)
{
        ck_assert_uint_eq(devcfg_len, 60);
        ck_assert_uint_le(devcfg_len, VIRTIO_DEVCFG_MAX);
        ck_assert_x64_eq(le64(devcfg + 0), DISK_SECTORS);        /* capacity */
        ck_assert_x64_eq(le32(devcfg + 8), 0);                   /* size_max */
        ck_assert_x64_eq(le32(devcfg + 12), VIRTIO_BLK_SEG_MAX); /* seg_max */
        ck_assert_x64_eq(le32(devcfg + 16), 0);                  /* geometry */
        ck_assert_x64_eq(le32(devcfg + 20), 512);                /* blk_size */
        ck_assert_x64_eq(le64(devcfg + 24), 0);                  /* topology */
        ck_assert_uint_eq(devcfg[32], 0);                        /* writeback */
        ck_assert_uint_eq(le16(devcfg + 34), 1);                 /* num_queues */
        ck_assert_uint_gt(le32(devcfg + 36), 0);                 /* max_discard_sectors */
        ck_assert_uint_gt(le32(devcfg + 40), 0);                 /* max_discard_seg */
        ck_assert_uint_eq(le32(devcfg + 44), 1);                 /* discard_sector_alignment */
        for (unsigned i = 48; i < 60; i++)                       /* write zeroes: not offered */
                ck_assert_uint_eq(devcfg[i], 0);
        ck_assert_uint_le(VIRTIO_BLK_SEG_MAX + 2, VQ_MAX_SEGS);
}
END_TEST

START_TEST(config_read_only_has_no_discard)
{
        setup_blk(true);
        ck_assert_uint_eq(devcfg_len, 60);
        ck_assert_x64_eq(le64(devcfg), DISK_SECTORS);
        ck_assert_x64_eq(le32(devcfg + 36) | le32(devcfg + 40) | le32(devcfg + 44), 0);
}
END_TEST

START_TEST(partial_last_sector)
{
        virtio_blk_init(&blk, disk, DISK_SIZE - 1, false, NULL, &features, devcfg, &devcfg_len);
        ck_assert_x64_eq(blk.size, DISK_SIZE - 512);
        ck_assert_x64_eq(le64(devcfg), DISK_SECTORS - 1);
        /* The last, partial, sector cannot be read. */
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 512, true), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        for (unsigned i = 0; i < 20; i++)
                ck_assert_uint_eq(blk.serial[i], 0);
}
END_TEST

START_TEST(serial_padding_and_truncation)
{
        ck_assert_mem_eq(blk.serial, "vm-one\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
        virtio_blk_init(&blk, disk, DISK_SIZE, false, "a-name-longer-than-twenty", &features,
                        devcfg, &devcfg_len);
        ck_assert_mem_eq(blk.serial, "a-name-longer-than-t", 20);
}
END_TEST

/* --- reads ------------------------------------------------------------------- */

START_TEST(read_simple)
{
        memset(ram + DATA_GPA, 0xcc, 2048);
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_IN, 3, 1024, true), 1025);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert_mem_eq(ram + DATA_GPA, disk + 3 * 512, 1024);
        ck_assert_uint_eq(ram[DATA_GPA + 1024], 0xcc);
        ck_assert_x64_eq(blk.requests, 1);
        ck_assert_x64_eq(blk.bytes_read, 1024);
        ck_assert_x64_eq(blk.errors, 0);
}
END_TEST

/* Header split 5 + 11, data split at odd places, and the status byte
 * sharing a descriptor with the last data bytes. */
START_TEST(read_split_odd)
{
        header(HDR_GPA, VIRTIO_BLK_T_IN, 10);
        memcpy(ram + DATA_GPA + 0x100, ram + HDR_GPA + 5, 11);
        const struct buf b[] = {
                { HDR_GPA, 5, false },
                { DATA_GPA + 0x100, 11, false },
                { DATA_GPA + 0x1001, 1, true },
                { DATA_GPA + 0x2003, 511, true },
                { DATA_GPA + 0x3007, 1000, true },
                { DATA_GPA + 0x4000, 537, true },
        };
        memset(ram + DATA_GPA + 0x4000, 0xcc, 600);
        ck_assert_uint_eq(run(b, 6), 2049);
        /* 1 + 511 + 1000 + 536 = 2048 data bytes, then the status. */
        ck_assert_uint_eq(ram[DATA_GPA + 0x1001], disk[10 * 512]);
        ck_assert_mem_eq(ram + DATA_GPA + 0x2003, disk + 10 * 512 + 1, 511);
        ck_assert_mem_eq(ram + DATA_GPA + 0x3007, disk + 10 * 512 + 512, 1000);
        ck_assert_mem_eq(ram + DATA_GPA + 0x4000, disk + 10 * 512 + 1512, 536);
        ck_assert_uint_eq(ram[DATA_GPA + 0x4000 + 536], VIRTIO_BLK_S_OK);
        ck_assert_uint_eq(ram[DATA_GPA + 0x4000 + 537], 0xcc);
        ck_assert_x64_eq(blk.bytes_read, 2048);
}
END_TEST

START_TEST(read_last_sectors)
{
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_IN, DISK_SECTORS - 2, 1024, true), 1025);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert_mem_eq(ram + DATA_GPA, disk + DISK_SIZE - 1024, 1024);
}
END_TEST

START_TEST(read_whole_disk)
{
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_IN, 0, DISK_SIZE, true), DISK_SIZE + 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert_mem_eq(ram + DATA_GPA, disk, DISK_SIZE);
}
END_TEST

/* Past the end, straddling it, and sectors whose byte offset overflows. */
START_TEST(read_out_of_range)
{
        static const uint64_t sectors[] = { DISK_SECTORS,         DISK_SECTORS - 1,
                                            DISK_SECTORS + 1,     1ull << 55,
                                            1ull << 63,           UINT64_MAX,
                                            UINT64_MAX / 512 + 1, (UINT64_MAX / 512) };
        memset(ram + DATA_GPA, 0xcc, 1024);
        for (unsigned i = 0; i < ARRAY_SIZE(sectors); i++) {
                ram[STATUS_GPA] = STATUS_FILL;
                ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_IN, sectors[i], 1024, true), 1);
                ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
                ck_assert_uint_eq(ram[DATA_GPA], 0xcc); /* nothing read */
        }
        ck_assert_x64_eq(blk.errors, ARRAY_SIZE(sectors));
        ck_assert_x64_eq(blk.bytes_read, 0);
}
END_TEST

START_TEST(read_not_whole_sectors)
{
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_IN, 0, 513, true), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_IN, 0, 100, true), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        ck_assert_x64_eq(blk.errors, 2);
}
END_TEST

/* A read-only disk can still be read. */
START_TEST(read_from_read_only)
{
        setup_blk(true);
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_IN, 1, 512, true), 513);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert_mem_eq(ram + DATA_GPA, disk + 512, 512);
}
END_TEST

/* --- writes ------------------------------------------------------------------ */

START_TEST(write_simple)
{
        for (unsigned i = 0; i < 1024; i++)
                ram[DATA_GPA + i] = (uint8_t)(0x55 ^ i);
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_OUT, 5, 1024, false), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert_mem_eq(disk + 5 * 512, ram + DATA_GPA, 1024);
        ck_assert_uint_eq(disk[4 * 512 + 511], (uint8_t)((4 * 512 + 511) * 7 + 4));
        ck_assert_uint_eq(disk[7 * 512], (uint8_t)(7 * 512 * 7 + 7));
        ck_assert_x64_eq(blk.bytes_written, 1024);
}
END_TEST

/* Header and the start of the data in one descriptor, the rest split
 * oddly; the status byte alone. */
START_TEST(write_split_odd)
{
        uint8_t data[1536];
        for (unsigned i = 0; i < sizeof(data); i++)
                data[i] = (uint8_t)(i * 13 + 1);
        header(DATA_GPA, VIRTIO_BLK_T_OUT, DISK_SECTORS - 3);
        memcpy(ram + DATA_GPA + 16, data, 7);
        memcpy(ram + DATA_GPA + 0x1001, data + 7, 1000);
        memcpy(ram + DATA_GPA + 0x2001, data + 1007, 529);
        const struct buf b[] = { { DATA_GPA, 23, false },
                                 { DATA_GPA + 0x1001, 1000, false },
                                 { DATA_GPA + 0x2001, 529, false },
                                 { STATUS_GPA, 1, true } };
        ck_assert_uint_eq(run(b, 4), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert_mem_eq(disk + DISK_SIZE - 1536, data, 1536);
}
END_TEST

START_TEST(write_read_only)
{
        setup_blk(true);
        memset(ram + DATA_GPA, 0x77, 512);
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_OUT, 0, 512, false), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        ck_assert_uint_eq(disk[0], 0);
        ck_assert_uint_eq(disk[1], 7);
        ck_assert_x64_eq(blk.errors, 1);
        ck_assert_x64_eq(blk.bytes_written, 0);
}
END_TEST

START_TEST(write_out_of_range)
{
        static const uint64_t sectors[] = { DISK_SECTORS, DISK_SECTORS - 1, 1ull << 63, UINT64_MAX,
                                            UINT64_MAX / 512 + 1 };
        memset(ram + DATA_GPA, 0x77, 1024);
        for (unsigned i = 0; i < ARRAY_SIZE(sectors); i++) {
                ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_OUT, sectors[i], 1024, false), 1);
                ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        }
        /* sector 2^63 * 512 wraps to 0: the start of the disk is intact. */
        ck_assert_uint_eq(disk[0], 0);
        ck_assert_uint_eq(disk[DISK_SIZE - 1], (uint8_t)((DISK_SIZE - 1) * 7 + DISK_SECTORS - 1));
}
END_TEST

START_TEST(write_not_whole_sectors)
{
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_OUT, 0, 511, false), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        ck_assert_uint_eq(disk[1], 7);
}
END_TEST

/* --- malformed requests -------------------------------------------------- */

START_TEST(short_header)
{
        header(HDR_GPA, VIRTIO_BLK_T_IN, 0);
        const struct buf b[] = { { HDR_GPA, 15, false },
                                 { DATA_GPA, 512, true },
                                 { STATUS_GPA, 1, true } };
        ck_assert_uint_eq(run(b, 3), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        /* No readable part at all. */
        const struct buf w[] = { { DATA_GPA, 512, true }, { STATUS_GPA, 1, true } };
        ram[STATUS_GPA] = STATUS_FILL;
        ck_assert_uint_eq(run(w, 2), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        ck_assert_x64_eq(blk.errors, 2);
}
END_TEST

/* No writable byte: nowhere to put a status; completed with length 0. */
START_TEST(no_status_byte)
{
        header(HDR_GPA, VIRTIO_BLK_T_OUT, 0);
        const struct buf b[] = { { HDR_GPA, 16, false }, { DATA_GPA, 512, false } };
        ck_assert_uint_eq(run(b, 2), 0);
        ck_assert_uint_eq(disk[1], 7); /* not written */
        ck_assert_x64_eq(blk.errors, 1);
        ck_assert_x64_eq(blk.requests, 1);
}
END_TEST

/* The status is the last writable byte, even in a one-byte-short read
 * (which then leaves 511 bytes: not a whole sector). */
START_TEST(status_is_last_writable_byte)
{
        header(HDR_GPA, VIRTIO_BLK_T_IN, 0);
        memset(ram + DATA_GPA, 0xcc, 600);
        const struct buf b[] = { { HDR_GPA, 16, false }, { DATA_GPA, 512, true } };
        ck_assert_uint_eq(run(b, 2), 1);
        ck_assert_uint_eq(ram[DATA_GPA + 511], VIRTIO_BLK_S_IOERR);
        ck_assert_uint_eq(ram[DATA_GPA], 0xcc);
}
END_TEST

/* --- flush, get-ID, unknown ------------------------------------------------ */

START_TEST(flush)
{
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_FLUSH, 0, 0, false), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert_x64_eq(blk.errors, 0);
}
END_TEST

START_TEST(get_id)
{
        memset(ram + DATA_GPA, 0xcc, 64);
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_GET_ID, 0, 20, true), 21);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert_mem_eq(ram + DATA_GPA, "vm-one\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
        ck_assert_uint_eq(ram[DATA_GPA + 20], 0xcc);
}
END_TEST

START_TEST(get_id_buffer_sizes)
{
        memset(ram + DATA_GPA, 0xcc, 64);
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_GET_ID, 0, 40, true), 21);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert_uint_eq(ram[DATA_GPA + 20], 0xcc);
        memset(ram + DATA_GPA, 0xcc, 64);
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_GET_ID, 0, 4, true), 5);
        ck_assert_mem_eq(ram + DATA_GPA, "vm-o", 4);
        ck_assert_uint_eq(ram[DATA_GPA + 4], 0xcc);
        /* Header and status only. */
        ck_assert_uint_eq(run_simple(VIRTIO_BLK_T_GET_ID, 0, 0, true), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(unknown_types)
{
        static const uint32_t types[] = { 2, 3, 5, 10, 13, 14, 0xffffffffu };
        for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
                ram[STATUS_GPA] = STATUS_FILL;
                ck_assert_uint_eq(run_simple(types[i], 0, 512, true), 1);
                ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
        }
        ck_assert_x64_eq(blk.errors, ARRAY_SIZE(types));
        ck_assert_x64_eq(blk.requests, ARRAY_SIZE(types));
}
END_TEST

/* --- discard -------------------------------------------------------------------- */

static void discard_seg(uint64_t gpa, uint64_t sector, uint32_t n, uint32_t flags)
{
        w64(gpa, sector);
        w32(gpa + 8, n);
        w32(gpa + 12, flags);
}

static uint32_t run_discard(unsigned nsegs)
{
        header(HDR_GPA, VIRTIO_BLK_T_DISCARD, 0);
        struct buf b[3] = { { HDR_GPA, 16, false } };
        unsigned n = 1;
        if (nsegs)
                b[n++] = (struct buf){ DATA_GPA, 16 * nsegs, false };
        b[n++] = (struct buf){ STATUS_GPA, 1, true };
        return run(b, n);
}

static bool sectors_zero(uint64_t first, uint64_t n)
{
        for (uint64_t i = first * 512; i < (first + n) * 512; i++)
                if (disk[i])
                        return false;
        return true;
}

static bool sectors_intact(uint64_t first, uint64_t n)
{
        for (uint64_t i = first * 512; i < (first + n) * 512; i++)
                if (disk[i] != (uint8_t)(i * 7 + i / 512))
                        return false;
        return true;
}

START_TEST(discard_ranges)
{
        discard_seg(DATA_GPA, 2, 3, 0);
        discard_seg(DATA_GPA + 16, DISK_SECTORS - 1, 1, 0);
        ck_assert_uint_eq(run_discard(2), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert(sectors_intact(0, 2));
        ck_assert(sectors_zero(2, 3));
        ck_assert(sectors_intact(5, DISK_SECTORS - 6));
        ck_assert(sectors_zero(DISK_SECTORS - 1, 1));
        ck_assert_x64_eq(blk.errors, 0);
}
END_TEST

/* One bad segment fails the request before any range is zeroed. */
START_TEST(discard_out_of_range)
{
        static const uint64_t bad[][2] = { { DISK_SECTORS, 1 },
                                           { DISK_SECTORS - 1, 2 },
                                           { 1ull << 63, 1 },
                                           { UINT64_MAX, 1 },
                                           { UINT64_MAX / 512 + 1, 1 } };
        for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
                discard_seg(DATA_GPA, 0, 1, 0);
                discard_seg(DATA_GPA + 16, bad[i][0], (uint32_t)bad[i][1], 0);
                ck_assert_uint_eq(run_discard(2), 1);
                ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
                ck_assert(sectors_intact(0, DISK_SECTORS));
        }
}
END_TEST

START_TEST(discard_flags_unsupported)
{
        discard_seg(DATA_GPA, 0, 1, 1); /* unmap */
        ck_assert_uint_eq(run_discard(1), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
        discard_seg(DATA_GPA, 0, 1, 0x80000000u);
        ck_assert_uint_eq(run_discard(1), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
        ck_assert(sectors_intact(0, DISK_SECTORS));
        ck_assert_x64_eq(blk.errors, 2);
}
END_TEST

START_TEST(discard_malformed)
{
        /* No segment at all. */
        ck_assert_uint_eq(run_discard(0), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        /* A partial segment. */
        discard_seg(DATA_GPA, 0, 1, 0);
        header(HDR_GPA, VIRTIO_BLK_T_DISCARD, 0);
        const struct buf b[] = { { HDR_GPA, 16, false },
                                 { DATA_GPA, 20, false },
                                 { STATUS_GPA, 1, true } };
        ck_assert_uint_eq(run(b, 3), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        /* More segments than max_discard_seg. */
        unsigned max_seg = le32(devcfg + 40);
        for (unsigned i = 0; i <= max_seg; i++)
                discard_seg(DATA_GPA + 16 * i, i, 1, 0);
        ck_assert_uint_eq(run_discard(max_seg + 1), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        ck_assert(sectors_intact(0, DISK_SECTORS));
        /* Exactly max_discard_seg segments is fine. */
        discard_seg(DATA_GPA, 0, 1, 0);
        ck_assert_uint_eq(run_discard(max_seg), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert(sectors_zero(0, max_seg));
        ck_assert(sectors_intact(max_seg, DISK_SECTORS - max_seg));
}
END_TEST

/* A segment longer than max_discard_sectors, on a disk big enough for it. */
START_TEST(discard_segment_too_long)
{
        uint32_t max = le32(devcfg + 36);
        uint64_t size = ((uint64_t)max + 8) * 512;
        uint8_t *big = malloc(size);
        ck_assert_ptr_nonnull(big);
        memset(big, 0x5a, size);
        virtio_blk_init(&blk, big, size, false, NULL, &features, devcfg, &devcfg_len);
        discard_seg(DATA_GPA, 1, max + 1, 0);
        ck_assert_uint_eq(run_discard(1), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        ck_assert_uint_eq(big[512], 0x5a);
        discard_seg(DATA_GPA, 1, max, 0);
        ck_assert_uint_eq(run_discard(1), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert_uint_eq(big[511], 0x5a);
        ck_assert_uint_eq(big[512], 0);
        ck_assert_uint_eq(big[(uint64_t)(max + 1) * 512 - 1], 0);
        ck_assert_uint_eq(big[(uint64_t)(max + 1) * 512], 0x5a);
        free(big);
}
END_TEST

START_TEST(discard_read_only)
{
        setup_blk(true);
        discard_seg(DATA_GPA, 0, 1, 0);
        ck_assert_uint_eq(run_discard(1), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        ck_assert(sectors_intact(0, DISK_SECTORS));
}
END_TEST

/* --- the queue ---------------------------------------------------------------- */

START_TEST(nothing_to_do)
{
        bool pushed = false;
        const char *err = NULL;
        ck_assert_int_eq(virtio_blk_process(&blk, &q, &mem, &chain, &pushed, &err), VQ_EMPTY);
        ck_assert(!pushed);
        ck_assert_x64_eq(blk.requests, 0);
}
END_TEST

/* Several requests taken in one go, completed in order. */
START_TEST(several_requests)
{
        const struct buf b1[] = { { HDR_GPA, 16, false },
                                  { DATA_GPA, 512, true },
                                  { STATUS_GPA, 1, true } };
        const struct buf b2[] = { { HDR_GPA + 16, 16, false },
                                  { DATA_GPA + 0x1000, 512, false },
                                  { STATUS_GPA + 1, 1, true } };
        const struct buf b3[] = { { HDR_GPA + 32, 16, false }, { STATUS_GPA + 2, 1, true } };
        header(HDR_GPA, VIRTIO_BLK_T_IN, 1);
        header(HDR_GPA + 16, VIRTIO_BLK_T_OUT, 2);
        header(HDR_GPA + 32, VIRTIO_BLK_T_FLUSH, 0);
        memset(ram + DATA_GPA + 0x1000, 0x42, 512);
        add_chain(b1, 3);
        add_chain(b2, 3);
        add_chain(b3, 2);
        bool pushed = false;
        const char *err = NULL;
        ck_assert_int_eq(virtio_blk_process(&blk, &q, &mem, &chain, &pushed, &err), VQ_EMPTY);
        ck_assert(pushed);
        ck_assert_uint_eq(q.used_idx, 3);
        ck_assert_uint_eq(used_id(0), 0);
        ck_assert_uint_eq(used_len(0), 513);
        ck_assert_uint_eq(used_id(1), 3);
        ck_assert_uint_eq(used_len(1), 1);
        ck_assert_uint_eq(used_id(2), 6);
        ck_assert_uint_eq(used_len(2), 1);
        ck_assert_mem_eq(ram + STATUS_GPA, "\0\0\0", 3);
        ck_assert_mem_eq(ram + DATA_GPA, disk + 512, 512);
        ck_assert_uint_eq(disk[2 * 512], 0x42);
        ck_assert_x64_eq(blk.requests, 3);
        ck_assert_x64_eq(blk.bytes_read, 512);
        ck_assert_x64_eq(blk.bytes_written, 512);
}
END_TEST

/* A malformed ring fails the device: VQ_ERROR with a reason, after the
 * good requests before it were completed. */
START_TEST(malformed_ring)
{
        header(HDR_GPA, VIRTIO_BLK_T_FLUSH, 0);
        const struct buf good[] = { { HDR_GPA, 16, false }, { STATUS_GPA, 1, true } };
        const struct buf bad[] = { { HDR_GPA, 16, false }, { RAM_SIZE - 1, 2, true } };
        add_chain(good, 2);
        add_chain(bad, 2);
        bool pushed = false;
        const char *err = NULL;
        ck_assert_int_eq(virtio_blk_process(&blk, &q, &mem, &chain, &pushed, &err), VQ_ERROR);
        ck_assert_ptr_nonnull(err);
        ck_assert(pushed);
        ck_assert(q.broken);
        ck_assert_uint_eq(q.used_idx, 1);
        ck_assert_x64_eq(blk.requests, 1);
        pushed = false;
        err = NULL;
        ck_assert_int_eq(virtio_blk_process(&blk, &q, &mem, &chain, &pushed, &err), VQ_ERROR);
        ck_assert_ptr_nonnull(err);
        ck_assert(!pushed);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("virtio_blk");
        TCase *cfg = tcase_create("config");
        tcase_add_checked_fixture(cfg, setup, teardown);
        tcase_add_test(cfg, features_read_write);
        tcase_add_test(cfg, config_layout);
        tcase_add_test(cfg, config_read_only_has_no_discard);
        tcase_add_test(cfg, partial_last_sector);
        tcase_add_test(cfg, serial_padding_and_truncation);
        suite_add_tcase(s, cfg);

        TCase *io = tcase_create("io");
        tcase_add_checked_fixture(io, setup, teardown);
        tcase_add_test(io, read_simple);
        tcase_add_test(io, read_split_odd);
        tcase_add_test(io, read_last_sectors);
        tcase_add_test(io, read_whole_disk);
        tcase_add_test(io, read_out_of_range);
        tcase_add_test(io, read_not_whole_sectors);
        tcase_add_test(io, read_from_read_only);
        tcase_add_test(io, write_simple);
        tcase_add_test(io, write_split_odd);
        tcase_add_test(io, write_read_only);
        tcase_add_test(io, write_out_of_range);
        tcase_add_test(io, write_not_whole_sectors);
        suite_add_tcase(s, io);

        TCase *req = tcase_create("requests");
        tcase_add_checked_fixture(req, setup, teardown);
        tcase_add_test(req, short_header);
        tcase_add_test(req, no_status_byte);
        tcase_add_test(req, status_is_last_writable_byte);
        tcase_add_test(req, flush);
        tcase_add_test(req, get_id);
        tcase_add_test(req, get_id_buffer_sizes);
        tcase_add_test(req, unknown_types);
        tcase_add_test(req, discard_ranges);
        tcase_add_test(req, discard_out_of_range);
        tcase_add_test(req, discard_flags_unsupported);
        tcase_add_test(req, discard_malformed);
        tcase_add_test(req, discard_segment_too_long);
        tcase_add_test(req, discard_read_only);
        tcase_add_test(req, nothing_to_do);
        tcase_add_test(req, several_requests);
        tcase_add_test(req, malformed_ring);
        suite_add_tcase(s, req);
        return unit_run_suite(s);
}
