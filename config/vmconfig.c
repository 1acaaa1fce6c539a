/* The configuration file's schema (config/vmconfig.h, docs/configuration.md). */
#include "config/vmconfig.h"
#include "lib/printf.h"
#include "lib/string.h"

#define SHOW_MAX 40 /* bytes of a bad value quoted in a message */

struct ctx {
        struct vmconfig *out;
        const struct toml_doc *doc;
        const char *file;
        const struct vmconfig_machine *m;
        vmconfig_report_fn report;
        void *rctx;
        unsigned ncpus; /* the machine's, cut by maxcpus */
        /* The VM being checked: its name for messages, whether it has an error. */
        char vm[VM_NAME_MAX + 8];
        bool bad;
};

__attribute__((format(printf, 5, 6))) static void report(struct ctx *c, uint32_t line, uint32_t col,
                                                         bool in_vm, const char *fmt, ...)
{
        char msg[VMCONFIG_MSG_MAX];
        size_t n =
            vtv_snprintf(msg, sizeof(msg), "%s:%u:%u: %s", c->file, line, col, in_vm ? c->vm : "");
        if (n < sizeof(msg)) {
                va_list ap;
                va_start(ap, fmt);
                vtv_vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
                va_end(ap);
        }
        /* Values quoted from the file may hold escaped control characters:
         * the message stays one printable line. */
        for (char *m = msg; *m; m++) {
                if ((unsigned char)*m < 0x20 || *m == 0x7f)
                        *m = '?';
        }
        c->out->errors++;
        if (in_vm)
                c->bad = true;
        if (c->report)
                c->report(c->rctx, msg);
}

/* ------------------------------------------------------------------ sizes */

void vmconfig_format_size(uint64_t bytes, char *buf, size_t size)
{
        if (bytes && IS_ALIGNED(bytes, GiB(1)))
                vtv_snprintf(buf, size, "%lluG", (unsigned long long)(bytes >> 30));
        else if (bytes && IS_ALIGNED(bytes, MiB(1)))
                vtv_snprintf(buf, size, "%lluM", (unsigned long long)(bytes >> 20));
        else if (bytes && IS_ALIGNED(bytes, KiB(1)))
                vtv_snprintf(buf, size, "%lluK", (unsigned long long)(bytes >> 10));
        else
                vtv_snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
}

/* ---------------------------------------------------------------- modules */

const char *vmconfig_module_name(const char *module, size_t *len)
{
        const char *p = module;
        while (*p == ' ' || *p == '\t')
                p++;
        const char *end = p;
        while (*end && *end != ' ' && *end != '\t')
                end++;
        const char *base = p;
        for (const char *q = p; q < end; q++) {
                if (*q == '/')
                        base = q + 1;
        }
        *len = (size_t)(end - base);
        return base;
}

static int find_module(const struct vmconfig_machine *m, const char *name, size_t len)
{
        for (size_t i = 0; i < m->nmodules; i++) {
                size_t ml;
                const char *mn = vmconfig_module_name(m->modules[i], &ml);
                if (ml == len && !vtv_memcmp(mn, name, len))
                        return (int)i;
        }
        return -1;
}

/* "vmlinuz, initramfs.cpio.gz" or "none were given". */
static void module_list(const struct vmconfig_machine *m, char *buf, size_t size)
{
        size_t n = 0;
        buf[0] = '\0';
        if (!m->nmodules) {
                vtv_snprintf(buf, size, "none were given");
                return;
        }
        for (size_t i = 0; i < m->nmodules && n < size; i++) {
                size_t ml;
                const char *mn = vmconfig_module_name(m->modules[i], &ml);
                n += vtv_snprintf(buf + n, size - n, "%s%.*s", i ? ", " : "", (int)ml, mn);
        }
}

/* ---------------------------------------------------------------- helpers */

static bool valid_name(const char *s, size_t len)
{
        if (len == 0 || len >= VM_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
                        return false;
        }
        return true;
}

static bool str_is(const char *s, size_t len, const char *word)
{
        return vtv_strlen(word) == len && !vtv_memcmp(s, word, len);
}

static int shown(size_t len)
{
        return len > SHOW_MAX ? SHOW_MAX : (int)len;
}

/* The boot module a `what` = "NAME" (kernel, initrd, disk, modules) names,
 * or -1, said at n, when no boot module has that name. */
static int named_module(struct ctx *c, const struct toml_node *n, const char *what, const char *s,
                        size_t len)
{
        int idx = len ? find_module(c->m, s, len) : -1;
        if (idx < 0) {
                char list[240];
                module_list(c->m, list, sizeof(list));
                report(c, n->line, n->col, true,
                       "%s \"%.*s\" is not a boot module (the boot modules: %s); load it as a "
                       "module or correct the name",
                       what, shown(len), s, list);
        }
        return idx;
}

/* Optimal string alignment distance (Levenshtein with transpositions), in
 * three rows; keys longer than 31 bytes are just far. */
