/* vtvisor-check: checks a vtvisor configuration file on the host, with the
 * very same parser and schema vtvisor runs at boot (config/toml.c,
 * config/vmconfig.c), and prints the same messages.
 *
 *   vtvisor-check [--cpus N] [--ram SIZE] FILE [MODULE...]
 *   vtvisor-check --dump FILE
 *
 * MODULE: each boot module as the boot loader would give it (a path, or a
 * whole module line "/boot/vmlinuz quiet"); kernel, initrd, disk and modules
 * name them by the base name of the first word.  Without any MODULE, every
 * module the file names is taken to be there.  The machine: --cpus N CPUs
 * (default 2) and --ram SIZE for VMs (default 512M), the Bochs machine of
 * `make run`.
 *
 * Prints each error, then a summary line for each accepted VM.  Exit
 * status: 0 when everything was accepted, 1 when anything was refused, 2
 * for a usage error or an unreadable file.  --dump prints the TOML tree as
 * JSON (integers exact) and checks nothing else; exit status 1 on a syntax
 * error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml.h"
#include "config/vmconfig.h"
#include "lib/string.h"

#define DEFAULT_CPUS 2
#define DEFAULT_RAM  MiB(512)
#define FILE_MAX     (1u << 20)

static struct toml_node nodes[VMCONFIG_NODES];
static char pool[VMCONFIG_POOL];
static struct vmconfig conf;

static void usage(FILE *f)
{
        fprintf(f,
                "usage: vtvisor-check [--cpus N] [--ram SIZE] FILE [MODULE...]\n"
                "       vtvisor-check --dump FILE\n"
                "Checks a vtvisor configuration file as vtvisor does at boot and prints the same\n"
                "messages, then one line per accepted VM; exits 1 if anything was refused.\n"
                "  MODULE      a boot module: a path or a module line ('/boot/vmlinuz quiet');\n"
                "              kernel, initrd, disk and modules match the base name of its\n"
                "              first word.  With no MODULE, every module the file names\n"
                "              counts as given.\n"
                "  --cpus N    CPUs of the machine (default %d)\n"
                "  --ram SIZE  RAM the machine has for VMs, e.g. 4G (default %lluM)\n"
                "  --dump      print the file's TOML tree as JSON; no other check\n",
                DEFAULT_CPUS, (unsigned long long)(DEFAULT_RAM >> 20));
}

static void print_msg(void *ctx, const char *msg)
{
        (void)ctx;
        printf("%s\n", msg);
}

static void json_string(const char *s, size_t len)
{
        putchar('"');
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20 || c == 0x7f)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

static void json(const struct toml_doc *doc, const struct toml_node *n, int indent)
{
        const struct toml_node *c;
        size_t len;
        switch ((enum toml_type)n->type) {
        case TOML_STRING: {
                const char *s = toml_str(doc, n, &len);
                json_string(s, len);
                return;
        }
        case TOML_INTEGER:
                printf("%lld", (long long)n->v.integer);
                return;
        case TOML_BOOL:
                printf("%s", n->v.boolean ? "true" : "false");
                return;
        case TOML_ARRAY:
        case TOML_TABLE: {
                bool table = n->type == TOML_TABLE;
                putchar(table ? '{' : '[');
                for (c = toml_first(doc, n); c; c = toml_next(doc, c)) {
                        printf("\n%*s", indent + 2, "");
                        if (table) {
                                const char *k = toml_key(doc, c, &len);
                                json_string(k, len);
                                printf(": ");
                        }
                        json(doc, c, indent + 2);
                        if (c->next != TOML_NIL)
                                putchar(',');
                }
                if (n->count)
                        printf("\n%*s", indent, "");
                putchar(table ? '}' : ']');
                return;
        }
        }
        printf("null");
}

/* Without MODULE arguments: every kernel, initrd, disk and modules string the file
 * names. */
static size_t modules_from_file(const struct toml_doc *doc, const char **mods, size_t max)
{
        size_t n = 0;
        const struct toml_node *vms = toml_get(doc, toml_root(doc), "vm");
        for (const struct toml_node *v = toml_first(doc, vms); v; v = toml_next(doc, v)) {
                static const char *const keys[] = { "kernel", "initrd", "disk" };
                for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
                        const char *s = toml_str(doc, toml_get(doc, v, keys[k]), NULL);
                        if (s && n < max && !strchr(s, ' ') && !strchr(s, '\t'))
                                mods[n++] = s;
                }
                const struct toml_node *list = toml_get(doc, v, "modules");
                for (const struct toml_node *e =
                         list && list->type == TOML_ARRAY ? toml_first(doc, list) : NULL;
                     e; e = toml_next(doc, e)) {
                        const char *s = toml_str(doc, e, NULL);
                        if (s && n < max && !strchr(s, ' ') && !strchr(s, '\t'))
                                mods[n++] = s;
                }
        }
        return n;
}

