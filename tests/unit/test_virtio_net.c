/* Host unit tests for devices/virtio/virtio_net.c: the device
 * configuration, parsing a transmit chain, delivering its frame into a
 * receive chain (header, single copy, checksum completion) and the MAC
 * address derived from a VM's name.
 *
 * Chains are built by hand: every segment is its own heap block of exactly
 * its length, so ASan reports any byte the device touches outside one, and
 * the frames are split at awkward places (inside the header, at odd
 * offsets, through the checksum field, one byte a segment). */
#include "tests/unit/check_compat.h"
#include <stdio.h>
#include "devices/virtio/virtio_net.h"

#define RX_FILL 0xee /* what receive buffers hold before delivery */

/* A UDP datagram over IPv4 with its correct checksum (0x8df4), built for
 * these tests: 02:76:74:11:22:33 -> 02:76:74:aa:bb:cc, 10.0.0.1:5353 ->
 * 10.0.0.2:53, payload "vtvisor says hi" (15 bytes: odd).  The checksum
 * was computed independently (Python, RFC 768's pseudo-header) and the
 * test checks_of_the_test_packets verifies it the receiver's way. */
static const uint8_t udp_frame[] = { 0x02, 0x76, 0x74, 0xaa, 0xbb, 0xcc, 0x02, 0x76, 0x74, 0x11,
                                     0x22, 0x33, 0x08, 0x00, 0x45, 0x00, 0x00, 0x2b, 0x1c, 0x46,
                                     0x40, 0x00, 0x40, 0x11, 0x0a, 0x7a, 0x0a, 0x00, 0x00, 0x01,
                                     0x0a, 0x00, 0x00, 0x02, 0x14, 0xe9, 0x00, 0x35, 0x00, 0x17,
                                     0x8d, 0xf4, 0x76, 0x74, 0x76, 0x69, 0x73, 0x6f, 0x72, 0x20,
                                     0x73, 0x61, 0x79, 0x73, 0x20, 0x68, 0x69 };
#define UDP_CSUM        0x8df4
#define UDP_CSUM_OFFSET 6

/* A TCP segment (PSH|ACK, 10.0.0.1:40000 -> 10.0.0.2:80, payload
 * "GET /\r\n", 7 bytes) with its correct checksum 0x4866. */
static const uint8_t tcp_frame[] = { 0x02, 0x76, 0x74, 0xaa, 0xbb, 0xcc, 0x02, 0x76, 0x74,
                                     0x11, 0x22, 0x33, 0x08, 0x00, 0x45, 0x00, 0x00, 0x2f,
                                     0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x0a, 0x81, 0x0a,
                                     0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40,
                                     0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde,
                                     0xf0, 0x50, 0x18, 0xff, 0xff, 0x48, 0x66, 0x00, 0x00,
                                     0x47, 0x45, 0x54, 0x20, 0x2f, 0x0d, 0x0a };
#define TCP_CSUM        0x4866
#define TCP_CSUM_OFFSET 16

#define L4_START (14 + 20) /* Ethernet header, IPv4 header without options */

static struct vq_chain tx, rx;

/* --- chains ------------------------------------------------------------ */

static void chain_init(struct vq_chain *c)
{
        memset(c, 0, sizeof(*c));
}

/* Appends one segment of len bytes: a copy of data, or RX_FILL bytes. */
static void chain_add(struct vq_chain *c, const uint8_t *data, uint32_t len, bool write)
{
        ck_assert_uint_lt(c->nseg, VQ_MAX_SEGS);
        ck_assert(write || c->nseg == c->nread); /* readable ones first */
        uint8_t *p = malloc(len ? len : 1);
        ck_assert_ptr_nonnull(p);
        if (data)
                memcpy(p, data, len);
        else
                memset(p, RX_FILL, len);
        c->seg[c->nseg].ptr = p;
        c->seg[c->nseg].len = len;
        c->seg[c->nseg].write = write;
        c->nseg++;
        if (write) {
                c->write_len += len;
        } else {
                c->nread++;
                c->read_len += len;
        }
}

/* Appends len bytes (data, or RX_FILL when NULL) as segments of the listed
 * sizes, then one of whatever is left (if anything is). */
static void chain_add_split(struct vq_chain *c, const uint8_t *data, size_t len, bool write,
                            const uint32_t *sizes, size_t nsizes)
{
        size_t off = 0;
        for (size_t i = 0; i < nsizes; i++) {
                ck_assert_uint_le(off + sizes[i], len);
                chain_add(c, data ? data + off : NULL, sizes[i], write);
                off += sizes[i];
        }
        if (off < len)
                chain_add(c, data ? data + off : NULL, (uint32_t)(len - off), write);
}

/* Appends len bytes one byte a segment. */
static void chain_add_bytes(struct vq_chain *c, const uint8_t *data, size_t len, bool write)
{
        for (size_t i = 0; i < len; i++)
                chain_add(c, data ? data + i : NULL, 1, write);
}

static void chain_free(struct vq_chain *c)
{
        for (unsigned i = 0; i < c->nseg; i++)
                free(c->seg[i].ptr);
        chain_init(c);
}

/* The writable part, concatenated into out (c->write_len bytes). */
static void gather_writable(const struct vq_chain *c, uint8_t *out)
{
        size_t off = 0;
        for (unsigned i = c->nread; i < c->nseg; i++) {
                memcpy(out + off, c->seg[i].ptr, c->seg[i].len);
                off += c->seg[i].len;
        }
}