static unsigned edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
        unsigned row[3][32]; /* i-2, i-1, i, by i % 3 */
        if (la > 31 || lb > 31)
                return 99;
        for (size_t j = 0; j <= lb; j++)
                row[0][j] = (unsigned)j;
        for (size_t i = 1; i <= la; i++) {
                unsigned *cur = row[i % 3], *up = row[(i - 1) % 3], *up2 = row[(i + 1) % 3];
                cur[0] = (unsigned)i;
                for (size_t j = 1; j <= lb; j++) {
                        unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        unsigned v = up[j] + 1;
                        v = MIN(v, cur[j - 1] + 1);
                        v = MIN(v, up[j - 1] + cost);
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                                v = MIN(v, up2[j - 2] + 1);
                        cur[j] = v;
                }
        }
        return row[la % 3][lb];
}

struct key_info {
        const char *key;
        const char *want; /* what the value must be */
        const char *example;
};

static const struct key_info top_keys[] = {
        { "console", "a string", "console = \"linux\"" },
        { "maxcpus", "an integer", "maxcpus = 2" },
        { "vm", "an array of tables", "[[vm]]" },
};

static const struct key_info vm_keys[] = {
        { "name", "a string", "name = \"web\"" },
        { "kernel", "a string", "kernel = \"vmlinuz\"" },
        { "initrd", "a string", "initrd = \"initramfs.cpio.gz\"" },
        { "type", "a string", "type = \"linux\"" },
        { "cmdline", "a string", "cmdline = \"console=ttyS0,115200\"" },
        { "memory", "a string with a unit or an integer of bytes", "memory = \"256M\"" },
        { "vcpus", "an integer", "vcpus = 2" },
        { "cpus", "an array of integers", "cpus = [0, 1]" },
        { "on_reboot", "a string", "on_reboot = \"restart\"" },
        { "on_poweroff", "a string", "on_poweroff = \"stop\"" },
        { "autostart", "a boolean", "autostart = true" },
        { "unmapped", "a string", "unmapped = \"stop\"" },
        { "disk", "a string", "disk = \"disk.img\"" },
        { "readonly", "a boolean", "readonly = true" },
        { "network", "a string", "network = \"lan\"" },
        { "mac", "a string", "mac = \"02:00:00:00:00:01\"" },
        { "modules", "an array of strings", "modules = [\"initrd.img\", \"data.bin\"]" },
};

static bool info_of(const struct key_info *keys, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++) {
                if (!vtv_strcmp(keys[i].key, key))
                        return true;
        }
        return false;
}

/* Other names for keys, from the module-line options and other tools. */
static const struct {
        const char *alias, *key;
} aliases[] = {
        { "ram", "memory" },         { "mem", "memory" },     { "on_reset", "on_reboot" },
        { "on-reset", "on_reboot" }, { "append", "cmdline" }, { "args", "cmdline" },
        { "initramfs", "initrd" },   { "image", "kernel" },   { "disk-for", "disk" },
        { "read_only", "readonly" }, { "switch", "network" }, { "mods", "modules" },
        { "module-for", "modules" },
};

static void unknown_key(struct ctx *c, const struct toml_node *n, const struct key_info *keys,
                        size_t nkeys, const char *where, bool in_vm)
{
        size_t len;
        const char *k = toml_key(c->doc, n, &len);
        unsigned best = 99;
        const char *near = NULL;
        for (size_t i = 0; i < nkeys; i++) {
                unsigned d = edit_distance(k, len, keys[i].key, vtv_strlen(keys[i].key));
                if (d < best) {
                        best = d;
                        near = keys[i].key;
                }
        }
        /* Close enough to be a typo: one edit in a short key, more in longer. */
        if (best > (len <= 4 ? 1u : len <= 8 ? 2u : 3u))
                near = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(aliases); i++) {
                if (str_is(k, len, aliases[i].alias) && info_of(keys, nkeys, aliases[i].key))
                        near = aliases[i].key;
        }
        if (near) {
                report(c, n->key_line, n->key_col, in_vm,
                       "unknown key '%.*s' in %s; did you mean '%s'?", shown(len), k, where, near);
                return;
        }
        char list[200];
        size_t used = 0;
        for (size_t i = 0; i < nkeys && used < sizeof(list); i++)
                used += vtv_snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                                     keys[i].key);
        report(c, n->key_line, n->key_col, in_vm, "unknown key '%.*s' in %s; the keys are: %s",
               shown(len), k, where, list);
}

/* Checks n's type; reports "KEY must be ..., not ...; e.g. EXAMPLE". */
static bool want_type(struct ctx *c, const struct toml_node *n, enum toml_type t,
                      const struct key_info *ki, bool in_vm)
{
        if (n->type == t)
                return true;
        report(c, n->line, n->col, in_vm, "%s must be %s, not %s; e.g. %s", ki->key, ki->want,
               toml_type_name_a((enum toml_type)n->type), ki->example);
        return false;
}

