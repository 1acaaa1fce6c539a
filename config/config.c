#include "config/config.h"
#include "lib/printf.h"
#include "lib/string.h"

const char *guest_type_name(enum guest_type t)
{
        switch (t) {
        case GUEST_AUTO:
                return "auto";
        case GUEST_FLAT:
                return "flat";
        case GUEST_MULTIBOOT:
                return "multiboot";
        case GUEST_LINUX:
                return "linux";
        case GUEST_MULTIBOOT2:
                return "multiboot2";
        }
        return "?";
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t';
}

static bool key_is(const char *tok, size_t keylen, const char *key)
{
        return vtv_strlen(key) == keylen && vtv_strncmp(tok, key, keylen) == 0;
}

static bool valid_name(const char *s, size_t len)
{
        if (len == 0 || len >= VM_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.'))
                        return false;
        }
        return true;
}

bool config_parse_mac(const char *s, size_t len, uint8_t mac[6])
{
        if (len != 17)
                return false;
        for (unsigned i = 0; i < 6; i++) {
                int hi = vtv_digit_value(s[3 * i]), lo = vtv_digit_value(s[3 * i + 1]);
                if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
                        return false;
                mac[i] = (uint8_t)(hi << 4 | lo);
        }
        /* A group address cannot be a station's, nor can all zeroes. */
        if (mac[0] & 1)
                return false;
        for (unsigned i = 0; i < 6; i++)
                if (mac[i])
                        return true;
        return false;
}

const char *config_module_args(const char *modline)
{
        const char *p = modline;
        while (*p) {
                while (is_space(*p))
                        p++;
                const char *tok = p;
                while (*p && !is_space(*p))
                        p++;
                if (p - tok == 2 && tok[0] == '-' && tok[1] == '-') {
                        while (is_space(*p))
                                p++;
                        return p;
                }
        }
        return p;
}

/* Parses a decimal CPU number: digits only, no suffix or hex, since a
 * CPU list reads like Linux's cpulist format (e.g. 0-1,3). */
static bool parse_cpu_number(const char *s, size_t len, unsigned *out)
{
        unsigned v = 0;

        if (len == 0 || len > 9) /* 9 digits cannot overflow */
                return false;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        *out = v;
        return true;
}

/* cpus=LIST: comma-separated CPU numbers and ranges A-B (A <= B), each CPU
 * at most once.  Returns NULL or the message, in err. */
static const char *parse_cpus(const char *val, size_t vlen, uint64_t *mask, char *err,
                              size_t errlen)
{
        const char *p = val, *end = val + vlen;

        *mask = 0;
        for (;;) {
                const char *item = p;
                while (p < end && *p != ',')
                        p++;
                const char *dash = item;
                while (dash < p && *dash != '-')
                        dash++;
                unsigned lo, hi;
                bool ok = parse_cpu_number(item, (size_t)(dash - item), &lo);
                if (ok && dash < p)
                        ok = parse_cpu_number(dash + 1, (size_t)(p - dash - 1), &hi) && lo <= hi;
                else
                        hi = lo;
                if (!ok) {
                        vtv_snprintf(err, errlen,
                                     "cpus '%.*s' must list CPU numbers and ranges separated "
                                     "by commas (e.g. cpus=0-1,3)",
                                     (int)vlen, val);
                        return err;
                }
                if (hi > VM_CPU_MAX) {
                        vtv_snprintf(err, errlen,
                                     "cpus '%.*s': CPU %u is out of range (CPUs are numbered 0 "
                                     "to %d)",
                                     (int)vlen, val, hi, VM_CPU_MAX);
                        return err;
                }
                for (unsigned c = lo; c <= hi; c++) {
                        /* A CPU listed twice is most likely a typo for
                         * another one, so it is refused, not merged. */
                        if (*mask & BIT(c)) {
                                vtv_snprintf(err, errlen, "cpus '%.*s' lists CPU %u twice",
                                             (int)vlen, val, c);
                                return err;
                        }
                        *mask |= BIT(c);
                }
                if (p == end)
                        return NULL;
                p++; /* the comma; an empty item after it is refused above */
        }
}