/* A struct virtio_net_hdr as a driver writes it. */
static void make_hdr(uint8_t *h, uint8_t flags, uint8_t gso, uint16_t start, uint16_t off)
{
        memset(h, 0, VIRTIO_NET_HDR_LEN);
        h[0] = flags;
        h[1] = gso;
        h[6] = (uint8_t)start;
        h[7] = (uint8_t)(start >> 8);
        h[8] = (uint8_t)off;
        h[9] = (uint8_t)(off >> 8);
}

/* Header and frame in one flat buffer (at most 12 + 1600 bytes). */
static uint8_t txbuf[VIRTIO_NET_HDR_LEN + 1600];
static size_t make_tx(const uint8_t *hdr, const uint8_t *frame, size_t len)
{
        ck_assert_uint_le(len, sizeof(txbuf) - VIRTIO_NET_HDR_LEN);
        memcpy(txbuf, hdr, VIRTIO_NET_HDR_LEN);
        memcpy(txbuf + VIRTIO_NET_HDR_LEN, frame, len);
        return VIRTIO_NET_HDR_LEN + len;
}

/* --- checksums, computed the plain way over flat buffers -------------- */

static uint32_t sum_be16(const uint8_t *p, size_t len)
{
        uint32_t s = 0;
        for (size_t i = 0; i + 1 < len; i += 2)
                s += (uint32_t)(p[i] << 8 | p[i + 1]);
        if (len & 1)
                s += (uint32_t)p[len - 1] << 8;
        return s;
}

static uint16_t fold16(uint32_t s)
{
        while (s >> 16)
                s = (s & 0xffff) + (s >> 16);
        return (uint16_t)s;
}

/* The IPv4 pseudo-header's folded sum (RFC 768, RFC 793 3.1) for the
 * frame's L4 part: what Linux leaves in the checksum field of a
 * CHECKSUM_PARTIAL packet (~csum_tcpudp_magic(saddr, daddr, len, proto,
 * 0)). */
static uint16_t pseudo_sum(const uint8_t *frame)
{
        const uint8_t *ip = frame + 14;
        uint32_t len = (uint32_t)(ip[2] << 8 | ip[3]) - 4u * (ip[0] & 15);
        uint32_t s = sum_be16(ip + 12, 8) + ip[9] + len;
        return fold16(s);
}

/* The frame as a CHECKSUM_PARTIAL sender hands it over: the checksum field
 * holding the pseudo-header sum. */
static void make_partial(uint8_t *out, const uint8_t *frame, size_t len, unsigned csum_offset)
{
        memcpy(out, frame, len);
        uint16_t ps = pseudo_sum(frame);
        out[L4_START + csum_offset] = (uint8_t)(ps >> 8);
        out[L4_START + csum_offset + 1] = (uint8_t)ps;
}

/* --- the device configuration ----------------------------------------- */

START_TEST(init_config)
{
        const uint8_t mac[6] = { 0x02, 0x76, 0x74, 0x01, 0x02, 0x03 };
        uint8_t cfg[64];
        uint64_t features = ~0ull;
        unsigned len = 0;
        memset(cfg, 0x5a, sizeof(cfg));
        virtio_net_init(mac, &features, cfg, &len);
        ck_assert_x64_eq(features, BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
                                       BIT(VIRTIO_NET_F_MTU) | BIT(VIRTIO_NET_F_MAC) |
                                       BIT(VIRTIO_NET_F_STATUS));
        ck_assert_uint_eq(len, VIRTIO_NET_DEVCFG_LEN);
        ck_assert_uint_eq(len, 12);
        const uint8_t want[12] = { 0x02, 0x76, 0x74, 0x01, 0x02, 0x03, /* mac */
                                   1,    0,                            /* status: LINK_UP */
                                   1,    0,                            /* max_virtqueue_pairs */
                                   0xdc, 0x05 };                       /* mtu 1500 */
        ck_assert_mem_eq(cfg, want, sizeof(want));
        /* Nothing past devcfg_len is written. */
        for (unsigned i = len; i < sizeof(cfg); i++)
                ck_assert_uint_eq(cfg[i], 0x5a);
        /* The transport adds VERSION_1 and EVENT_IDX; no offload that makes
         * frames longer than 1514 bytes is offered. */
        ck_assert_uint_eq(features & (BIT(32) | BIT(15) | BIT(11) | BIT(7) | BIT(22)), 0);
}
END_TEST

/* --- transmit chains --------------------------------------------------- */

START_TEST(tx_frame_parses_split_header)
{
        uint8_t h[VIRTIO_NET_HDR_LEN];
        make_hdr(h, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0);
        size_t n = make_tx(h, udp_frame, sizeof(udp_frame));
        /* The header in 5 + 6 bytes, its last byte with the frame's first
         * 3, then the MACs split at 1 and 4. */
        const uint32_t sizes[] = { 5, 6, 4, 1, 4, 7 };
        chain_add_split(&tx, txbuf, n, false, sizes, ARRAY_SIZE(sizes));
        struct virtio_net_frame f;
        const char *why = "unset";
        ck_assert(virtio_net_tx_frame(&tx, &f, &why));
        ck_assert_ptr_null(why);
        ck_assert_uint_eq(f.len, sizeof(udp_frame));
        ck_assert_mem_eq(f.dst, udp_frame, 6);
        ck_assert_mem_eq(f.src, udp_frame + 6, 6);
        ck_assert(!f.needs_csum);
        ck_assert_uint_eq(f.csum_start, 0);
        ck_assert_uint_eq(f.csum_offset, 0);
}
END_TEST