/* A string value that must be one of words (NULL-terminated list). */
static int want_word(struct ctx *c, const struct toml_node *n, const struct key_info *ki,
                     const char *const *words)
{
        if (!want_type(c, n, TOML_STRING, ki, true))
                return -1;
        size_t len;
        const char *s = toml_str(c->doc, n, &len);
        char list[120];
        size_t used = 0;
        int i;
        for (i = 0; words[i]; i++) {
                if (str_is(s, len, words[i]))
                        return i;
                used += vtv_snprintf(list + used, sizeof(list) - used, "%s\"%s\"",
                                     i == 0         ? ""
                                     : words[i + 1] ? ", "
                                                    : " or ",
                                     words[i]);
        }
        report(c, n->line, n->col, true, "%s \"%.*s\" is not known; use %s", ki->key, shown(len), s,
               list);
        return -1;
}

/* ----------------------------------------------------------------- memory */

static bool memory_value(struct ctx *c, const struct toml_node *n, const struct key_info *ki,
                         uint64_t *out)
{
        uint64_t v = 0;
        char shownv[SHOW_MAX + 16];

        if (n->type == TOML_STRING) {
                size_t len;
                const char *s = toml_str(c->doc, n, &len);
                vtv_snprintf(shownv, sizeof(shownv), "\"%.*s\"", shown(len), s);
                if (!vtv_parse_u64(s, len, &v)) {
                        report(c, n->line, n->col, true,
                               "memory %s is not a size; write a number with a unit K, M or G, "
                               "e.g. memory = \"512M\" or \"2G\"",
                               shownv);
                        return false;
                }
        } else if (n->type == TOML_INTEGER) {
                vtv_snprintf(shownv, sizeof(shownv), "%lld", (long long)n->v.integer);
                if (n->v.integer < 0) {
                        report(c, n->line, n->col, true,
                               "memory %s is negative; write a size, e.g. memory = \"512M\"",
                               shownv);
                        return false;
                }
                v = (uint64_t)n->v.integer;
        } else {
                want_type(c, n, TOML_STRING, ki, true);
                return false;
        }
        if (v < VM_RAM_MIN || v > VM_RAM_MAX || !IS_ALIGNED(v, MiB(1))) {
                report(c, n->line, n->col, true,
                       "memory %s is out of range; give a whole number of MiB from 2M to 4G, "
                       "e.g. memory = \"256M\"",
                       shownv);
                return false;
        }
        *out = v;
        return true;
}

/* ------------------------------------------------------------------- cpus */

static bool cpus_value(struct ctx *c, const struct toml_node *n, const struct key_info *ki,
                       uint64_t *mask)
{
        if (!want_type(c, n, TOML_ARRAY, ki, true))
                return false;
        bool ok = true;
        *mask = 0;
        if (!n->count) {
                report(c, n->line, n->col, true,
                       "cpus is empty; list the CPUs to pin to, e.g. cpus = [0, 1], or leave "
                       "cpus out to let vtvisor place the vCPUs");
                return false;
        }
        for (const struct toml_node *e = toml_first(c->doc, n); e; e = toml_next(c->doc, e)) {
                if (e->type != TOML_INTEGER) {
                        report(c, e->line, e->col, true,
                               "cpus must list CPU numbers (integers), not %s; e.g. cpus = "
                               "[0, 1]",
                               toml_type_name_a((enum toml_type)e->type));
                        ok = false;
                        continue;
                }
                int64_t v = e->v.integer;
                if (v < 0 || v >= (int64_t)c->ncpus) {
                        char range[24];
                        if (c->ncpus == 1)
                                vtv_snprintf(range, sizeof(range), "CPU 0");
                        else
                                vtv_snprintf(range, sizeof(range), "CPUs 0-%u", c->ncpus - 1);
                        if (c->out->maxcpus && c->out->maxcpus == c->ncpus &&
                            c->ncpus < c->m->ncpus)
                                report(c, e->line, e->col, true,
                                       "cpus names CPU %lld, but maxcpus = %u lets vtvisor use "
                                       "only %s; pin to %s or raise maxcpus",
                                       (long long)v, c->ncpus, range,
                                       c->ncpus == 1 ? "it" : "those");
                        else
                                report(c, e->line, e->col, true,
                                       "cpus names CPU %lld, but the machine has %u CPU%s "
                                       "(%s); pin to %s",
                                       (long long)v, c->ncpus, c->ncpus == 1 ? "" : "s", range,
                                       c->ncpus == 1 ? "it" : "one of those");
                        ok = false;
                        continue;
                }
                if (*mask & BIT(v)) {
                        report(c, e->line, e->col, true,
                               "cpus lists CPU %lld twice; list each CPU once", (long long)v);
                        ok = false;
                        continue;
                }
                *mask |= BIT(v);
        }
        return ok;
}

/* ---------------------------------------------------------------- modules */