static char *read_file(const char *path, size_t *len)
{
        FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
        if (!f) {
                fprintf(stderr, "vtvisor-check: %s: %s\n", path, strerror(errno));
                return NULL;
        }
        char *buf = malloc(FILE_MAX + 1);
        size_t n = buf ? fread(buf, 1, FILE_MAX + 1, f) : 0;
        bool err = ferror(f);
        if (f != stdin)
                fclose(f);
        if (!buf || err) {
                fprintf(stderr, "vtvisor-check: %s: cannot read it\n", path);
                free(buf);
                return NULL;
        }
        if (n > FILE_MAX) {
                fprintf(stderr, "vtvisor-check: %s: longer than %u bytes\n", path, FILE_MAX);
                free(buf);
                return NULL;
        }
        *len = n;
        return buf;
}

int main(int argc, char **argv)
{
        unsigned long cpus = DEFAULT_CPUS;
        uint64_t ram = DEFAULT_RAM;
        bool dump = false;
        int i = 1;

        for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "--")) {
                        i++;
                        break;
                } else if (!strcmp(a, "--dump")) {
                        dump = true;
                } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                        usage(stdout);
                        return 0;
                } else if (!strcmp(a, "--cpus") && i + 1 < argc) {
                        char *end;
                        cpus = strtoul(argv[++i], &end, 10);
                        if (*end || cpus < 1 || cpus > VMCONFIG_MAXCPUS) {
                                fprintf(stderr, "vtvisor-check: --cpus %s: give 1 to %d\n", argv[i],
                                        VMCONFIG_MAXCPUS);
                                return 2;
                        }
                } else if (!strcmp(a, "--ram") && i + 1 < argc) {
                        const char *v = argv[++i];
                        if (!vtv_parse_u64(v, strlen(v), &ram) || !ram) {
                                fprintf(stderr, "vtvisor-check: --ram %s: give a size, e.g. 4G\n",
                                        v);
                                return 2;
                        }
                } else {
                        fprintf(stderr, "vtvisor-check: unknown option or missing value: %s\n", a);
                        usage(stderr);
                        return 2;
                }
        }
        if (i >= argc) {
                usage(stderr);
                return 2;
        }
        const char *path = argv[i++];
        size_t len;
        char *text = read_file(path, &len);
        if (!text)
                return 2;

        struct toml_doc doc;
        toml_init(&doc, nodes, VMCONFIG_NODES, pool, VMCONFIG_POOL);
        if (dump) {
                if (!toml_parse(&doc, text, len)) {
                        printf("%s:%u:%u: %s\n", path, doc.err.line, doc.err.col, doc.err.msg);
                        free(text);
                        return 1;
                }
                json(&doc, toml_root(&doc), 0);
                putchar('\n');
                free(text);
                return 0;
        }

        const char *mods[VMCONFIG_MAX_VMS * (3 + VM_CONFIG_MODULES_MAX)];
        size_t nmods = 0;
        bool guessed = i >= argc;
        if (!guessed) {
                for (; i < argc && nmods < sizeof(mods) / sizeof(mods[0]); i++)
                        mods[nmods++] = argv[i];
        } else if (toml_parse(&doc, text, len)) {
                nmods = modules_from_file(&doc, mods, sizeof(mods) / sizeof(mods[0]));
        }
        struct vmconfig_machine m = { mods, nmods, (unsigned)cpus, ram };
        char size[24];
        vmconfig_format_size(ram, size, sizeof(size));
        printf("vtvisor-check: %s on a machine with %u CPU%s and %s for VMs%s\n", path, m.ncpus,
               m.ncpus == 1 ? "" : "s", size,
               guessed ? "; no MODULE given, so every module the file names counts as given" : "");

        unsigned errors = vmconfig_load(&conf, &doc, path, text, len, &m, print_msg, NULL);
        if (!conf.unparsable) {
                printf("console: %s\n",
                       conf.console[0] ? conf.console : "(not set: the first VM still running)");
                if (conf.maxcpus)
                        printf("maxcpus: %u\n", conf.maxcpus);
        }
        for (unsigned v = 0; v < conf.nvms; v++) {
                char line[VMCONFIG_MSG_MAX];
                vmconfig_describe(&conf.vms[v], &m, line, sizeof(line));
                printf("%s\n", line);
        }
        printf("%u VM%s accepted, %u refused, %u error%s\n", conf.nvms, conf.nvms == 1 ? "" : "s",
               conf.refused, errors, errors == 1 ? "" : "s");
        free(text);
        return errors ? 1 : 0;
}
