#include "devices/virtio/virtio_blk.h"
#include "lib/bytes.h"
#include "lib/string.h"

/* struct virtio_blk_config (virtio 1.2, 5.2.4), up to the write-zeroes
 * fields: 60 bytes.  Fields of features not offered read 0. */
#define CFG_CAPACITY         0  /* le64, in 512-byte sectors */
#define CFG_SIZE_MAX         8  /* le32 (VIRTIO_BLK_F_SIZE_MAX: not offered) */
#define CFG_SEG_MAX          12 /* le32 */
#define CFG_GEOMETRY         16 /* le16 cylinders, u8 heads, u8 sectors */
#define CFG_BLK_SIZE         20 /* le32 */
#define CFG_TOPOLOGY         24 /* 8 bytes (VIRTIO_BLK_F_TOPOLOGY: not offered) */
#define CFG_WRITEBACK        32 /* u8 (VIRTIO_BLK_F_CONFIG_WCE: not offered) */
#define CFG_NUM_QUEUES       34 /* le16 */
#define CFG_MAX_DISCARD_SECT 36 /* le32 */
#define CFG_MAX_DISCARD_SEG  40 /* le32 */
#define CFG_DISCARD_ALIGN    44 /* le32, in sectors */
#define CFG_LEN              60 /* through max_write_zeroes_*, unused1[3] */

/* The request header (5.2.6): le32 type, le32 reserved, le64 sector. */
#define REQ_HDR_LEN    16
#define REQ_HDR_TYPE   0
#define REQ_HDR_SECTOR 8

/* A discard segment (5.2.6, struct virtio_blk_discard_write_zeroes):
 * le64 sector, le32 num_sectors, le32 flags (bit 0: unmap). */
#define DISCARD_SEG_LEN 16

/* The discard limits offered: per segment (max_discard_sectors, 4 MiB) and
 * per request (max_discard_seg), so that one request zeroes at most
 * 64 MiB and its segments fit on the stack. */
#define DISCARD_MAX_SECTORS 8192
#define DISCARD_MAX_SEG     16

#define VIRTIO_BLK_ID_BYTES 20 /* GET_ID's answer (5.2.6) */

void virtio_blk_init(struct virtio_blk *b, uint8_t *disk, uint64_t size, bool readonly,
                     const char *serial, uint64_t *features, uint8_t *devcfg, unsigned *devcfg_len)
{
        vtv_memset(b, 0, sizeof(*b));
        b->disk = disk;
        b->size = ALIGN_DOWN(size, VIRTIO_BLK_SECTOR);
        b->readonly = readonly;
        if (serial)
                for (unsigned i = 0; i < sizeof(b->serial) && serial[i]; i++)
                        b->serial[i] = serial[i];

        *features =
            BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH);
        *features |= readonly ? BIT(VIRTIO_BLK_F_RO) : BIT(VIRTIO_BLK_F_DISCARD);

        vtv_memset(devcfg, 0, CFG_LEN);
        put64(devcfg + CFG_CAPACITY, b->size / VIRTIO_BLK_SECTOR);
        /* seg_max counts data segments; header and status take two more
         * descriptors of a chain of at most VQ_MAX_SEGS. */
        put32(devcfg + CFG_SEG_MAX, VIRTIO_BLK_SEG_MAX);
        put32(devcfg + CFG_BLK_SIZE, VIRTIO_BLK_SECTOR);
        put16(devcfg + CFG_NUM_QUEUES, VIRTIO_BLK_NQUEUES);
        if (!readonly) {
                put32(devcfg + CFG_MAX_DISCARD_SECT, DISCARD_MAX_SECTORS);
                put32(devcfg + CFG_MAX_DISCARD_SEG, DISCARD_MAX_SEG);
                put32(devcfg + CFG_DISCARD_ALIGN, 1);
        }
        *devcfg_len = CFG_LEN;
}

/* Whether bytes [sector * 512, sector * 512 + len) lie on the disk,
 * without overflow for any sector and len. */
static bool on_disk(const struct virtio_blk *b, uint64_t sector, uint64_t len)
{
        if (sector > b->size / VIRTIO_BLK_SECTOR)
                return false;
        return len <= b->size - sector * VIRTIO_BLK_SECTOR;
}

/* The discard segments in the readable part from byte off, len bytes:
 * every one checked before any range is zeroed, on a copy the driver
 * cannot change in between. */