/* modules = ["NAME", ...]: a multiboot guest's boot modules, in order. */
static void modules_value(struct ctx *c, const struct toml_node *n, const struct key_info *ki,
                          struct vm_config *cfg)
{
        if (!want_type(c, n, TOML_ARRAY, ki, true))
                return;
        if (n->count > VM_CONFIG_MODULES_MAX) {
                report(c, n->line, n->col, true,
                       "modules lists %u boot modules; a VM takes at most %d, so remove %u",
                       (unsigned)n->count, VM_CONFIG_MODULES_MAX,
                       (unsigned)n->count - VM_CONFIG_MODULES_MAX);
                return;
        }
        for (const struct toml_node *e = toml_first(c->doc, n); e; e = toml_next(c->doc, e)) {
                if (e->type != TOML_STRING) {
                        report(c, e->line, e->col, true,
                               "modules must list boot module names (strings), not %s; e.g. %s",
                               toml_type_name_a((enum toml_type)e->type), ki->example);
                        continue;
                }
                size_t len;
                const char *s = toml_str(c->doc, e, &len);
                int idx = named_module(c, e, "modules", s, len);
                if (idx < 0)
                        continue;
                bool twice = false;
                for (unsigned i = 0; i < cfg->nmodules; i++)
                        twice |= cfg->module_index[i] == idx;
                if (twice) {
                        report(c, e->line, e->col, true,
                               "modules lists \"%.*s\" twice; list each boot module once",
                               shown(len), s);
                        continue;
                }
                cfg->module_index[cfg->nmodules++] = idx;
        }
}

/* --------------------------------------------------------------- one VM */

struct vm_seen {
        uint32_t line;    /* of its [[vm]] */
        const char *name; /* valid, or NULL */
        size_t name_len;
        uint64_t pins; /* CPUs pinned (accepted VMs only) */
        bool accepted;
};