/* Every way of cutting the chain in two, and one byte a segment. */
START_TEST(tx_frame_any_split)
{
        uint8_t h[VIRTIO_NET_HDR_LEN];
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, L4_START,
                 TCP_CSUM_OFFSET);
        size_t n = make_tx(h, tcp_frame, sizeof(tcp_frame));
        for (uint32_t cut = 0; cut <= n; cut++) {
                chain_add_split(&tx, txbuf, n, false, &cut, 1);
                struct virtio_net_frame f;
                const char *why;
                ck_assert(virtio_net_tx_frame(&tx, &f, &why));
                ck_assert_uint_eq(f.len, sizeof(tcp_frame));
                ck_assert_mem_eq(f.dst, tcp_frame, 6);
                ck_assert_mem_eq(f.src, tcp_frame + 6, 6);
                ck_assert(f.needs_csum);
                ck_assert_uint_eq(f.csum_start, L4_START);
                ck_assert_uint_eq(f.csum_offset, TCP_CSUM_OFFSET);
                chain_free(&tx);
        }
        chain_add_bytes(&tx, txbuf, n, false);
        struct virtio_net_frame f;
        const char *why;
        ck_assert(virtio_net_tx_frame(&tx, &f, &why));
        ck_assert_uint_eq(f.len, sizeof(tcp_frame));
        ck_assert_mem_eq(f.dst, tcp_frame, 6);
        ck_assert_mem_eq(f.src, tcp_frame + 6, 6);
}
END_TEST

static bool parse(const uint8_t *hdr, const uint8_t *frame, size_t len, struct virtio_net_frame *f,
                  const char **why)
{
        static uint8_t zeros[1600];
        size_t n = make_tx(hdr, frame ? frame : zeros, len);
        const uint32_t sizes[] = { 7 };
        chain_free(&tx);
        chain_add_split(&tx, txbuf, n, false, sizes, n > 7 ? 1 : 0);
        *why = NULL;
        return virtio_net_tx_frame(&tx, f, why);
}

START_TEST(tx_frame_lengths)
{
        uint8_t h[VIRTIO_NET_HDR_LEN];
        struct virtio_net_frame f;
        const char *why;
        make_hdr(h, 0, 0, 0, 0);
        /* 14 to 1514 bytes of frame. */
        ck_assert(!parse(h, NULL, 0, &f, &why));
        ck_assert_ptr_nonnull(why);
        ck_assert(!parse(h, NULL, 13, &f, &why));
        ck_assert_ptr_nonnull(why);
        ck_assert(parse(h, NULL, 14, &f, &why));
        ck_assert_uint_eq(f.len, 14);
        ck_assert(parse(h, NULL, VIRTIO_NET_MAX_FRAME, &f, &why));
        ck_assert_uint_eq(f.len, 1514);
        ck_assert(!parse(h, NULL, VIRTIO_NET_MAX_FRAME + 1, &f, &why));
        ck_assert_ptr_nonnull(why);
        /* Less than a header. */
        chain_free(&tx);
        chain_add(&tx, h, 11, false);
        ck_assert(!virtio_net_tx_frame(&tx, &f, &why));
        ck_assert_ptr_nonnull(why);
        /* No readable part at all: a receive-shaped chain on the wrong queue. */
        chain_free(&tx);
        chain_add(&tx, NULL, 100, true);
        ck_assert(!virtio_net_tx_frame(&tx, &f, &why));
        ck_assert_ptr_nonnull(why);
        /* Writable segments after the readable ones are not the frame's. */
        chain_free(&tx);
        size_t n = make_tx(h, udp_frame, 14);
        chain_add(&tx, txbuf, (uint32_t)n - 1, false);
        chain_add(&tx, NULL, 64, true);
        ck_assert(!virtio_net_tx_frame(&tx, &f, &why));
        chain_free(&tx);
        chain_add(&tx, txbuf, (uint32_t)n, false);
        chain_add(&tx, NULL, 64, true);
        ck_assert(virtio_net_tx_frame(&tx, &f, &why));
        ck_assert_uint_eq(f.len, 14);
}
END_TEST

START_TEST(tx_frame_gso_and_flags)
{
        uint8_t h[VIRTIO_NET_HDR_LEN];
        struct virtio_net_frame f;
        const char *why;
        /* Any GSO type (TCPV4 1, UDP 3, TCPV6 4, UDP_L4 5, ECN 0x80) is
         * dropped: none was offered. */
        const uint8_t gso[] = { 1, 3, 4, 5, 0x80, 0x81, 0xff };
        for (size_t i = 0; i < ARRAY_SIZE(gso); i++) {
                make_hdr(h, 0, gso[i], 0, 0);
                ck_assert(!parse(h, udp_frame, sizeof(udp_frame), &f, &why));
                ck_assert_ptr_nonnull(why);
        }
        /* Without NEEDS_CSUM, csum_start and csum_offset are not used
         * (5.1.6.2.2), however wild; DATA_VALID and unknown flag bits are
         * ignored. */
        const uint8_t flags[] = { 0, VIRTIO_NET_HDR_F_DATA_VALID, 0x80, 0xfe };
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
                make_hdr(h, flags[i], 0, 0xffff, 0xffff);
                ck_assert(parse(h, udp_frame, sizeof(udp_frame), &f, &why));
                ck_assert(!f.needs_csum);
                ck_assert_uint_eq(f.csum_start, 0);
                ck_assert_uint_eq(f.csum_offset, 0);
        }
        /* NEEDS_CSUM with other bits set. */
        make_hdr(h, 0xff, 0, L4_START, UDP_CSUM_OFFSET);
        ck_assert(parse(h, udp_frame, sizeof(udp_frame), &f, &why));
        ck_assert(f.needs_csum);
        ck_assert_uint_eq(f.csum_start, L4_START);
        ck_assert_uint_eq(f.csum_offset, UDP_CSUM_OFFSET);
}
END_TEST

