#include "devices/virtio/vswitch.h"
#include "lib/string.h"

/* Bit 0 of the first octet: an individual (0) or group (1) address, IEEE
 * 802-2014 8.2.2. */
static bool is_group(const uint8_t mac[6])
{
        return mac[0] & 1;
}

static bool is_zero(const uint8_t mac[6])
{
        return !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

static bool valid_port(int port)
{
        return port >= 0 && port < VSWITCH_MAX_PORTS;
}

void vswitch_init(struct vswitch_table *t)
{
        vtv_memset(t, 0, sizeof(*t));
        for (unsigned i = 0; i < VSWITCH_ENTRIES; i++)
                t->e[i].port = -1;
}

/* Every frame looks its destination up in all VSWITCH_ENTRIES entries:
 * one test per entry, not a byte loop with a branch per byte. */
static bool same_mac(const uint8_t a[6], const uint8_t b[6])
{
        return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) |
                (a[5] ^ b[5])) == 0;
}

static int find(const struct vswitch_table *t, const uint8_t mac[6])
{
        for (int i = 0; i < VSWITCH_ENTRIES; i++)
                if (t->e[i].port >= 0 && same_mac(t->e[i].mac, mac))
                        return i;
        return -1;
}

void vswitch_learn(struct vswitch_table *t, const uint8_t src[6], int port, uint64_t now)
{
        /* A group address is never a frame's source (802.1D 7.8: only
         * individual source addresses are learnt), and the all-zero one
         * names no station; Linux's bridge drops frames from either. */
        if (is_group(src) || is_zero(src) || !valid_port(port))
                return;
        int i = find(t, src);
        if (i < 0) {
                /* A free entry, else the one seen longest ago (the first of
                 * equals), as ageing would have removed it first. */
                i = 0;
                for (int k = 0; k < VSWITCH_ENTRIES; k++) {
                        if (t->e[k].port < 0) {
                                i = k;
                                break;
                        }
                        if (t->e[k].seen < t->e[i].seen)
                                i = k;
                }
                vtv_memcpy(t->e[i].mac, src, 6);
        }
        /* A known station may have moved: the newest port wins. */
        t->e[i].port = (int8_t)port;
        t->e[i].seen = now;
}

int vswitch_lookup(const struct vswitch_table *t, const uint8_t dst[6])
{
        if (is_group(dst))
                return VSWITCH_FLOOD;
        int i = find(t, dst);
        return i < 0 ? VSWITCH_FLOOD : t->e[i].port;
}

void vswitch_forget_port(struct vswitch_table *t, int port)
{
        for (unsigned i = 0; i < VSWITCH_ENTRIES; i++) {
                if (t->e[i].port >= 0 && t->e[i].port == port) {
                        vtv_memset(&t->e[i], 0, sizeof(t->e[i]));
                        t->e[i].port = -1;
                }
        }
}