static void vm_entry(struct ctx *c, const struct toml_node *t, unsigned index, struct vm_seen *seen,
                     uint64_t *ram_used)
{
        /* Indexed by enum guest_type. */
        static const char *const types[] = { "auto",  "flat",       "multiboot",
                                             "linux", "multiboot2", NULL };
        static const char *const reboot[] = { "restart", "stop", NULL };
        static const char *const poweroff[] = { "stop", "restart", NULL };
        static const char *const unmapped[] = { "ones", "stop", NULL };
        struct vm_config cfg;
        const struct toml_node *name = NULL, *kernel = NULL, *mem = NULL;
        const struct toml_node *cpus = NULL, *initrd = NULL, *mods = NULL;
        struct vm_seen *me = &seen[index];

        vtv_memset(&cfg, 0, sizeof(cfg));
        cfg.type = GUEST_AUTO;
        cfg.ram_size = VM_RAM_DEFAULT;
        cfg.vcpus = VM_VCPUS_DEFAULT;
        cfg.on_reset = RESET_RESTART;
        cfg.on_poweroff = POWEROFF_STOP;
        cfg.autostart = true;
        cfg.kernel_module = cfg.initrd_module = cfg.disk_module = -1;
        c->bad = false;
        me->line = t->line;

        /* The name first, so every message can say which VM it is about. */
        vtv_snprintf(c->vm, sizeof(c->vm), "vm #%u: ", index + 1);
        name = toml_get(c->doc, t, "name");
        if (name && name->type == TOML_STRING) {
                size_t len;
                const char *s = toml_str(c->doc, name, &len);
                if (valid_name(s, len)) {
                        vtv_memcpy(cfg.name, s, len);
                        cfg.name[len] = '\0';
                        vtv_snprintf(c->vm, sizeof(c->vm), "vm %s: ", cfg.name);
                        me->name = s;
                        me->name_len = len;
                }
        }
        for (const struct toml_node *n = toml_first(c->doc, t); n; n = toml_next(c->doc, n)) {
                size_t klen;
                const char *k = toml_key(c->doc, n, &klen);
                const struct key_info *ki = NULL;
                for (size_t i = 0; i < ARRAY_SIZE(vm_keys); i++) {
                        if (str_is(k, klen, vm_keys[i].key))
                                ki = &vm_keys[i];
                }
                if (!ki) {
                        unknown_key(c, n, vm_keys, ARRAY_SIZE(vm_keys), "[[vm]]", true);
                        continue;
                }
                size_t len = 0;
                const char *s = toml_str(c->doc, n, &len);
                if (!vtv_strcmp(ki->key, "name")) {
                        if (want_type(c, n, TOML_STRING, ki, true) && !valid_name(s, len))
                                report(c, n->line, n->col, true,
                                       "name \"%.*s\" is not a valid VM name; use 1 to %d "
                                       "letters, digits, '-', '_' or '.', e.g. name = \"web-1\"",
                                       shown(len), s, VM_NAME_MAX - 1);
                } else if (!vtv_strcmp(ki->key, "kernel") || !vtv_strcmp(ki->key, "initrd") ||
                           !vtv_strcmp(ki->key, "disk")) {
                        if (!want_type(c, n, TOML_STRING, ki, true))
                                continue;
                        int idx = named_module(c, n, ki->key, s, len);
                        if (idx < 0)
                                continue;
                        if (!vtv_strcmp(ki->key, "kernel")) {
                                kernel = n;
                                cfg.kernel_module = idx;
                        } else if (!vtv_strcmp(ki->key, "disk")) {
                                cfg.disk_module = idx;
                        } else {
                                initrd = n;
                                cfg.initrd_module = idx;
                        }
                } else if (!vtv_strcmp(ki->key, "type")) {
                        int w = want_word(c, n, ki, types);
                        if (w >= 0)
                                cfg.type = (enum guest_type)w;
                } else if (!vtv_strcmp(ki->key, "cmdline")) {
                        if (!want_type(c, n, TOML_STRING, ki, true))
                                continue;
                        bool ctl = false;
                        for (size_t i = 0; i < len; i++) {
                                unsigned char ch = (unsigned char)s[i];
                                if (ch < 0x20 || ch == 0x7f)
                                        ctl = true;
                        }
                        if (ctl)
                                report(c, n->line, n->col, true,
                                       "cmdline contains a control character; write the guest's "
                                       "command line on one line without escapes like \\n");
                        else if (len >= VM_CMDLINE_MAX)
                                report(c, n->line, n->col, true,
                                       "cmdline is %zu bytes long; shorten it to at most %d", len,
                                       VM_CMDLINE_MAX - 1);
                        else
                                vtv_memcpy(cfg.cmdline, s, len + 1);
                } else if (!vtv_strcmp(ki->key, "memory")) {
                        if (memory_value(c, n, ki, &cfg.ram_size)) {
                                cfg.ram_given = true;
                                mem = n;
                        }
                } else if (!vtv_strcmp(ki->key, "vcpus")) {
                        if (!want_type(c, n, TOML_INTEGER, ki, true))
                                continue;
                        if (n->v.integer < 1 || n->v.integer > VM_VCPUS_MAX)
                                report(c, n->line, n->col, true,
                                       "vcpus = %lld is out of range; give 1 to %d",
                                       (long long)n->v.integer, VM_VCPUS_MAX);
                        else
                                cfg.vcpus = (unsigned)n->v.integer;
                } else if (!vtv_strcmp(ki->key, "cpus")) {
                        if (cpus_value(c, n, ki, &cfg.cpu_mask)) {
                                cfg.cpus_given = true;
                                cpus = n;
                        }
                } else if (!vtv_strcmp(ki->key, "on_reboot")) {
                        int w = want_word(c, n, ki, reboot);
                        if (w >= 0)
                                cfg.on_reset = w == 0 ? RESET_RESTART : RESET_STOP;
                } else if (!vtv_strcmp(ki->key, "on_poweroff")) {
                        int w = want_word(c, n, ki, poweroff);
                        if (w >= 0)
                                cfg.on_poweroff = w == 0 ? POWEROFF_STOP : POWEROFF_RESTART;
                } else if (!vtv_strcmp(ki->key, "autostart")) {
                        if (want_type(c, n, TOML_BOOL, ki, true))
                                cfg.autostart = n->v.boolean;
                } else if (!vtv_strcmp(ki->key, "unmapped")) {
                        int w = want_word(c, n, ki, unmapped);
                        if (w >= 0)
                                cfg.unmapped_stop = w == 1;
                } else if (!vtv_strcmp(ki->key, "readonly")) {
                        if (want_type(c, n, TOML_BOOL, ki, true))
                                cfg.disk_readonly = n->v.boolean;
                } else if (!vtv_strcmp(ki->key, "network")) {
                        if (want_type(c, n, TOML_STRING, ki, true) && !valid_name(s, len))
                                report(c, n->line, n->col, true,
                                       "network \"%.*s\" is not a valid switch name; use 1 to "
                                       "%d letters, digits, '-', '_' or '.', e.g. network = "
                                       "\"lan\"",
                                       shown(len), s, VM_NAME_MAX - 1);
                        else if (n->type == TOML_STRING) {
                                vtv_memcpy(cfg.network, s, len);
                                cfg.network[len] = '\0';
                        }
                } else if (!vtv_strcmp(ki->key, "mac")) {
                        if (!want_type(c, n, TOML_STRING, ki, true))
                                continue;
                        if (!config_parse_mac(s, len, cfg.mac))
                                report(c, n->line, n->col, true,
                                       "mac \"%.*s\" is not a unicast MAC address; write six "
                                       "hex bytes with colons, e.g. mac = \"02:00:00:00:00:01\" "
                                       "(02 as the first byte marks it locally administered)",
                                       shown(len), s);
                        else
                                cfg.mac_given = true;
                } else if (!vtv_strcmp(ki->key, "modules")) {
                        mods = n;
                        modules_value(c, n, ki, &cfg);
                }
        }
        if (!name)
                report(c, t->line, t->col, true, "has no name; add one, e.g. name = \"web\"");
        if (!kernel && !toml_get(c->doc, t, "kernel"))
                report(c, t->line, t->col, true,
                       "has no kernel; add the boot module to run, e.g. kernel = \"vmlinuz\"");
        (void)initrd;
        /* Only multiboot kernels take boot modules; a kernel of type auto is
         * checked when it is loaded (core/vm.c). */
        if (mods && (cfg.type == GUEST_LINUX || cfg.type == GUEST_FLAT))
                report(c, mods->line, mods->col, true,
                       "modules are boot modules for a multiboot kernel, but type is \"%s\"; "
                       "remove modules, or use type = \"multiboot\" or \"multiboot2\"",
                       guest_type_name(cfg.type));

        /* Without memory: Linux (type linux, or with an initrd) gets 256M,
         * others 16M (a Linux kernel of type auto gets 256M at boot too). */
        if (!cfg.ram_given && (cfg.type == GUEST_LINUX || cfg.initrd_module >= 0))
                cfg.ram_size = VM_RAM_DEFAULT_LINUX;

        /* Against the VMs accepted before it. */
        if (me->name) {
                for (unsigned i = 0; i < index; i++) {
                        if (seen[i].accepted && seen[i].name_len == me->name_len &&
                            !vtv_memcmp(seen[i].name, me->name, me->name_len)) {
                                report(c, name->line, name->col, true,
                                       "the name \"%s\" is already taken by the vm on line %u; "
                                       "give each VM a name of its own",
                                       cfg.name, seen[i].line);
                                break;
                        }
                }
        }
        if (cpus) {
                for (unsigned i = 0; i < index; i++) {
                        uint64_t both = seen[i].accepted ? seen[i].pins & cfg.cpu_mask : 0;
                        if (both) {
                                unsigned cpu = (unsigned)__builtin_ctzll(both);
                                report(c, cpus->line, cpus->col, true,
                                       "CPU %u is already pinned by vm %.*s (line %u); pin each "
                                       "CPU to one VM only",
                                       cpu, (int)seen[i].name_len, seen[i].name, seen[i].line);
                                break;
                        }
                }
        }
        char have[24], want[24], used[24];
        if (cfg.ram_size > c->m->ram) {
                vmconfig_format_size(cfg.ram_size, want, sizeof(want));
                vmconfig_format_size(c->m->ram, have, sizeof(have));
                report(c, mem ? mem->line : t->line, mem ? mem->col : t->col, true,
                       "memory %s is more than the machine has for VMs (%s); lower memory", want,
                       have);
        } else if (cfg.autostart && !c->bad && cfg.ram_size > c->m->ram - *ram_used) {
                vmconfig_format_size(cfg.ram_size, want, sizeof(want));
                vmconfig_format_size(c->m->ram, have, sizeof(have));
                vmconfig_format_size(*ram_used, used, sizeof(used));
                report(c, mem ? mem->line : t->line, mem ? mem->col : t->col, true,
                       "memory %s does not fit: the machine has %s for VMs and the VMs started "
                       "before this one take %s; lower memory, or set autostart = false on a VM",
                       want, have, used);
        }

        if (c->bad) {
                c->out->refused++;
                return;
        }
        if (c->out->nvms >= VMCONFIG_MAX_VMS) {
                report(c, t->line, t->col, true,
                       "is one VM too many: vtvisor runs at most %d; remove it", VMCONFIG_MAX_VMS);
                c->out->refused++;
                return;
        }
        me->accepted = true;
        me->pins = cfg.cpu_mask;
        if (cfg.autostart)
                *ram_used += cfg.ram_size;
        c->out->vms[c->out->nvms++] = cfg;
}