START_TEST(tx_frame_checksum_field_bounds)
{
        uint8_t h[VIRTIO_NET_HDR_LEN];
        struct virtio_net_frame f;
        const char *why;
        const uint16_t len = sizeof(udp_frame);
        /* The field's last byte is the frame's last: fine. */
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 10, (uint16_t)(len - 12));
        ck_assert(parse(h, udp_frame, len, &f, &why));
        ck_assert(f.needs_csum);
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, (uint16_t)(len - 2), 0);
        ck_assert(parse(h, udp_frame, len, &f, &why));
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, (uint16_t)(len - 2));
        ck_assert(parse(h, udp_frame, len, &f, &why));
        /* One byte further: dropped. */
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 10, (uint16_t)(len - 11));
        ck_assert(!parse(h, udp_frame, len, &f, &why));
        ck_assert_ptr_nonnull(why);
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, (uint16_t)(len - 1), 0);
        ck_assert(!parse(h, udp_frame, len, &f, &why));
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, len, 0);
        ck_assert(!parse(h, udp_frame, len, &f, &why));
        /* Sums that would wrap in 16 bits. */
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0xffff, 0xffff);
        ck_assert(!parse(h, udp_frame, len, &f, &why));
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0xfffe, 4);
        ck_assert(!parse(h, udp_frame, len, &f, &why));
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 4, 0xfffe);
        ck_assert(!parse(h, udp_frame, len, &f, &why));
}
END_TEST

/* --- delivery ---------------------------------------------------------- */

/* Parses tx, delivers into rx; checks the header written and returns the
 * bytes written (the writable part is in out). */
static uint64_t deliver(bool guest_csum, struct virtio_net_frame *f, uint8_t *out)
{
        const char *why;
        ck_assert(virtio_net_tx_frame(&tx, f, &why));
        uint64_t n = virtio_net_deliver(&tx, f, &rx, guest_csum);
        gather_writable(&rx, out);
        return n;
}

static void check_header(const uint8_t *h, bool needs_csum, uint16_t start, uint16_t off)
{
        uint8_t want[VIRTIO_NET_HDR_LEN];
        make_hdr(want, needs_csum ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0, VIRTIO_NET_HDR_GSO_NONE, start,
                 off);
        want[10] = 1; /* num_buffers */
        ck_assert_mem_eq(h, want, sizeof(want));
}

START_TEST(deliver_plain_frame)
{
        uint8_t h[VIRTIO_NET_HDR_LEN], out[256];
        make_hdr(h, 0, 0, 0, 0);
        size_t n = make_tx(h, udp_frame, sizeof(udp_frame));
        const uint32_t ts[] = { 3, 9, 1, 1, 5 }, rs[] = { 1, 2, 13, 7, 7, 1 };
        chain_add_split(&tx, txbuf, n, false, ts, ARRAY_SIZE(ts));
        chain_add(&rx, NULL, 16, false); /* readable ones in rx are not written */
        chain_add_split(&rx, NULL, 100, true, rs, ARRAY_SIZE(rs));
        for (int guest_csum = 0; guest_csum < 2; guest_csum++) {
                struct virtio_net_frame f;
                ck_assert_uint_eq(deliver(guest_csum, &f, out), n);
                check_header(out, false, 0, 0);
                ck_assert_mem_eq(out + VIRTIO_NET_HDR_LEN, udp_frame, sizeof(udp_frame));
                for (size_t i = n; i < 100; i++)
                        ck_assert_uint_eq(out[i], RX_FILL);
                for (unsigned i = 0; i < 16; i++)
                        ck_assert_uint_eq(rx.seg[0].ptr[i], RX_FILL);
        }
}
END_TEST

/* The header the sender wrote is not what the receiver sees: a fresh one
 * (num_buffers 1, the driver's num_buffers and hdr_len and flag bits
 * dropped). */
START_TEST(deliver_fresh_header)
{
        uint8_t h[VIRTIO_NET_HDR_LEN], out[128];
        memset(h, 0xff, sizeof(h));
        h[0] = VIRTIO_NET_HDR_F_DATA_VALID | 0xf0;
        h[1] = VIRTIO_NET_HDR_GSO_NONE;
        size_t n = make_tx(h, tcp_frame, sizeof(tcp_frame));
        chain_add(&tx, txbuf, (uint32_t)n, false);
        chain_add(&rx, NULL, 128, true);
        struct virtio_net_frame f;
        ck_assert_uint_eq(deliver(true, &f, out), n);
        check_header(out, false, 0, 0);
        ck_assert_mem_eq(out + VIRTIO_NET_HDR_LEN, tcp_frame, sizeof(tcp_frame));
}
END_TEST

START_TEST(deliver_passes_needs_csum_on)
{
        uint8_t h[VIRTIO_NET_HDR_LEN], frame[sizeof(udp_frame)], out[128];
        make_partial(frame, udp_frame, sizeof(frame), UDP_CSUM_OFFSET);
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, L4_START, UDP_CSUM_OFFSET);
        size_t n = make_tx(h, frame, sizeof(frame));
        const uint32_t rs[] = { 11, 30, 1 };
        chain_add_split(&tx, txbuf, n, false, NULL, 0);
        chain_add_split(&rx, NULL, 128, true, rs, ARRAY_SIZE(rs));
        struct virtio_net_frame f;
        ck_assert_uint_eq(deliver(true, &f, out), n);
        /* 5.1.6.4.1: NEEDS_CSUM, the same csum_start and csum_offset, the
         * field still the pseudo-header sum for the driver to complete. */
        check_header(out, true, L4_START, UDP_CSUM_OFFSET);
        ck_assert_mem_eq(out + VIRTIO_NET_HDR_LEN, frame, sizeof(frame));
}
END_TEST