static uint8_t discard(struct virtio_blk *b, const struct vq_chain *c, uint64_t off, uint64_t len)
{
        uint8_t segs[DISCARD_MAX_SEG][DISCARD_SEG_LEN];
        if (b->readonly)
                return VIRTIO_BLK_S_IOERR;
        if (len == 0 || len % DISCARD_SEG_LEN || len / DISCARD_SEG_LEN > DISCARD_MAX_SEG)
                return VIRTIO_BLK_S_IOERR;
        unsigned n = (unsigned)(len / DISCARD_SEG_LEN);
        if (vq_chain_read(c, off, segs, len) != len)
                return VIRTIO_BLK_S_IOERR;
        for (unsigned i = 0; i < n; i++) {
                uint64_t sector = get64(segs[i]);
                uint32_t count = get32(segs[i] + 8), flags = get32(segs[i] + 12);
                /* 5.2.6.2: unmap or an unknown flag is unsupported. */
                if (flags)
                        return VIRTIO_BLK_S_UNSUPP;
                if (count > DISCARD_MAX_SECTORS ||
                    !on_disk(b, sector, (uint64_t)count * VIRTIO_BLK_SECTOR))
                        return VIRTIO_BLK_S_IOERR;
        }
        for (unsigned i = 0; i < n; i++) {
                uint64_t sector = get64(segs[i]);
                uint32_t count = get32(segs[i] + 8);
                vtv_memset(b->disk + sector * VIRTIO_BLK_SECTOR, 0,
                           (size_t)count * VIRTIO_BLK_SECTOR);
        }
        return VIRTIO_BLK_S_OK;
}

/* Carries out one request; returns the used length (5.2.6: the bytes
 * written into the writable part, the status byte included). */
static uint32_t request(struct virtio_blk *b, const struct vq_chain *c)
{
        b->requests++;
        /* The status byte is the last writable byte; without one there is
         * nowhere to say what went wrong. */
        if (c->write_len == 0) {
                b->errors++;
                return 0;
        }
        uint64_t wdata = c->write_len - 1; /* writable bytes before the status */
        uint64_t written = 0;              /* of those, written */
        uint8_t status = VIRTIO_BLK_S_IOERR;
        uint8_t hdr[REQ_HDR_LEN];

        if (c->read_len < REQ_HDR_LEN || vq_chain_read(c, 0, hdr, REQ_HDR_LEN) != REQ_HDR_LEN)
                goto done;
        uint32_t type = get32(hdr + REQ_HDR_TYPE);
        uint64_t sector = get64(hdr + REQ_HDR_SECTOR);
        uint64_t rdata = c->read_len - REQ_HDR_LEN; /* readable bytes after the header */

        switch (type) {
        case VIRTIO_BLK_T_IN:
                if (wdata % VIRTIO_BLK_SECTOR || !on_disk(b, sector, wdata))
                        break;
                written = vq_chain_write(c, 0, b->disk + sector * VIRTIO_BLK_SECTOR, wdata);
                b->bytes_read += written;
                status = VIRTIO_BLK_S_OK;
                break;
        case VIRTIO_BLK_T_OUT:
                /* 5.2.6.2: a read-only device fails writes, writing nothing. */
                if (b->readonly || rdata % VIRTIO_BLK_SECTOR || !on_disk(b, sector, rdata))
                        break;
                b->bytes_written +=
                    vq_chain_read(c, REQ_HDR_LEN, b->disk + sector * VIRTIO_BLK_SECTOR, rdata);
                status = VIRTIO_BLK_S_OK;
                break;
        case VIRTIO_BLK_T_FLUSH:
                /* The disk is memory: every write is already "on disk". */
                status = VIRTIO_BLK_S_OK;
                break;
        case VIRTIO_BLK_T_GET_ID:
                written =
                    vq_chain_write(c, 0, b->serial, MIN(wdata, (uint64_t)VIRTIO_BLK_ID_BYTES));
                status = VIRTIO_BLK_S_OK;
                break;
        case VIRTIO_BLK_T_DISCARD:
                status = discard(b, c, REQ_HDR_LEN, rdata);
                break;
        default:
                status = VIRTIO_BLK_S_UNSUPP;
                break;
        }
done:
        if (status != VIRTIO_BLK_S_OK)
                b->errors++;
        vq_chain_write(c, wdata, &status, 1);
        /* Overlapping segments can make a chain longer than 4 GiB. */
        return (uint32_t)MIN(written + 1, (uint64_t)UINT32_MAX);
}

enum vq_result virtio_blk_process(struct virtio_blk *b, struct virtqueue *q,
                                  const struct guest_mem *m, struct vq_chain *c, bool *pushed,
                                  const char **err)
{
        for (;;) {
                enum vq_result r = vq_pop(q, m, c, err);
                if (r != VQ_OK)
                        return r;
                vq_push(q, m, c->head, request(b, c));
                *pushed = true;
        }
}
