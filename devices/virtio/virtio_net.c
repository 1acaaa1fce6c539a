#include "devices/virtio/virtio_net.h"
#include "lib/bytes.h"
#include "lib/string.h"

/* struct virtio_net_hdr (virtio 1.2, 5.1.6), little-endian with
 * VIRTIO_F_VERSION_1 (which the transport always negotiates). */
#define HDR_FLAGS       0
#define HDR_GSO_TYPE    1
#define HDR_HDR_LEN     2
#define HDR_GSO_SIZE    4
#define HDR_CSUM_START  6
#define HDR_CSUM_OFFSET 8
#define HDR_NUM_BUFFERS 10

/* The device configuration layout (5.1.4). */
#define CFG_MAC          0
#define CFG_STATUS       6
#define CFG_MAX_VQ_PAIRS 8
#define CFG_MTU          10

#define ETH_HLEN 14 /* destination, source, EtherType */
#define ETH_ALEN 6

/* A run of segments of one chain: its readable part or its writable part.
 * The walkers below (and vq_chain_read/vq_chain_write, which the small
 * header reads and writes use) never step outside the segments, whatever the chain's
 * read_len and write_len say, and the lengths checked are never more than
 * the segments hold (chain_read_len, chain_write_len), so a caller's
 * inconsistent chain can at worst get its frame dropped. */
struct span {
        const struct vq_seg *seg;
        unsigned n;
};

static unsigned chain_nseg(const struct vq_chain *c)
{
        return MIN(c->nseg, (unsigned)VQ_MAX_SEGS);
}

static struct span readable(const struct vq_chain *c)
{
        struct span s = { c->seg, MIN(c->nread, chain_nseg(c)) };
        return s;
}

static struct span writable(const struct vq_chain *c)
{
        unsigned nread = MIN(c->nread, chain_nseg(c));
        struct span s = { c->seg + nread, chain_nseg(c) - nread };
        return s;
}

/* The bytes a span's segments hold. */
static uint64_t span_len(struct span s)
{
        uint64_t n = 0;
        for (unsigned i = 0; i < s.n; i++)
                n += s.seg[i].len;
        return n;
}

/* The chain's readable and writable lengths: what read_len and write_len
 * say, but never more than the segments hold, so that every length check
 * below is a check against memory that is there. */
static uint64_t chain_read_len(const struct vq_chain *c)
{
        return MIN(c->read_len, span_len(readable(c)));
}

static uint64_t chain_write_len(const struct vq_chain *c)
{
        return MIN(c->write_len, span_len(writable(c)));
}

/* A position inside a span: segment i, byte off of it.  i == n is the end. */
struct pos {
        unsigned i;
        uint64_t off;
};

/* The position of byte off of the span (the end when the span is shorter).
 * Empty segments are skipped, so a position short of the end always has a
 * byte under it. */
static struct pos seek(struct span s, uint64_t off)
{
        struct pos p = { 0, off };
        while (p.i < s.n && p.off >= s.seg[p.i].len) {
                p.off -= s.seg[p.i].len;
                p.i++;
        }
        return p;
}

static void advance(struct span s, struct pos *p, uint64_t by)
{
        p->off += by;
        while (p->i < s.n && p->off >= s.seg[p->i].len) {
                p->off -= s.seg[p->i].len;
                p->i++;
        }
}

/* Copies len bytes from byte soff of src to byte doff of dst, segment piece
 * by segment piece: each piece is the largest run that lies inside one
 * segment on both sides, so the bytes move once, with no bounce buffer.
 * Returns how many were copied (fewer when either span ends first).
 *
 * The two spans may overlap only when one guest points its receive buffers
 * at its own transmit buffers; vtv_memcpy then gives that guest garbage in
 * its own memory and touches nothing outside the segments. */
static uint64_t span_copy(struct span dst, uint64_t doff, struct span src, uint64_t soff,
                          uint64_t len)
{
        struct pos d = seek(dst, doff), s = seek(src, soff);
        uint64_t done = 0;
        while (done < len && d.i < dst.n && s.i < src.n) {
                uint64_t n = len - done;
                n = MIN(n, dst.seg[d.i].len - d.off);
                n = MIN(n, src.seg[s.i].len - s.off);
                vtv_memcpy(dst.seg[d.i].ptr + d.off, src.seg[s.i].ptr + s.off, (size_t)n);
                done += n;
                advance(dst, &d, n);
                advance(src, &s, n);
        }
        return done;
}

/* The one's-complement sum (RFC 1071) of bytes [off, off+len) of the span,
 * unfolded, as 16-bit big-endian words counted from off: a segment boundary
 * at an odd distance from off splits a word, whose second byte is then the
 * low-order one, at the start of the next segment.  At most 1514 bytes are
 * summed, so a 64-bit accumulator cannot overflow. */