/* The test packets are right: summed with the pseudo-header, each
 * verifies (RFC 1071 4.1: all ones), and the pseudo sums are Linux's. */
START_TEST(checks_of_the_test_packets)
{
        const struct {
                const uint8_t *frame;
                size_t len;
                unsigned off;
                uint16_t csum;
        } p[] = { { udp_frame, sizeof(udp_frame), UDP_CSUM_OFFSET, UDP_CSUM },
                  { tcp_frame, sizeof(tcp_frame), TCP_CSUM_OFFSET, TCP_CSUM } };
        for (size_t i = 0; i < ARRAY_SIZE(p); i++) {
                const uint8_t *l4 = p[i].frame + L4_START;
                size_t l4len = p[i].len - L4_START;
                uint32_t s = pseudo_sum(p[i].frame) + sum_be16(l4, l4len);
                ck_assert_uint_eq(fold16(s), 0xffff);
                ck_assert_uint_eq(l4[p[i].off] << 8 | l4[p[i].off + 1], p[i].csum);
                /* And the IPv4 header checksum too. */
                ck_assert_uint_eq(fold16(sum_be16(p[i].frame + 14, 20)), 0xffff);
        }
        ck_assert_uint_eq(pseudo_sum(udp_frame), 0x142b);
        ck_assert_uint_eq(pseudo_sum(tcp_frame), 0x1424);
}
END_TEST

/* Sends frame (a CHECKSUM_PARTIAL copy of it) through tx split per
 * tsizes, into rx split per rsizes, without GUEST_CSUM, and checks that
 * the receiver gets exactly frame. */
static void check_completion(const uint8_t *frame, size_t len, unsigned csum_offset,
                             const uint32_t *tsizes, size_t nt, const uint32_t *rsizes, size_t nr,
                             size_t rxlen)
{
        uint8_t h[VIRTIO_NET_HDR_LEN], partial[1600], out[1700];
        make_partial(partial, frame, len, csum_offset);
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, L4_START, (uint16_t)csum_offset);
        size_t n = make_tx(h, partial, len);
        chain_free(&tx);
        chain_free(&rx);
        chain_add_split(&tx, txbuf, n, false, tsizes, nt);
        chain_add_split(&rx, NULL, rxlen, true, rsizes, nr);
        struct virtio_net_frame f;
        ck_assert_uint_eq(deliver(false, &f, out), n);
        check_header(out, false, 0, 0);
        ck_assert_mem_eq(out + VIRTIO_NET_HDR_LEN, frame, len);
        for (size_t i = n; i < rxlen; i++)
                ck_assert_uint_eq(out[i], RX_FILL);
}

START_TEST(checksum_completed_udp)
{
        const size_t n = VIRTIO_NET_HDR_LEN + sizeof(udp_frame), rxlen = n + 3;
        /* Every cut of tx against every cut of rx: the field, the summed
         * range's start and its odd bytes meet every segment boundary. */
        for (uint32_t t = 0; t <= n; t++)
                for (uint32_t r = 0; r <= rxlen; r++)
                        check_completion(udp_frame, sizeof(udp_frame), UDP_CSUM_OFFSET, &t, 1, &r,
                                         1, rxlen);
}
END_TEST

START_TEST(checksum_completed_tcp)
{
        const size_t n = VIRTIO_NET_HDR_LEN + sizeof(tcp_frame), rxlen = n;
        for (uint32_t t = 0; t <= n; t++)
                for (uint32_t r = 0; r <= rxlen; r++)
                        check_completion(tcp_frame, sizeof(tcp_frame), TCP_CSUM_OFFSET, &t, 1, &r,
                                         1, rxlen);
}
END_TEST

/* Three-way cuts of rx, odd-sized segments everywhere, one byte a
 * segment, and empty segments. */
START_TEST(checksum_completed_odd_segments)
{
        const size_t n = VIRTIO_NET_HDR_LEN + sizeof(tcp_frame);
        for (uint32_t a = 0; a <= n; a++) {
                for (uint32_t b = 0; a + b <= n; b++) {
                        const uint32_t rs[] = { a, b };
                        const uint32_t ts[] = { 13 };
                        check_completion(tcp_frame, sizeof(tcp_frame), TCP_CSUM_OFFSET, ts, 1, rs,
                                         2, n);
                }
        }
        const uint32_t odd[] = { 1, 3, 5, 7, 9, 11, 13, 3, 1, 1 };
        check_completion(udp_frame, sizeof(udp_frame), UDP_CSUM_OFFSET, odd, ARRAY_SIZE(odd), odd,
                         ARRAY_SIZE(odd), VIRTIO_NET_HDR_LEN + sizeof(udp_frame) + 1);
        const uint32_t empties[] = { 0, 12, 0, 0, 35, 0, 1, 0 };
        check_completion(udp_frame, sizeof(udp_frame), UDP_CSUM_OFFSET, empties,
                         ARRAY_SIZE(empties), empties, ARRAY_SIZE(empties),
                         VIRTIO_NET_HDR_LEN + sizeof(udp_frame));

        /* One byte a segment on both sides. */
        uint8_t h[VIRTIO_NET_HDR_LEN], partial[sizeof(udp_frame)], out[128];
        make_partial(partial, udp_frame, sizeof(udp_frame), UDP_CSUM_OFFSET);
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, L4_START, UDP_CSUM_OFFSET);
        size_t len = make_tx(h, partial, sizeof(partial));
        chain_free(&tx);
        chain_free(&rx);
        chain_add_bytes(&tx, txbuf, len, false);
        chain_add_bytes(&rx, NULL, len, true);
        struct virtio_net_frame f;
        ck_assert_uint_eq(deliver(false, &f, out), len);
        ck_assert_mem_eq(out + VIRTIO_NET_HDR_LEN, udp_frame, sizeof(udp_frame));
}
END_TEST