const char *config_parse(struct vm_config *cfg, const char *modline, const char *default_name,
                         char *err, size_t errlen)
{
        vtv_memset(cfg, 0, sizeof(*cfg));
        vtv_strlcpy(cfg->name, default_name, sizeof(cfg->name));
        cfg->type = GUEST_AUTO;
        cfg->ram_size = VM_RAM_DEFAULT;
        cfg->vcpus = VM_VCPUS_DEFAULT;
        cfg->autostart = true;
        cfg->kernel_module = cfg->initrd_module = cfg->disk_module = -1;

        const char *p = modline;
        bool first = true;
        while (*p) {
                while (is_space(*p))
                        p++;
                if (!*p)
                        break;
                const char *tok = p;
                while (*p && !is_space(*p))
                        p++;
                size_t len = (size_t)(p - tok);

                if (len == 2 && tok[0] == '-' && tok[1] == '-') {
                        while (is_space(*p))
                                p++;
                        if (vtv_strlcpy(cfg->cmdline, p, sizeof(cfg->cmdline)) >=
                            sizeof(cfg->cmdline)) {
                                vtv_snprintf(err, errlen,
                                             "the guest command line is longer than %d bytes",
                                             VM_CMDLINE_MAX - 1);
                                return err;
                        }
                        break;
                }
                const char *eq = tok;
                while (eq < p && *eq != '=')
                        eq++;
                if (eq == p) {
                        /* Boot loaders may pass the module's file name first. */
                        if (first) {
                                first = false;
                                continue;
                        }
                        vtv_snprintf(err, errlen, "'%.*s' is not an option (expected key=value)",
                                     (int)len, tok);
                        return err;
                }
                first = false;
                size_t klen = (size_t)(eq - tok);
                const char *val = eq + 1;
                size_t vlen = (size_t)(p - val);

                if (key_is(tok, klen, "name")) {
                        if (!valid_name(val, vlen)) {
                                vtv_snprintf(err, errlen,
                                             "name '%.*s' must be 1-%d letters, digits, '-', '_' "
                                             "or '.'",
                                             (int)vlen, val, VM_NAME_MAX - 1);
                                return err;
                        }
                        vtv_memcpy(cfg->name, val, vlen);
                        cfg->name[vlen] = '\0';
                } else if (key_is(tok, klen, "type")) {
                        if (vlen == 4 && !vtv_strncmp(val, "flat", 4))
                                cfg->type = GUEST_FLAT;
                        else if (vlen == 9 && !vtv_strncmp(val, "multiboot", 9))
                                cfg->type = GUEST_MULTIBOOT;
                        else if (vlen == 10 && !vtv_strncmp(val, "multiboot2", 10))
                                cfg->type = GUEST_MULTIBOOT2;
                        else if (vlen == 5 && !vtv_strncmp(val, "linux", 5))
                                cfg->type = GUEST_LINUX;
                        else {
                                vtv_snprintf(err, errlen,
                                             "type '%.*s' is unknown (use flat, multiboot, "
                                             "multiboot2 or linux)",
                                             (int)vlen, val);
                                return err;
                        }
                } else if (key_is(tok, klen, "ram")) {
                        uint64_t v;
                        if (!vtv_parse_u64(val, vlen, &v) || v < VM_RAM_MIN || v > VM_RAM_MAX ||
                            !IS_ALIGNED(v, MiB(1))) {
                                vtv_snprintf(err, errlen,
                                             "ram '%.*s' must be a whole number of MiB between "
                                             "2M and 4G (e.g. ram=64M)",
                                             (int)vlen, val);
                                return err;
                        }
                        cfg->ram_size = v;
                        cfg->ram_given = true;
                } else if (key_is(tok, klen, "vcpus")) {
                        uint64_t v;
                        if (!vtv_parse_u64(val, vlen, &v) || v < 1 || v > VM_VCPUS_MAX) {
                                vtv_snprintf(err, errlen,
                                             "vcpus '%.*s' must be a number from 1 to %d "
                                             "(e.g. vcpus=2)",
                                             (int)vlen, val, VM_VCPUS_MAX);
                                return err;
                        }
                        cfg->vcpus = (unsigned)v;
                } else if (key_is(tok, klen, "cpus")) {
                        if (parse_cpus(val, vlen, &cfg->cpu_mask, err, errlen))
                                return err;
                        cfg->cpus_given = true;
                } else if (key_is(tok, klen, "initrd-for") || key_is(tok, klen, "disk-for") ||
                           key_is(tok, klen, "module-for")) {
                        /* A module that belongs to the VM it names. */
                        char *dst = tok[0] == 'i'   ? cfg->initrd_for
                                    : tok[0] == 'd' ? cfg->disk_for
                                                    : cfg->module_for;
                        if (!valid_name(val, vlen)) {
                                vtv_snprintf(err, errlen, "%.*s '%.*s' is not a VM name", (int)klen,
                                             tok, (int)vlen, val);
                                return err;
                        }
                        vtv_memcpy(dst, val, vlen);
                        dst[vlen] = '\0';
                } else if (key_is(tok, klen, "readonly")) {
                        if (vlen == 3 && !vtv_strncmp(val, "yes", 3))
                                cfg->disk_readonly = true;
                        else if (vlen == 2 && !vtv_strncmp(val, "no", 2))
                                cfg->disk_readonly = false;
                        else {
                                vtv_snprintf(err, errlen,
                                             "readonly '%.*s' is unknown (use yes or no)",
                                             (int)vlen, val);
                                return err;
                        }
                } else if (key_is(tok, klen, "network")) {
                        if (!valid_name(val, vlen)) {
                                vtv_snprintf(err, errlen,
                                             "network '%.*s' must be 1-%d letters, digits, '-', "
                                             "'_' or '.'",
                                             (int)vlen, val, VM_NAME_MAX - 1);
                                return err;
                        }
                        vtv_memcpy(cfg->network, val, vlen);
                        cfg->network[vlen] = '\0';
                } else if (key_is(tok, klen, "mac")) {
                        if (!config_parse_mac(val, vlen, cfg->mac)) {
                                vtv_snprintf(err, errlen,
                                             "mac '%.*s' must be six hex bytes with colons, "
                                             "unicast (e.g. mac=02:00:00:00:00:01)",
                                             (int)vlen, val);
                                return err;
                        }
                        cfg->mac_given = true;
                } else if (key_is(tok, klen, "on-reset")) {
                        if (vlen == 7 && !vtv_strncmp(val, "restart", 7))
                                cfg->on_reset = RESET_RESTART;
                        else if (vlen == 4 && !vtv_strncmp(val, "stop", 4))
                                cfg->on_reset = RESET_STOP;
                        else {
                                vtv_snprintf(err, errlen,
                                             "on-reset '%.*s' is unknown (use restart or stop)",
                                             (int)vlen, val);
                                return err;
                        }
                } else if (key_is(tok, klen, "unmapped")) {
                        if (vlen == 4 && !vtv_strncmp(val, "ones", 4))
                                cfg->unmapped_stop = false;
                        else if (vlen == 4 && !vtv_strncmp(val, "stop", 4))
                                cfg->unmapped_stop = true;
                        else {
                                vtv_snprintf(err, errlen,
                                             "unmapped '%.*s' is unknown (use ones or stop)",
                                             (int)vlen, val);
                                return err;
                        }
                } else if (key_is(tok, klen, "selftest")) {
                        if (vlen == 15 && !vtv_strncmp(val, "bad-guest-state", 15))
                                cfg->selftest = SELFTEST_BAD_GUEST_STATE;
                        else if (vlen == 11 && !vtv_strncmp(val, "bad-control", 11))
                                cfg->selftest = SELFTEST_BAD_CONTROL;
                        else if (vlen == 9 && !vtv_strncmp(val, "cr3-exits", 9))
                                cfg->selftest = SELFTEST_CR3_EXITS;
                        else {
                                vtv_snprintf(err, errlen,
                                             "selftest '%.*s' is unknown (use bad-guest-state, "
                                             "bad-control or cr3-exits)",
                                             (int)vlen, val);
                                return err;
                        }
                } else {
                        vtv_snprintf(err, errlen,
                                     "unknown option '%.*s' (known: name, type, ram, vcpus, cpus, "
                                     "on-reset, unmapped, network, mac, initrd-for, disk-for, "
                                     "module-for, readonly, selftest, "
                                     "and -- before the guest command line)",
                                     (int)klen, tok);
                        return err;
                }
        }
        return NULL;
}