static uint64_t span_sum(struct span s, uint64_t off, uint64_t len)
{
        struct pos p = seek(s, off);
        uint64_t sum = 0, done = 0;
        bool odd = false; /* the next byte is a word's low-order byte */
        while (done < len && p.i < s.n) {
                const uint8_t *b = s.seg[p.i].ptr + p.off;
                uint64_t n = MIN(len - done, s.seg[p.i].len - p.off), k = 0;
                if (odd && k < n) {
                        sum += b[k++];
                        odd = false;
                }
                for (; k + 1 < n; k += 2)
                        sum += (uint64_t)(b[k] << 8 | b[k + 1]);
                if (k < n) {
                        sum += (uint64_t)b[k] << 8;
                        odd = true;
                }
                done += n;
                advance(s, &p, n);
        }
        return sum;
}

static uint16_t fold(uint64_t sum)
{
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t)sum;
}

void virtio_net_init(const uint8_t mac[6], uint64_t *features, uint8_t *devcfg,
                     unsigned *devcfg_len)
{
        *features = BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_MTU) |
                    BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS);
        vtv_memset(devcfg, 0, VIRTIO_NET_DEVCFG_LEN);
        vtv_memcpy(devcfg + CFG_MAC, mac, ETH_ALEN);
        put16(devcfg + CFG_STATUS, VIRTIO_NET_S_LINK_UP);
        /* Only present with VIRTIO_NET_F_MQ or _RSS, which are not offered,
         * but the field sits before mtu and 1 is the truth. */
        put16(devcfg + CFG_MAX_VQ_PAIRS, 1);
        put16(devcfg + CFG_MTU, VIRTIO_NET_MTU);
        *devcfg_len = VIRTIO_NET_DEVCFG_LEN;
}

bool virtio_net_tx_frame(const struct vq_chain *tx, struct virtio_net_frame *f, const char **why)
{
        uint64_t rlen = chain_read_len(tx);
        uint8_t hdr[VIRTIO_NET_HDR_LEN], eth[2 * ETH_ALEN];

        vtv_memset(f, 0, sizeof(*f));
        *why = NULL;
        /* The header and the frame may be split across descriptors any way
         * the driver likes (2.7.4, message framing).  The header is copied
         * out once; everything below uses the copy, so a driver rewriting
         * its buffer meanwhile changes nothing that was checked. */
        if (rlen < VIRTIO_NET_HDR_LEN ||
            vq_chain_read(tx, 0, hdr, VIRTIO_NET_HDR_LEN) != VIRTIO_NET_HDR_LEN) {
                *why = "shorter than a virtio-net header";
                return false;
        }
        uint64_t len = rlen - VIRTIO_NET_HDR_LEN;
        if (len < ETH_HLEN) {
                *why = "frame shorter than an Ethernet header";
                return false;
        }
        if (len > VIRTIO_NET_MAX_FRAME) {
                *why = "frame longer than VIRTIO_NET_MAX_FRAME";
                return false;
        }
        /* No VIRTIO_NET_F_HOST_TSO4/6, _HOST_UFO or _HOST_USO was offered,
         * so a driver may not ask for segmentation (5.1.6.2.1). */
        if (hdr[HDR_GSO_TYPE] != VIRTIO_NET_HDR_GSO_NONE) {
                *why = "GSO asked for but not offered";
                return false;
        }
        if (vq_chain_read(tx, VIRTIO_NET_HDR_LEN, eth, sizeof(eth)) != sizeof(eth)) {
                *why = "frame shorter than the chain says"; /* an inconsistent chain */
                return false;
        }
        /* Only NEEDS_CSUM means anything from a driver: DATA_VALID is the
         * device's to set (5.1.6.2.1), other bits are ignored, and without
         * NEEDS_CSUM csum_start and csum_offset are not to be used
         * (5.1.6.2.2). */
        if (hdr[HDR_FLAGS] & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
                uint16_t start = get16(hdr + HDR_CSUM_START);
                uint16_t off = get16(hdr + HDR_CSUM_OFFSET);
                /* The 16-bit checksum field must lie inside the frame (what
                 * Linux's skb_partial_csum_set asks of its own drivers). */
                if ((uint64_t)start + off + 2 > len) {
                        *why = "checksum field outside the frame";
                        return false;
                }
                f->needs_csum = true;
                f->csum_start = start;
                f->csum_offset = off;
        }
        f->len = len;
        vtv_memcpy(f->dst, eth, ETH_ALEN);
        vtv_memcpy(f->src, eth + ETH_ALEN, ETH_ALEN);
        return true;
}