/* --------------------------------------------------------------- the file */

unsigned vmconfig_apply(struct vmconfig *out, const struct toml_doc *doc, const char *file,
                        const struct vmconfig_machine *m, vmconfig_report_fn report_fn, void *ctx)
{
        struct ctx c = { out, doc, file, m, report_fn, ctx, m->ncpus, "", false };
        const struct toml_node *root = toml_root(doc);
        const struct toml_node *vms = NULL, *console = NULL;
        bool vms_bad = false;

        vtv_memset(out, 0, sizeof(*out));
        if (c.ncpus > VMCONFIG_MAXCPUS)
                c.ncpus = VMCONFIG_MAXCPUS;
        for (const struct toml_node *n = toml_first(doc, root); n; n = toml_next(doc, n)) {
                size_t klen;
                const char *k = toml_key(doc, n, &klen);
                if (str_is(k, klen, "console")) {
                        if (!want_type(&c, n, TOML_STRING, &top_keys[0], false))
                                continue;
                        size_t len;
                        const char *s = toml_str(doc, n, &len);
                        if (!valid_name(s, len)) {
                                report(&c, n->line, n->col, false,
                                       "console \"%.*s\" is not a VM name; give the name of a "
                                       "[[vm]], e.g. console = \"linux\"",
                                       shown(len), s);
                                continue;
                        }
                        console = n;
                } else if (str_is(k, klen, "maxcpus")) {
                        if (!want_type(&c, n, TOML_INTEGER, &top_keys[1], false))
                                continue;
                        if (n->v.integer < 1 || n->v.integer > VMCONFIG_MAXCPUS) {
                                report(&c, n->line, n->col, false,
                                       "maxcpus = %lld is out of range; give 1 to %d",
                                       (long long)n->v.integer, VMCONFIG_MAXCPUS);
                                continue;
                        }
                        out->maxcpus = (unsigned)n->v.integer;
                        if (out->maxcpus < c.ncpus)
                                c.ncpus = out->maxcpus;
                } else if (str_is(k, klen, "vm")) {
                        bool tables = n->type == TOML_ARRAY;
                        for (const struct toml_node *e = toml_first(doc, n); tables && e;
                             e = toml_next(doc, e))
                                tables = e->type == TOML_TABLE;
                        vms_bad = !tables;
                        if (!tables)
                                report(&c, n->line, n->col, false,
                                       "vm must be an array of tables, not %s; write [[vm]] "
                                       "above each VM's keys",
                                       n->type == TOML_ARRAY
                                           ? "an array of other values"
                                           : toml_type_name_a((enum toml_type)n->type));
                        else
                                vms = n;
                } else {
                        unknown_key(&c, n, top_keys, ARRAY_SIZE(top_keys), "the file's top level",
                                    false);
                }
        }

        struct vm_seen seen[2 * VMCONFIG_MAX_VMS];
        uint64_t ram_used = 0;
        if (!vms || !vms->count) {
                if (!vms_bad)
                        report(&c, 1, 1, false,
                               "no VM is defined; add a [[vm]] table with name and kernel for "
                               "each VM");
        } else {
                unsigned i = 0;
                for (const struct toml_node *e = toml_first(doc, vms); e;
                     e = toml_next(doc, e), i++) {
                        out->entries++;
                        if (i >= ARRAY_SIZE(seen)) {
                                c.bad = false;
                                vtv_snprintf(c.vm, sizeof(c.vm), "vm #%u: ", i + 1);
                                report(&c, e->line, e->col, true,
                                       "is one VM too many: vtvisor runs at most %d; remove it",
                                       VMCONFIG_MAX_VMS);
                                out->refused++;
                                continue;
                        }
                        vtv_memset(&seen[i], 0, sizeof(seen[i]));
                        vm_entry(&c, e, i, seen, &ram_used);
                }
        }

        if (console) {
                size_t len;
                const char *s = toml_str(doc, console, &len);
                const struct vm_config *vm = NULL;
                for (unsigned i = 0; i < out->nvms; i++) {
                        if (str_is(s, len, out->vms[i].name))
                                vm = &out->vms[i];
                }
                bool refused = false;
                for (unsigned i = 0; i < out->entries && i < ARRAY_SIZE(seen); i++) {
                        if (!seen[i].accepted && seen[i].name && seen[i].name_len == len &&
                            !vtv_memcmp(seen[i].name, s, len))
                                refused = true;
                }
                if (vm && !vm->autostart)
                        report(&c, console->line, console->col, false,
                               "console \"%.*s\" names a VM with autostart = false; give the "
                               "console to a VM that starts at boot",
                               shown(len), s);
                else if (vm)
                        vtv_memcpy(out->console, s, len + 1);
                else if (refused)
                        report(&c, console->line, console->col, false,
                               "console \"%.*s\" names a VM that was refused (see above); fix "
                               "that VM or give the console to another",
                               shown(len), s);
                else {
                        char list[200];
                        size_t used = 0;
                        list[0] = '\0';
                        for (unsigned i = 0; i < out->nvms && used < sizeof(list); i++)
                                used += vtv_snprintf(list + used, sizeof(list) - used, "%s%s",
                                                     i ? ", " : "", out->vms[i].name);
                        report(&c, console->line, console->col, false,
                               "console \"%.*s\" names no VM; use one of the VM names (%s)",
                               shown(len), s, out->nvms ? list : "there are none");
                }
        }

        if (out->errors && report_fn) {
                char msg[VMCONFIG_MSG_MAX];
                size_t n = vtv_snprintf(msg, sizeof(msg), "%s: %u error%s; ", file, out->errors,
                                        out->errors == 1 ? "" : "s");
                if (out->refused) {
                        n += vtv_snprintf(msg + n, sizeof(msg) - n, "%u of %u VM%s refused (",
                                          out->refused, out->entries, out->entries == 1 ? "" : "s");
                        bool first = true;
                        for (unsigned i = 0; i < out->entries && n < sizeof(msg); i++) {
                                if (i < ARRAY_SIZE(seen) && seen[i].accepted)
                                        continue;
                                if (i < ARRAY_SIZE(seen) && seen[i].name)
                                        n += vtv_snprintf(msg + n, sizeof(msg) - n, "%s%.*s",
                                                          first ? "" : ", ", (int)seen[i].name_len,
                                                          seen[i].name);
                                else
                                        n += vtv_snprintf(msg + n, sizeof(msg) - n, "%s#%u",
                                                          first ? "" : ", ", i + 1);
                                first = false;
                        }
                        if (n < sizeof(msg))
                                n += vtv_snprintf(msg + n, sizeof(msg) - n, "), ");
                }
                if (n < sizeof(msg))
                        vtv_snprintf(msg + n, sizeof(msg) - n, "%u VM%s accepted", out->nvms,
                                     out->nvms == 1 ? "" : "s");
                report_fn(ctx, msg);
        }
        return out->errors;
}

