/* libFuzzer target for config/toml.c and config/vmconfig.c.
 *
 * Input: the bytes of a configuration file.  It is parsed into a small
 * node array (so running out of nodes and pool is reached too), and:
 *
 *   - a refused input has an error whose line and column lie in the input
 *     (line 1 to the number of lines, column 1 to one past the line's last
 *     character) and a message of one printable line;
 *   - an accepted input gives a well-formed tree: every node reached once
 *     from the root, parent and sibling links and counts that agree, keys
 *     on table entries only and unique within a table, strings and keys
 *     inside the used pool and NUL-terminated, positions in the input, and
 *     arrays made by [[...]] holding tables only;
 *   - the schema then runs over the tree with a small machine (2 CPUs,
 *     512M, three modules); every message it reports starts with "FILE:"
 *     and is one printable line, the count of messages matches the count
 *     of errors, and the accepted VMs hold values in range, have names of
 *     their own, pin no CPU twice, fit in the RAM together and can be
 *     described. */
#include "tests/fuzz/fuzz.h"

#include "config/toml.h"
#include "config/vmconfig.h"
#include "lib/string.h"

#define NODES 256
#define POOL  4096

static struct toml_node nodes[NODES];
static char pool[POOL];
static struct vmconfig conf;
static uint8_t visited[NODES];

static const uint8_t *input;
static size_t input_len;

/* Number of characters (UTF-8 lead bytes) of line `line` (1-based), or -1
 * when the input has no such line. */
static long line_chars(uint32_t line)
{
        uint32_t l = 1;
        size_t i = 0;
        while (l < line) {
                while (i < input_len && input[i] != '\n')
                        i++;
                if (i >= input_len)
                        return -1;
                i++;
                l++;
        }
        long n = 0;
        for (; i < input_len && input[i] != '\n'; i++) {
                if ((input[i] & 0xc0) != 0x80)
                        n++;
        }
        return n;
}

static void check_pos(uint32_t line, uint32_t col)
{
        CHECK(line >= 1 && col >= 1);
        long n = line_chars(line);
        CHECK(n >= 0);
        CHECK((long)col <= n + 1);
}

static void check_text(const struct toml_doc *d, uint32_t off, uint32_t len)
{
        CHECK(off < d->pool_used && len < d->pool_used - off);
        CHECK(d->pool[off + len] == '\0');
}

static void check_node(const struct toml_doc *d, uint32_t i, unsigned depth)
{
        CHECK(i < d->nnodes);
        CHECK(!visited[i]);
        CHECK(depth < NODES);
        visited[i] = 1;
        const struct toml_node *n = &d->nodes[i];
        CHECK(n->type >= TOML_TABLE && n->type <= TOML_BOOL);
        if (i)
                check_pos(n->line, n->col);
        if (n->type == TOML_STRING)
                check_text(d, n->v.str.off, n->v.str.len);
        if (n->type == TOML_BOOL)
                CHECK(n->v.boolean == 0 || n->v.boolean == 1);
        if (n->type != TOML_TABLE && n->type != TOML_ARRAY) {
                CHECK(n->first == TOML_NIL && n->count == 0);
                return;
        }
        uint32_t count = 0, last = TOML_NIL;
        for (uint32_t c = n->first; c != TOML_NIL; c = d->nodes[c].next) {
                CHECK(c < d->nnodes && count < d->nnodes);
                const struct toml_node *cn = &d->nodes[c];
                CHECK(cn->parent == i);
                if (n->type == TOML_TABLE) {
                        CHECK(cn->key != TOML_NIL);
                        check_text(d, cn->key, cn->key_len);
                        check_pos(cn->key_line, cn->key_col);
                        for (uint32_t o = n->first; o != c; o = d->nodes[o].next) {
                                const struct toml_node *on = &d->nodes[o];
                                CHECK(on->key_len != cn->key_len ||
                                      memcmp(d->pool + on->key, d->pool + cn->key, cn->key_len) !=
                                          0);
                        }
                } else {
                        CHECK(cn->key == TOML_NIL && cn->key_len == 0);
                        if (n->flags & TOML_F_ARRAY_OF_TABLES)
                                CHECK(cn->type == TOML_TABLE);
                }
                check_node(d, c, depth + 1);
                last = c;
                count++;
        }
        CHECK(count == n->count && last == n->last);
}

static unsigned reports;

/* A message is one printable line. */
static void check_line(const char *msg)
{
        for (const char *m = msg; *m; m++)
                CHECK((unsigned char)*m >= 0x20 && *m != 0x7f);
}

static void on_report(void *ctx, const char *msg)
{
        (void)ctx;
        size_t len = vtv_strnlen(msg, VMCONFIG_MSG_MAX);
        CHECK(len < VMCONFIG_MSG_MAX);
        CHECK(strncmp(msg, "f.toml:", 7) == 0);
        check_line(msg);
        reports++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct toml_doc doc;
        input = data;
        input_len = size;
        toml_init(&doc, nodes, NODES, pool, POOL);
        if (!toml_parse(&doc, (const char *)data, size)) {
                check_pos(doc.err.line, doc.err.col);
                CHECK(doc.err.msg[0] != '\0');
                check_line(doc.err.msg);
                CHECK(vtv_strnlen(doc.err.msg, TOML_MSG_MAX) < TOML_MSG_MAX);
                return 0;
        }
        CHECK(doc.nnodes >= 1 && doc.nnodes <= NODES && doc.pool_used <= POOL);
        memset(visited, 0, sizeof(visited));
        check_node(&doc, 0, 0);
        for (uint32_t i = 0; i < doc.nnodes; i++)
                CHECK(visited[i]);

        static const char *const mods[] = { "/boot/vmlinuz quiet", "initrd.gz", "hello.elf" };
        struct vmconfig_machine m = { mods, 3, 2, MiB(512) };
        reports = 0;
        unsigned errors = vmconfig_apply(&conf, &doc, "f.toml", &m, on_report, NULL);
        CHECK(errors == conf.errors);
        CHECK(reports == errors + (errors ? 1 : 0));
        CHECK(conf.nvms + conf.refused == conf.entries);
        uint64_t ram = 0, pins = 0;
        for (unsigned i = 0; i < conf.nvms; i++) {
                const struct vm_config *v = &conf.vms[i];
                CHECK(v->name[0] && vtv_strnlen(v->name, VM_NAME_MAX) < VM_NAME_MAX);
                CHECK(v->vcpus >= 1 && v->vcpus <= VM_VCPUS_MAX);
                CHECK(v->ram_size >= VM_RAM_MIN && v->ram_size <= VM_RAM_MAX);
                CHECK(v->kernel_module >= 0 && v->kernel_module < 3);
                CHECK(v->initrd_module >= -1 && v->initrd_module < 3);
                CHECK((v->cpu_mask & pins) == 0 && v->cpu_mask < BIT(2));
                pins |= v->cpu_mask;
                if (v->autostart)
                        ram += v->ram_size;
                for (unsigned j = 0; j < i; j++)
                        CHECK(strcmp(conf.vms[j].name, v->name) != 0);
                char line[VMCONFIG_MSG_MAX];
                size_t n = vmconfig_describe(v, &m, line, sizeof(line));
                CHECK(n > 0 && vtv_strnlen(line, sizeof(line)) == MIN(n, sizeof(line) - 1));
        }
        CHECK(ram <= MiB(512));
        return 0;
}