/* A UDP datagram whose checksum comes out as 0 is sent with 0xffff (RFC
 * 768: 0 means "no checksum"; Linux's skb_checksum_help does the same). */
START_TEST(checksum_zero_sent_as_ones)
{
        uint8_t frame[sizeof(udp_frame)];
        memcpy(frame, udp_frame, sizeof(frame));
        uint8_t *l4 = frame + L4_START;
        size_t l4len = sizeof(frame) - L4_START;
        /* Zero the checksum and the payload's first word, then choose that
         * word so that pseudo-header and datagram sum to all ones. */
        l4[6] = l4[7] = l4[8] = l4[9] = 0;
        uint16_t w = (uint16_t)~fold16(pseudo_sum(frame) + sum_be16(l4, l4len));
        l4[8] = (uint8_t)(w >> 8);
        l4[9] = (uint8_t)w;
        ck_assert_uint_eq(fold16(pseudo_sum(frame) + sum_be16(l4, l4len)), 0xffff);
        /* The right checksum: all ones, which verifies like 0 would. */
        uint8_t want[sizeof(frame)];
        memcpy(want, frame, sizeof(want));
        want[L4_START + 6] = want[L4_START + 7] = 0xff;
        ck_assert_uint_eq(fold16(pseudo_sum(want) + sum_be16(want + L4_START, l4len)), 0xffff);

        uint8_t h[VIRTIO_NET_HDR_LEN], partial[sizeof(frame)], out[128];
        make_partial(partial, frame, sizeof(frame), UDP_CSUM_OFFSET);
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, L4_START, UDP_CSUM_OFFSET);
        size_t n = make_tx(h, partial, sizeof(partial));
        const uint32_t rs[] = { 12 + L4_START + 7 }; /* the field split in two */
        chain_add(&tx, txbuf, (uint32_t)n, false);
        chain_add_split(&rx, NULL, n, true, rs, 1);
        struct virtio_net_frame f;
        ck_assert_uint_eq(deliver(false, &f, out), n);
        ck_assert_mem_eq(out + VIRTIO_NET_HDR_LEN, want, sizeof(want));
}
END_TEST

/* A deterministic generator for the randomised cases. */
static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
        rng_state = rng_state * 1103515245u + 12345u;
        return rng_state >> 8;
}

/* Random frames up to 1514 bytes with random checksum positions and
 * random splits, checked against the flat computation. */
START_TEST(checksum_random_frames)
{
        static uint8_t frame[VIRTIO_NET_MAX_FRAME], out[VIRTIO_NET_HDR_LEN + 1600];
        for (int iter = 0; iter < 400; iter++) {
                size_t len = 14 + rnd() % (VIRTIO_NET_MAX_FRAME - 14 + 1);
                for (size_t i = 0; i < len; i++)
                        frame[i] = (uint8_t)rnd();
                uint16_t start = (uint16_t)(rnd() % (len - 1));
                uint16_t off = (uint16_t)(rnd() % (len - 1 - start));
                uint8_t h[VIRTIO_NET_HDR_LEN];
                make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, start, off);
                size_t n = make_tx(h, frame, len);
                uint32_t ts[VQ_MAX_SEGS - 1], rs[VQ_MAX_SEGS - 1];
                size_t nt = 0, nr = 0, used = 0;
                while (nt < ARRAY_SIZE(ts) && used < n) {
                        uint32_t r = rnd() % (iter % 3 ? 64 : 7); /* MIN evaluates twice */
                        ts[nt] = MIN((uint32_t)(n - used), r);
                        used += ts[nt++];
                }
                size_t rxlen = n + rnd() % 8;
                used = 0;
                while (nr < ARRAY_SIZE(rs) && used < rxlen) {
                        uint32_t r = rnd() % (iter % 2 ? 50 : 5);
                        rs[nr] = MIN((uint32_t)(rxlen - used), r);
                        used += rs[nr++];
                }
                chain_free(&tx);
                chain_free(&rx);
                chain_add_split(&tx, txbuf, n, false, ts, nt);
                chain_add_split(&rx, NULL, rxlen, true, rs, nr);
                struct virtio_net_frame f;
                ck_assert_uint_eq(deliver(false, &f, out), n);
                /* The frame, the field aside. */
                size_t field = (size_t)start + off;
                ck_assert_mem_eq(out + VIRTIO_NET_HDR_LEN, frame, field);
                ck_assert_mem_eq(out + VIRTIO_NET_HDR_LEN + field + 2, frame + field + 2,
                                 len - field - 2);
                /* The field: the complement of the flat sum, 0 sent as
                 * 0xffff. */
                uint16_t c = (uint16_t)~fold16(sum_be16(frame + start, len - start));
                if (c == 0)
                        c = 0xffff;
                ck_assert_uint_eq(
                    out[VIRTIO_NET_HDR_LEN + field] << 8 | out[VIRTIO_NET_HDR_LEN + field + 1], c);
        }
}
END_TEST

