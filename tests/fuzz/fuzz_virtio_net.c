/* libFuzzer target for devices/virtio/virtio_net.c and vswitch.c: one frame
 * from a random transmit chain into a random receive chain, then a run of
 * switch-table operations.
 *
 * Input:
 *
 *   u8   flags: bit 0 the receiver negotiated GUEST_CSUM; bit 1 make the
 *        header's NEEDS_CSUM fields point inside the frame (the next two
 *        u16s, taken modulo the frame); bit 2 clear gso_type; bit 3 cut
 *        the chains into small pieces (sizes modulo 4, so empty segments
 *        too); bit 4 the chains' read_len and write_len lie (two s16
 *        deltas follow the splits); bit 5 rx starts with readable segments
 *        (u8 length over 3, then count and sizes as below, before rx's
 *        writable part); bit 6 tx ends with a stray writable segment; bit 7
 *        shifts the forged frame descriptions' fields
 *   12   the struct virtio_net_hdr as the sender wrote it
 *   u16  the frame length, modulo 1601 (a little past VIRTIO_NET_MAX_FRAME)
 *   ...  the frame (zeros once the input runs out)
 *   u8   tx segment count (modulo VQ_MAX_SEGS), then one u8 size each; what
 *        is left over goes in one more segment
 *   u16  rx writable length: bit 15 set, the tx chain's length plus the
 *        low byte as a signed number over 16 (-8..7); else modulo 1700;
 *        then u8 count, u8 sizes, likewise
 *   then switch records to the end: u8 op, u8 port (as a signed byte, so
 *   invalid ports come up), u8 address (bit 7 clear: one of a few fixed
 *   addresses, else six raw bytes follow), u8 clock step
 *
 * Every segment is its own heap block of exactly its length, so ASan
 * catches any access outside one.
 *
 * Checked: virtio_net_tx_frame accepts exactly the frames virtio_net.h
 * describes (header present, 14..1514 bytes, no GSO, a NEEDS_CSUM field
 * inside the frame), with the right length and addresses; virtio_net_deliver
 * returns 0 or header plus frame, never more than rx's writable length, 0
 * exactly when that does not fit, and then writes nothing; the tx chain and
 * rx's readable segments are never written; rx gets a fresh header
 * (NEEDS_CSUM passed on only with GUEST_CSUM, num_buffers 1) and the frame,
 * byte for byte but for a completed checksum, which equals the flat
 * computation, is never 0 and, for a field at an even distance from
 * csum_start (every real protocol's), verifies when recomputed with the
 * sender's pseudo-header sum.  The switch table agrees with a simple model
 * (learn, lookup, replacement of the entry seen longest ago, forget_port);
 * never holds an address twice, a group or zero address or a bad port. */
#include "tests/fuzz/fuzz.h"

#include "devices/virtio/virtio_net.h"
#include "devices/virtio/vswitch.h"

#define FILL    0xee
#define MAX_LEN 1600
#define RX_MAX  1700
#define HDR     VIRTIO_NET_HDR_LEN

static struct vq_chain tx, rx;
static uint8_t frame[MAX_LEN], txflat[HDR + MAX_LEN], rxflat[RX_MAX + 256 * 4];
static uint8_t rxread_flat[256 * 4];