unsigned vmconfig_load(struct vmconfig *out, struct toml_doc *doc, const char *file,
                       const char *text, size_t len, const struct vmconfig_machine *m,
                       vmconfig_report_fn report_fn, void *ctx)
{
        if (toml_parse(doc, text, len))
                return vmconfig_apply(out, doc, file, m, report_fn, ctx);
        vtv_memset(out, 0, sizeof(*out));
        out->unparsable = true;
        out->errors = 1;
        if (report_fn) {
                char msg[VMCONFIG_MSG_MAX];
                vtv_snprintf(msg, sizeof(msg), "%s:%u:%u: %s", file, doc->err.line, doc->err.col,
                             doc->err.msg);
                report_fn(ctx, msg);
                vtv_snprintf(msg, sizeof(msg),
                             "%s: the file cannot be read as TOML, so no VM is started from it",
                             file);
                report_fn(ctx, msg);
        }
        return 1;
}

/* ---------------------------------------------------------------- summary */

size_t vmconfig_describe(const struct vm_config *vm, const struct vmconfig_machine *m, char *buf,
                         size_t size)
{
        char mem[24], cpus[200];
        size_t n = 0, kl = 0, il = 0;
        const char *kn = "?", *in = NULL;

        if (vm->kernel_module >= 0 && (size_t)vm->kernel_module < m->nmodules)
                kn = vmconfig_module_name(m->modules[vm->kernel_module], &kl);
        if (vm->initrd_module >= 0 && (size_t)vm->initrd_module < m->nmodules)
                in = vmconfig_module_name(m->modules[vm->initrd_module], &il);
        vmconfig_format_size(vm->ram_size, mem, sizeof(mem));
        cpus[0] = '\0';
        if (vm->cpu_mask) {
                size_t u = vtv_snprintf(cpus, sizeof(cpus), ", cpus");
                char sep = ' ';
                for (unsigned i = 0; i < 64 && u < sizeof(cpus); i++) {
                        if (!(vm->cpu_mask & BIT(i)))
                                continue;
                        unsigned j = i;
                        while (j + 1 < 64 && (vm->cpu_mask & BIT(j + 1)))
                                j++;
                        if (j > i)
                                u += vtv_snprintf(cpus + u, sizeof(cpus) - u, "%c%u-%u", sep, i, j);
                        else
                                u += vtv_snprintf(cpus + u, sizeof(cpus) - u, "%c%u", sep, i);
                        sep = ',';
                        i = j;
                }
        }
        char bootmods[200];
        size_t b = 0;
        bootmods[0] = '\0';
        for (unsigned i = 0; i < vm->nmodules && b < sizeof(bootmods); i++) {
                size_t ml = 1;
                const char *mn = "?";
                if (vm->module_index[i] >= 0 && (size_t)vm->module_index[i] < m->nmodules)
                        mn = vmconfig_module_name(m->modules[vm->module_index[i]], &ml);
                b += vtv_snprintf(bootmods + b, sizeof(bootmods) - b, "%s%.*s",
                                  i ? ", " : ", modules ", (int)ml, mn);
        }
        char dev[120];
        size_t d = 0;
        dev[0] = '\0';
        if (vm->disk_module >= 0 && (size_t)vm->disk_module < m->nmodules) {
                size_t dl;
                const char *dn = vmconfig_module_name(m->modules[vm->disk_module], &dl);
                d += vtv_snprintf(dev, sizeof(dev), ", disk %.*s%s", (int)dl, dn,
                                  vm->disk_readonly ? " (read-only)" : "");
        }
        if (vm->network[0] && d < sizeof(dev))
                d += vtv_snprintf(dev + d, sizeof(dev) - d, ", network %s", vm->network);
        if (vm->network[0] && vm->mac_given && d < sizeof(dev))
                vtv_snprintf(dev + d, sizeof(dev) - d, " mac %02x:%02x:%02x:%02x:%02x:%02x",
                             vm->mac[0], vm->mac[1], vm->mac[2], vm->mac[3], vm->mac[4],
                             vm->mac[5]);
        n = vtv_snprintf(buf, size,
                         "vm %s: kernel %.*s%s%.*s%s, type %s, memory %s%s, %u vCPU%s%s, "
                         "on_reboot %s, on_poweroff %s, %s%s, cmdline '%s'",
                         vm->name, (int)kl, kn, in ? ", initrd " : "", (int)il, in ? in : "",
                         bootmods, guest_type_name(vm->type), mem,
                         vm->ram_given ? "" : " (default)", vm->vcpus, vm->vcpus == 1 ? "" : "s",
                         cpus, vm->on_reset == RESET_STOP ? "stop" : "restart",
                         vm->on_poweroff == POWEROFF_RESTART ? "restart" : "stop",
                         vm->autostart ? "autostart" : "no autostart", dev, vm->cmdline);
        return n;
}