START_TEST(rx_too_small)
{
        uint8_t h[VIRTIO_NET_HDR_LEN], out[128];
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, L4_START, UDP_CSUM_OFFSET);
        size_t n = make_tx(h, udp_frame, sizeof(udp_frame));
        chain_add(&tx, txbuf, (uint32_t)n, false);
        /* One byte short, in pieces; a big readable part does not count. */
        const uint32_t rs[] = { 12, 20 };
        chain_add(&rx, NULL, 100, false);
        chain_add_split(&rx, NULL, n - 1, true, rs, ARRAY_SIZE(rs));
        for (int guest_csum = 0; guest_csum < 2; guest_csum++) {
                struct virtio_net_frame f;
                ck_assert_uint_eq(deliver(guest_csum, &f, out), 0);
                /* Nothing written. */
                for (size_t i = 0; i < n - 1; i++)
                        ck_assert_uint_eq(out[i], RX_FILL);
        }
        /* No writable part at all. */
        chain_free(&rx);
        chain_add(&rx, NULL, 100, false);
        struct virtio_net_frame f;
        ck_assert_uint_eq(deliver(false, &f, out), 0);
        /* Exactly enough. */
        chain_free(&rx);
        chain_add_split(&rx, NULL, n, true, rs, ARRAY_SIZE(rs));
        ck_assert_uint_eq(deliver(false, &f, out), n);
        ck_assert_uint_eq(rx.write_len, n);
}
END_TEST

/* A frame description that does not match tx (a caller's bug) cannot make
 * the device read past the frame or write past the receive buffers. */
START_TEST(deliver_rejects_inconsistent_frame)
{
        uint8_t h[VIRTIO_NET_HDR_LEN];
        make_hdr(h, 0, 0, 0, 0);
        size_t n = make_tx(h, udp_frame, sizeof(udp_frame));
        chain_add(&tx, txbuf, (uint32_t)n, false);
        chain_add(&rx, NULL, 2000, true);
        struct virtio_net_frame f;
        const char *why;
        ck_assert(virtio_net_tx_frame(&tx, &f, &why));
        struct virtio_net_frame bad = f;
        bad.len = f.len + 1;
        ck_assert_uint_eq(virtio_net_deliver(&tx, &bad, &rx, false), 0);
        bad = f;
        bad.needs_csum = true;
        bad.csum_start = (uint16_t)(f.len - 1);
        ck_assert_uint_eq(virtio_net_deliver(&tx, &bad, &rx, false), 0);
        /* A chain whose read_len claims more than its segments hold. */
        tx.read_len += 10;
        bad = f;
        bad.len = f.len + 10;
        ck_assert_uint_eq(virtio_net_deliver(&tx, &bad, &rx, false), 0);
        tx.read_len -= 10;
        ck_assert_uint_eq(virtio_net_deliver(&tx, &f, &rx, false), n);
        /* And one whose write_len does. */
        rx.write_len = 5000;
        chain_free(&rx);
        chain_add(&rx, NULL, (uint32_t)n - 1, true);
        rx.write_len = 5000;
        ck_assert_uint_eq(virtio_net_deliver(&tx, &f, &rx, false), 0);
}
END_TEST

/* A chain whose lengths claim more than its segments hold is judged by
 * what the segments hold, and a frame dropped for it leaves rx untouched:
 * no header is written before every check has passed. */
START_TEST(inconsistent_chains_leave_rx_untouched)
{
        uint8_t h[VIRTIO_NET_HDR_LEN];
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, L4_START, UDP_CSUM_OFFSET);
        size_t n = make_tx(h, udp_frame, sizeof(udp_frame));
        struct virtio_net_frame f;
        const char *why;

        /* tx: read_len says 100 bytes more than there are. */
        chain_add(&tx, txbuf, (uint32_t)n, false);
        tx.read_len += 100;
        ck_assert(virtio_net_tx_frame(&tx, &f, &why));
        ck_assert_uint_eq(f.len, sizeof(udp_frame));
        /* read_len shorter than the segments: the frame ends there. */
        tx.read_len = VIRTIO_NET_HDR_LEN + L4_START + UDP_CSUM_OFFSET + 2;
        ck_assert(virtio_net_tx_frame(&tx, &f, &why));
        ck_assert_uint_eq(f.len, L4_START + UDP_CSUM_OFFSET + 2);
        /* ... and a checksum field past it is refused. */
        tx.read_len = VIRTIO_NET_HDR_LEN + L4_START + UDP_CSUM_OFFSET + 1;
        ck_assert(!virtio_net_tx_frame(&tx, &f, &why));
        ck_assert_ptr_nonnull(why);
        /* nread larger than nseg counts only the segments there are. */
        tx.read_len = n;
        tx.nread = 5;
        ck_assert(virtio_net_tx_frame(&tx, &f, &why));
        ck_assert_uint_eq(f.len, sizeof(udp_frame));
        tx.nread = 1;

        /* rx: write_len says 2000, the segments hold one byte too few. */
        const uint32_t rs[] = { 5, 7, 30 };
        chain_add_split(&rx, NULL, n - 1, true, rs, ARRAY_SIZE(rs));
        rx.write_len = 2000;
        for (int guest_csum = 0; guest_csum < 2; guest_csum++) {
                ck_assert(virtio_net_tx_frame(&tx, &f, &why));
                ck_assert_uint_eq(virtio_net_deliver(&tx, &f, &rx, guest_csum), 0);
                uint8_t out[128];
                gather_writable(&rx, out);
                for (size_t i = 0; i < n - 1; i++)
                        ck_assert_uint_eq(out[i], RX_FILL);
        }
        /* nseg beyond VQ_MAX_SEGS is clamped, not walked. */
        rx.nseg = VQ_MAX_SEGS + 50;
        ck_assert_uint_eq(virtio_net_deliver(&tx, &f, &rx, false), 0);
        rx.nseg = ARRAY_SIZE(rs) + 1;
}
END_TEST

/* The frame description is a copy: a sender that rewrites its header
 * between parsing and delivery (another vCPU) changes nothing checked. */