uint64_t virtio_net_deliver(const struct vq_chain *tx, const struct virtio_net_frame *f,
                            const struct vq_chain *rx, bool rx_guest_csum)
{
        struct span src = readable(tx), dst = writable(rx);
        uint8_t hdr[VIRTIO_NET_HDR_LEN];

        uint64_t rlen = chain_read_len(tx), wlen = chain_write_len(rx);

        /* f came from virtio_net_tx_frame on this chain; the checks are
         * repeated so that no f can make the copy read past tx's frame or
         * the checksum reach outside it.  Every check is made before the
         * first byte is written, so a dropped frame leaves rx untouched. */
        if (rlen < VIRTIO_NET_HDR_LEN || f->len > rlen - VIRTIO_NET_HDR_LEN ||
            f->len > VIRTIO_NET_MAX_FRAME)
                return 0;
        if (f->needs_csum && (uint64_t)f->csum_start + f->csum_offset + 2 > f->len)
                return 0;
        uint64_t total = VIRTIO_NET_HDR_LEN + f->len;
        /* Without VIRTIO_NET_F_MRG_RXBUF a frame goes into one receive chain
         * whole, which the driver makes at least 1526 bytes long (5.1.6.3.1);
         * a frame that does not fit is dropped. */
        if (wlen < total)
                return 0;

        /* 5.1.6.4.1: without GUEST_CSUM flags must be 0 and the packet
         * fully checksummed; with it the device may leave the checksum to
         * the driver by NEEDS_CSUM, the field then holding the
         * pseudo-header sum, which is just what the sender left there.  The
         * rest of the frame is passed on as the sending stack made it, not
         * validated (as vhost-net and tap do): a checksum guards against
         * corruption in transit, and there is none between two VMs.
         * gso_type NONE, hdr_len and gso_size 0; num_buffers 1 without
         * MRG_RXBUF. */
        bool pass_on = f->needs_csum && rx_guest_csum;
        vtv_memset(hdr, 0, sizeof(hdr));
        if (pass_on) {
                hdr[HDR_FLAGS] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
                put16(hdr + HDR_CSUM_START, f->csum_start);
                put16(hdr + HDR_CSUM_OFFSET, f->csum_offset);
        }
        put16(hdr + HDR_NUM_BUFFERS, 1);
        if (vq_chain_write(rx, 0, hdr, sizeof(hdr)) != sizeof(hdr))
                return 0;
        if (span_copy(dst, VIRTIO_NET_HDR_LEN, src, VIRTIO_NET_HDR_LEN, f->len) != f->len)
                return 0;

        if (f->needs_csum && !pass_on) {
                /* The sender's stack left the frame as Linux's
                 * CHECKSUM_PARTIAL does: the field at csum_start +
                 * csum_offset holds the folded pseudo-header sum, so the
                 * checksum is the complement of the one's-complement sum of
                 * csum_start..end, field included (RFC 1071).  It is summed
                 * over rx's copy, the bytes the receiver will see.  A result
                 * of 0 is sent as 0xffff, as Linux's skb_checksum_help does:
                 * UDP reserves 0 for "no checksum" (RFC 768), and for TCP
                 * the two are the same one's-complement number. */
                uint64_t start = VIRTIO_NET_HDR_LEN + (uint64_t)f->csum_start;
                uint16_t csum = (uint16_t)~fold(span_sum(dst, start, f->len - f->csum_start));
                if (csum == 0)
                        csum = 0xffff;
                uint8_t be[2] = { (uint8_t)(csum >> 8), (uint8_t)csum };
                if (vq_chain_write(rx, start + f->csum_offset, be, sizeof(be)) != sizeof(be))
                        return 0;
        }
        return total;
}

/* FNV-1a, 32 bits (Fowler, Noll and Vo; IETF draft-eastlake-fnv): offset
 * basis 2166136261, prime 16777619.  The hash is xor-folded to the 24 bits
 * wanted, as the FNV authors advise for sizes that are not a power of two,
 * so all 32 bits count. */
void virtio_net_mac_from_name(const char *name, uint8_t mac[6])
{
        uint32_t h = 2166136261u;
        for (const char *p = name ? name : ""; *p; p++) {
                h ^= (uint8_t)*p;
                h *= 16777619u;
        }
        uint32_t h24 = (h >> 24) ^ (h & 0xffffff);
        /* 0x02: locally administered (bit 1), unicast (bit 0 clear), IEEE
         * 802-2014 8.2.2; 0x76 0x74 is "vt". */
        mac[0] = 0x02;
        mac[1] = 0x76;
        mac[2] = 0x74;
        mac[3] = (uint8_t)(h24 >> 16);
        mac[4] = (uint8_t)(h24 >> 8);
        mac[5] = (uint8_t)h24;
}