static void chain_add(struct vq_chain *c, const uint8_t *data, uint32_t len, bool write)
{
        CHECK(c->nseg < VQ_MAX_SEGS);
        uint8_t *p = malloc(len ? len : 1);
        CHECK(p);
        if (data)
                memcpy(p, data, len);
        else
                memset(p, FILL, len);
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

static void chain_free(struct vq_chain *c)
{
        for (unsigned i = 0; i < c->nseg; i++)
                free(c->seg[i].ptr);
        memset(c, 0, sizeof(*c));
}

/* Appends len bytes cut as the input says, leaving room for `keep` more
 * segments after these. */
static void add_split(struct fuzz_in *in, struct vq_chain *c, const uint8_t *data, size_t len,
                      bool write, bool small, unsigned keep)
{
        unsigned count = in_u8(in) % VQ_MAX_SEGS;
        size_t off = 0;
        for (unsigned i = 0; i < count && c->nseg + 1 + keep < VQ_MAX_SEGS; i++) {
                uint32_t sz = in_u8(in);
                if (small)
                        sz %= 4;
                if (sz > len - off)
                        sz = (uint32_t)(len - off);
                chain_add(c, data ? data + off : NULL, sz, write);
                off += sz;
        }
        if (off < len)
                chain_add(c, data ? data + off : NULL, (uint32_t)(len - off), write);
}

/* The segments [from, to) concatenated. */
static size_t gather(const struct vq_chain *c, unsigned from, unsigned to, uint8_t *out)
{
        size_t off = 0;
        for (unsigned i = from; i < to; i++) {
                memcpy(out + off, c->seg[i].ptr, c->seg[i].len);
                off += c->seg[i].len;
        }
        return off;
}

static uint64_t sum_be16(const uint8_t *p, size_t len)
{
        uint64_t s = 0;
        for (size_t i = 0; i + 1 < len; i += 2)
                s += (uint64_t)(p[i] << 8 | p[i + 1]);
        if (len & 1)
                s += (uint64_t)p[len - 1] << 8;
        return s;
}

static uint16_t fold16(uint64_t s)
{
        while (s >> 16)
                s = (s & 0xffff) + (s >> 16);
        return (uint16_t)s;
}

static uint16_t le16(const uint8_t *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}

/* --- the switch model ---------------------------------------------------- */

struct model_entry {
        uint8_t mac[6];
        int port;
        uint64_t seen;
};
static struct model_entry model[VSWITCH_ENTRIES];
static unsigned model_n;
static uint64_t clock_now;

/* The model and the table checks are harness code (FUZZ_HARNESS), and
 * compare addresses with mac_eq rather than memcmp, whose interceptors cost
 * more than the switch itself. */
static FUZZ_HARNESS bool mac_eq(const uint8_t *a, const uint8_t *b)
{
        for (unsigned i = 0; i < 6; i++)
                if (a[i] != b[i])
                        return false;
        return true;
}

static FUZZ_HARNESS bool mac_group(const uint8_t *m)
{
        return m[0] & 1;
}

static FUZZ_HARNESS bool mac_zero(const uint8_t *m)
{
        static const uint8_t z[6];
        return mac_eq(m, z);
}

static FUZZ_HARNESS int model_find(const uint8_t *m)
{
        for (unsigned i = 0; i < model_n; i++)
                if (mac_eq(model[i].mac, m))
                        return (int)i;
        return -1;
}

static FUZZ_HARNESS void model_learn(const uint8_t *m, int port, uint64_t now)
{
        if (mac_group(m) || mac_zero(m) || port < 0 || port >= VSWITCH_MAX_PORTS)
                return;
        int i = model_find(m);
        if (i < 0) {
                if (model_n < VSWITCH_ENTRIES) {
                        i = (int)model_n++;
                } else {
                        /* Clocks only go forward here: the oldest is unique. */
                        i = 0;
                        for (unsigned k = 1; k < model_n; k++)
                                if (model[k].seen < model[i].seen)
                                        i = (int)k;
                }
                memcpy(model[i].mac, m, 6);
        }
        model[i].port = port;
        model[i].seen = now;
}

static FUZZ_HARNESS int model_lookup(const uint8_t *m)
{
        if (mac_group(m))
                return VSWITCH_FLOOD;
        int i = model_find(m);
        return i < 0 ? VSWITCH_FLOOD : model[i].port;
}

static FUZZ_HARNESS void model_forget(int port)
{
        for (unsigned i = 0; i < model_n;) {
                if (model[i].port == port)
                        model[i] = model[--model_n];
                else
                        i++;
        }
}

static FUZZ_HARNESS void check_table(const struct vswitch_table *t)
{
        unsigned used = 0;
        for (unsigned i = 0; i < VSWITCH_ENTRIES; i++) {
                const struct vswitch_entry *e = &t->e[i];
                if (e->port < 0) {
                        CHECK(e->port == -1);
                        continue;
                }
                used++;
                CHECK(e->port < VSWITCH_MAX_PORTS);
                CHECK(!mac_group(e->mac) && !mac_zero(e->mac));
                for (unsigned j = i + 1; j < VSWITCH_ENTRIES; j++)
                        CHECK(t->e[j].port < 0 || !mac_eq(t->e[j].mac, e->mac));
                int m = model_find(e->mac);
                CHECK(m >= 0);
                CHECK(model[m].port == e->port);
                CHECK(model[m].seen == e->seen);
        }
        CHECK(used == model_n);
}

static FUZZ_HARNESS void check_lookup(const struct vswitch_table *t, const uint8_t *m)
{
        int got = vswitch_lookup(t, m);
        CHECK(got == model_lookup(m));
        CHECK(got == VSWITCH_FLOOD || (got >= 0 && got < VSWITCH_MAX_PORTS));
        if (mac_group(m))
                CHECK(got == VSWITCH_FLOOD);
}

static FUZZ_HARNESS void do_learn(struct vswitch_table *t, const uint8_t *m, int port,
                                  unsigned step)
{
        clock_now += 1 + step;
        vswitch_learn(t, m, port, clock_now);
        model_learn(m, port, clock_now);
        if (!mac_group(m) && !mac_zero(m) && port >= 0 && port < VSWITCH_MAX_PORTS)
                CHECK(vswitch_lookup(t, m) == port);
}

static void fuzz_switch(struct fuzz_in *in, const struct virtio_net_frame *f, bool have_frame)
{
        static const uint8_t pool[8][6] = {
                { 0x02, 0x76, 0x74, 0x00, 0x00, 0x01 }, { 0x02, 0x76, 0x74, 0x00, 0x00, 0x02 },
                { 0x02, 0x76, 0x74, 0x00, 0x00, 0x03 }, { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
                { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
                { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, { 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 },
        };
        static struct vswitch_table t;
        vswitch_init(&t);
        model_n = 0;
        clock_now = 0;
        check_table(&t);

        /* The frame as the caller would switch it: learn the source on
         * its port, look the destination up. */
        if (have_frame) {
                do_learn(&t, f->src, 0, 0);
                check_lookup(&t, f->dst);
        }

        for (unsigned ops = 0; !in_empty(in) && ops < 128; ops++) {
                uint8_t op = in_u8(in);
                int port = (int8_t)in_u8(in);
                uint8_t a = in_u8(in);
                uint8_t raw[6];
                const uint8_t *m;
                if (a & 0x80) {
                        for (unsigned i = 0; i < 6; i++)
                                raw[i] = in_u8(in);
                        m = raw;
                } else if (a & 0x40) {
                        /* Many distinct stations, to fill the table. */
                        raw[0] = 0x02;
                        raw[1] = raw[2] = raw[3] = 0;
                        raw[4] = (uint8_t)(a >> 3 & 7);
                        raw[5] = (uint8_t)(a & 0x3f) ^ (uint8_t)op;
                        m = raw;
                } else {
                        m = pool[a & 7];
                }
                unsigned step = in_u8(in);
                switch (op & 3) {
                case 0:
                        do_learn(&t, m, port, step);
                        break;
                case 1:
                        check_lookup(&t, m);
                        break;
                case 2:
                        vswitch_forget_port(&t, port);
                        model_forget(port);
                        for (unsigned i = 0; i < VSWITCH_ENTRIES; i++)
                                CHECK(t.e[i].port < 0 || t.e[i].port != port);
                        break;
                default:
                        /* Learn many at once: a station per port. */
                        for (int p = 0; p < VSWITCH_MAX_PORTS; p++) {
                                uint8_t s[6] = { 0x02,          0x11, (uint8_t)op,
                                                 (uint8_t)step, 0,    (uint8_t)p };
                                do_learn(&t, s, (p + port) & 15, 0);
                        }
                        break;
                }
                /* The whole table now and then (it costs a few thousand
                 * comparisons), the address just used every time. */
                check_lookup(&t, m);
                if (ops % 16 == 15)
                        check_table(&t);
        }
        check_table(&t);
}

/* --- the frame ----------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = fuzz_in(data, size);
        uint8_t flags = in_u8(&in);
        bool guest_csum = flags & 1, small = flags & 8, lie = flags & 16;
        uint8_t hdr[HDR];
        for (unsigned i = 0; i < HDR; i++)
                hdr[i] = in_u8(&in);
        size_t len = in_u16(&in) % (MAX_LEN + 1);
        for (size_t i = 0; i < len; i++)
                frame[i] = in_u8(&in);
        if ((flags & 2) && len >= 2) {
                uint16_t start = (uint16_t)(in_u16(&in) % (len - 1));
                uint16_t off = (uint16_t)(in_u16(&in) % (len - 1 - start));
                hdr[0] |= VIRTIO_NET_HDR_F_NEEDS_CSUM;
                hdr[6] = (uint8_t)start;
                hdr[7] = (uint8_t)(start >> 8);
                hdr[8] = (uint8_t)off;
                hdr[9] = (uint8_t)(off >> 8);
        }
        if (flags & 4)
                hdr[1] = VIRTIO_NET_HDR_GSO_NONE;
        memcpy(txflat, hdr, HDR);
        memcpy(txflat + HDR, frame, len);
        size_t txlen = HDR + len;

        chain_free(&tx);
        chain_free(&rx);
        add_split(&in, &tx, txflat, txlen, false, small, (flags & 64) ? 1 : 0);
        /* Sometimes a stray writable segment after the readable ones. */
        if (flags & 64)
                chain_add(&tx, NULL, 16, true);

        size_t rxreadlen = 0;
        if (flags & 32) {
                rxreadlen = in_u8(&in) * 3u;
                add_split(&in, &rx, NULL, rxreadlen, false, small, 8);
        }
        /* Near the frame's own length half the time, where off-by-ones
         * live. */
        uint16_t rv = in_u16(&in);
        size_t rxlen = rv % RX_MAX;
        if (rv & 0x8000) {
                int64_t near = (int64_t)txlen + (int8_t)rv / 16;
                rxlen = near < 0 ? 0 : near >= RX_MAX ? RX_MAX - 1 : (size_t)near;
        }
        unsigned rx_first = rx.nseg;
        add_split(&in, &rx, NULL, rxlen, true, small, 0);
        CHECK(rx.write_len == rxlen);

        /* What the segments really hold, and what the chains may claim. */
        uint64_t tx_have = tx.read_len, rx_have = rx.write_len;
        if (lie) {
                int16_t dt = (int16_t)in_u16(&in), dr = (int16_t)in_u16(&in);
                tx.read_len =
                    (uint64_t)((int64_t)tx.read_len + dt < 0 ? 0 : (int64_t)tx.read_len + dt);
                rx.write_len =
                    (uint64_t)((int64_t)rx.write_len + dr < 0 ? 0 : (int64_t)rx.write_len + dr);
        }
        uint64_t tx_eff = tx.read_len < tx_have ? tx.read_len : tx_have;
        uint64_t rx_eff = rx.write_len < rx_have ? rx.write_len : rx_have;

        /* --- virtio_net_tx_frame against the header's rules --- */
        struct virtio_net_frame f;
        const char *why = "unset";
        bool ok = virtio_net_tx_frame(&tx, &f, &why);
        bool want = tx_eff >= HDR;
        uint64_t flen = want ? tx_eff - HDR : 0;
        want = want && flen >= 14 && flen <= VIRTIO_NET_MAX_FRAME && hdr[1] == 0;
        bool needs = hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM;
        uint16_t cs = le16(hdr + 6), co = le16(hdr + 8);
        if (needs && (uint64_t)cs + co + 2 > flen)
                want = false;
        CHECK(ok == want);
        CHECK(ok ? why == NULL : why != NULL);

        uint8_t txcopy[HDR + MAX_LEN];
        CHECK(gather(&tx, 0, tx.nread, txcopy) == txlen);
        CHECK(memcmp(txcopy, txflat, txlen) == 0);

        if (ok) {
                CHECK(f.len == flen);
                CHECK(memcmp(f.dst, frame, 6) == 0);
                CHECK(memcmp(f.src, frame + 6, 6) == 0);
                CHECK(f.needs_csum == needs);
                if (needs) {
                        CHECK(f.csum_start == cs && f.csum_offset == co);
                } else {
                        CHECK(f.csum_start == 0 && f.csum_offset == 0);
                }

                /* --- virtio_net_deliver --- */
                uint64_t n = virtio_net_deliver(&tx, &f, &rx, guest_csum);
                uint64_t total = HDR + f.len;
                CHECK(n == 0 || n == total);
                CHECK(n <= rx_eff);
                CHECK(n <= rx_have);
                CHECK((n == 0) == (rx_eff < total));

                /* Nothing read-only was written. */
                CHECK(gather(&tx, 0, tx.nread, txcopy) == txlen);
                CHECK(memcmp(txcopy, txflat, txlen) == 0);
                CHECK(gather(&rx, 0, rx_first, rxread_flat) == rxreadlen);
                for (size_t i = 0; i < rxreadlen; i++)
                        CHECK(rxread_flat[i] == FILL);

                CHECK(gather(&rx, rx_first, rx.nseg, rxflat) == rxlen);
                for (size_t i = n; i < rxlen; i++)
                        CHECK(rxflat[i] == FILL);
                if (n) {
                        const uint8_t *h = rxflat, *out = rxflat + HDR;
                        bool pass_on = needs && guest_csum;
                        CHECK(h[0] == (pass_on ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0));
                        CHECK(h[1] == VIRTIO_NET_HDR_GSO_NONE);
                        CHECK(le16(h + 2) == 0 && le16(h + 4) == 0);
                        CHECK(le16(h + 6) == (pass_on ? cs : 0));
                        CHECK(le16(h + 8) == (pass_on ? co : 0));
                        CHECK(le16(h + 10) == 1);
                        if (!needs || pass_on) {
                                CHECK(memcmp(out, frame, f.len) == 0);
                        } else {
                                size_t field = (size_t)cs + co;
                                CHECK(memcmp(out, frame, field) == 0);
                                CHECK(memcmp(out + field + 2, frame + field + 2,
                                             f.len - field - 2) == 0);
                                uint16_t c = (uint16_t)(out[field] << 8 | out[field + 1]);
                                uint16_t ref = (uint16_t)~fold16(sum_be16(frame + cs, f.len - cs));
                                CHECK(c == (ref ? ref : 0xffff));
                                CHECK(c != 0);
                                /* The receiver's check: the sender's field
                                 * held the pseudo-header sum P; summed with
                                 * P, the segment as received is all ones. */
                                if (co % 2 == 0) {
                                        uint16_t p =
                                            (uint16_t)(frame[field] << 8 | frame[field + 1]);
                                        CHECK(fold16(sum_be16(out + cs, f.len - cs) + p) == 0xffff);
                                }
                        }
                } else {
                        for (size_t i = 0; i < rxlen; i++)
                                CHECK(rxflat[i] == FILL);
                }

                /* A forged description of the same chain cannot reach
                 * outside it, and is refused before anything is written. */
                struct virtio_net_frame bad = f;
                bad.len = f.len + 1 + (flags >> 7) * 64;
                CHECK(virtio_net_deliver(&tx, &bad, &rx, guest_csum) == 0);
                bad = f;
                bad.needs_csum = true;
                bad.csum_start = (uint16_t)(f.len - 1 - (flags >> 7));
                bad.csum_offset = (uint16_t)(flags >> 7);
                CHECK(virtio_net_deliver(&tx, &bad, &rx, guest_csum) == 0);
                bad.csum_start = 0;
                bad.csum_offset = 0xffff;
                CHECK(virtio_net_deliver(&tx, &bad, &rx, guest_csum) == 0);
                static uint8_t again[RX_MAX];
                CHECK(gather(&rx, rx_first, rx.nseg, again) == rxlen);
                CHECK(memcmp(again, rxflat, rxlen) == 0);
        }

        fuzz_switch(&in, &f, ok);
        chain_free(&tx);
        chain_free(&rx);
        return 0;
}