START_TEST(header_rewritten_after_parse)
{
        uint8_t h[VIRTIO_NET_HDR_LEN], partial[sizeof(udp_frame)], out[128];
        make_partial(partial, udp_frame, sizeof(udp_frame), UDP_CSUM_OFFSET);
        make_hdr(h, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, L4_START, UDP_CSUM_OFFSET);
        size_t n = make_tx(h, partial, sizeof(partial));
        chain_add(&tx, txbuf, (uint32_t)n, false);
        chain_add(&rx, NULL, 128, true);
        struct virtio_net_frame f;
        const char *why;
        ck_assert(virtio_net_tx_frame(&tx, &f, &why));
        memset(tx.seg[0].ptr, 0xff, VIRTIO_NET_HDR_LEN);
        ck_assert_uint_eq(virtio_net_deliver(&tx, &f, &rx, false), n);
        gather_writable(&rx, out);
        check_header(out, false, 0, 0);
        ck_assert_mem_eq(out + VIRTIO_NET_HDR_LEN, udp_frame, sizeof(udp_frame));
}
END_TEST

/* --- MAC addresses ----------------------------------------------------- */

START_TEST(mac_from_name)
{
        uint8_t a[6], b[6];
        virtio_net_mac_from_name("web", a);
        virtio_net_mac_from_name("web", b);
        ck_assert_mem_eq(a, b, 6);
        /* 02:76:74 then FNV-1a("web") = 0x0fd9bc91, xor-folded to 24 bits:
         * 0xd9bc91 ^ 0x0f = 0xd9bc9e. */
        const uint8_t want[6] = { 0x02, 0x76, 0x74, 0xd9, 0xbc, 0x9e };
        ck_assert_mem_eq(a, want, 6);
        /* Locally administered, individual (IEEE 802-2014 8.2.2). */
        ck_assert_uint_eq(a[0] & 1, 0);
        ck_assert_uint_eq(a[0] & 2, 2);
        /* The empty name: the FNV offset basis 0x811c9dc5 folded. */
        virtio_net_mac_from_name("", a);
        const uint8_t empty[6] = { 0x02, 0x76, 0x74, 0x1c, 0x9d, 0x44 };
        ck_assert_mem_eq(a, empty, 6);
        virtio_net_mac_from_name(NULL, b);
        ck_assert_mem_eq(a, b, 6);
}
END_TEST

/* Names that differ a little get different addresses, and every one is a
 * locally administered unicast address under 02:76:74. */
START_TEST(mac_from_name_spread)
{
        static uint8_t macs[1000][6];
        char name[16];
        for (int i = 0; i < 1000; i++) {
                snprintf(name, sizeof(name), "vm%d", i);
                virtio_net_mac_from_name(name, macs[i]);
                ck_assert_uint_eq(macs[i][0], 0x02);
                ck_assert_uint_eq(macs[i][1], 0x76);
                ck_assert_uint_eq(macs[i][2], 0x74);
        }
        unsigned same = 0;
        for (int i = 0; i < 1000; i++)
                for (int j = i + 1; j < 1000; j++)
                        same += memcmp(macs[i], macs[j], 6) == 0;
        /* 1000 names in 2^24 addresses: a collision is unlikely (p ~ 3%);
         * for these names there is none. */
        ck_assert_uint_eq(same, 0);
        const char *names[] = { "a", "b", "ab", "ba", "vm1", "vm10", "web", "Web" };
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                for (size_t j = i + 1; j < ARRAY_SIZE(names); j++) {
                        uint8_t x[6], y[6];
                        virtio_net_mac_from_name(names[i], x);
                        virtio_net_mac_from_name(names[j], y);
                        ck_assert(memcmp(x, y, 6) != 0);
                }
        }
}
END_TEST

static void setup(void)
{
        chain_init(&tx);
        chain_init(&rx);
}

static void teardown(void)
{
        chain_free(&tx);
        chain_free(&rx);
}

int main(void)
{
        Suite *s = suite_create("virtio_net");
        TCase *cfg = tcase_create("config");
        tcase_add_test(cfg, init_config);
        tcase_add_test(cfg, mac_from_name);
        tcase_add_test(cfg, mac_from_name_spread);
        suite_add_tcase(s, cfg);
        TCase *txc = tcase_create("tx");
        tcase_add_checked_fixture(txc, setup, teardown);
        tcase_add_test(txc, tx_frame_parses_split_header);
        tcase_add_test(txc, tx_frame_any_split);
        tcase_add_test(txc, tx_frame_lengths);
        tcase_add_test(txc, tx_frame_gso_and_flags);
        tcase_add_test(txc, tx_frame_checksum_field_bounds);
        suite_add_tcase(s, txc);
        TCase *dl = tcase_create("deliver");
        tcase_add_checked_fixture(dl, setup, teardown);
        tcase_set_timeout(dl, 60);
        tcase_add_test(dl, deliver_plain_frame);
        tcase_add_test(dl, deliver_fresh_header);
        tcase_add_test(dl, deliver_passes_needs_csum_on);
        tcase_add_test(dl, checks_of_the_test_packets);
        tcase_add_test(dl, checksum_completed_udp);
        tcase_add_test(dl, checksum_completed_tcp);
        tcase_add_test(dl, checksum_completed_odd_segments);
        tcase_add_test(dl, checksum_zero_sent_as_ones);
        tcase_add_test(dl, checksum_random_frames);
        tcase_add_test(dl, rx_too_small);
        tcase_add_test(dl, deliver_rejects_inconsistent_frame);
        tcase_add_test(dl, inconsistent_chains_leave_rx_untouched);
        tcase_add_test(dl, header_rewritten_after_parse);
        suite_add_tcase(s, dl);
        return unit_run_suite(s);
}
