/* A parser for the subset of TOML 1.0 that vtvisor's configuration file
 * uses (docs/configuration.md, "The TOML subset").  Pure: no globals, no
 * heap, no libc; the caller gives the memory for the tree.
 *
 * Supported: comments; key = value with bare, quoted ("..." and '...') and
 * dotted keys; [tables] and [[arrays of tables]] with TOML's rules on
 * defining a table twice; basic strings with the escapes \b \t \n \f \r \"
 * \\ \uXXXX \UXXXXXXXX, and literal strings; integers in decimal, hex (0x),
 * octal (0o) and binary (0b) with '_' between digits, 64-bit signed;
 * booleans; arrays (over several lines, trailing comma, comments inside);
 * inline tables.  Refused with a message saying so: multi-line strings,
 * floats (also inf and nan), dates and times.  The input must be UTF-8; a
 * UTF-8 byte order mark at the start is skipped.  Control characters other
 * than tab are refused everywhere, also in comments, as TOML requires.
 *
 * Usage:
 *     static struct toml_node nodes[256];
 *     static char pool[4096];
 *     struct toml_doc doc;
 *     toml_init(&doc, nodes, ARRAY_SIZE(nodes), pool, sizeof(pool));
 *     if (!toml_parse(&doc, text, len))
 *             report(doc.err.line, doc.err.col, doc.err.msg);
 *     const struct toml_node *vms = toml_get(&doc, toml_root(&doc), "vm");
 *     for (const struct toml_node *v = toml_first(&doc, vms); v; v = toml_next(&doc, v))
 *             ...
 *
 * Every node is a table entry (it has a key) or an array element (it has
 * none).  Strings and keys are decoded into the pool, each followed by a
 * NUL; a string may hold a NUL of its own (\u0000), so use the lengths. */
#ifndef VTV_CONFIG_TOML_H
#define VTV_CONFIG_TOML_H

#include "lib/types.h"

#define TOML_MSG_MAX   200 /* a message with its terminating NUL */
#define TOML_MAX_DEPTH 16  /* arrays and inline tables inside each other */

enum toml_type { TOML_TABLE = 1, TOML_ARRAY, TOML_STRING, TOML_INTEGER, TOML_BOOL };

/* Private to the parser; the accessors below read them. */
#define TOML_NIL               0xffffffffu
#define TOML_F_EXPLICIT        0x01 /* table: [header], [[header]] element, or inline */
#define TOML_F_INLINE          0x02 /* table or array written as a value: closed */
#define TOML_F_ARRAY_OF_TABLES 0x04 /* array made by [[header]] */

struct toml_node {
        uint8_t type;               /* enum toml_type */
        uint8_t flags;              /* TOML_F_* */
        uint32_t line, col;         /* of the value (1-based) */
        uint32_t key_line, key_col; /* of the key; 0 for array elements */
        uint32_t key, key_len;      /* key in the pool; key_len 0 and key TOML_NIL: none */
        uint32_t parent, next;      /* node indices, or TOML_NIL */
        uint32_t first, last;       /* children of a table or an array */
        uint32_t count;             /* how many children */
        uint32_t dotted_section;    /* table made or extended by dotted keys in it */
        union {
                int64_t integer;
                bool boolean;
                struct {
                        uint32_t off, len;
                } str;
        } v;
};

struct toml_error {
        uint32_t line, col; /* 1-based; col counts characters, a tab as one */
        char msg[TOML_MSG_MAX];
};

struct toml_doc {
        struct toml_node *nodes;
        uint32_t nnodes, max_nodes;
        char *pool;
        uint32_t pool_used, pool_size;
        struct toml_error err; /* after toml_parse returned false */
};

/* Gives the document its memory: max_nodes nodes (at least 1; node 0 is
 * the root table) and pool_size bytes for decoded keys and strings. */
void toml_init(struct toml_doc *doc, struct toml_node *nodes, uint32_t max_nodes, char *pool,
               uint32_t pool_size);

/* Parses text[0..len) (no NUL needed; a NUL byte is refused).  Returns
 * true with the tree in doc, or false with doc->err set: line, column and
 * a message saying what is wrong and how to fix it.  May be called again
 * on the same doc; each call starts afresh. */
bool toml_parse(struct toml_doc *doc, const char *text, size_t len);

/* Navigation.  Each returns NULL where there is nothing. */
const struct toml_node *toml_root(const struct toml_doc *doc);
/* The first child of a table (in the order written) or array; NULL for
 * other types and empty ones. */
const struct toml_node *toml_first(const struct toml_doc *doc, const struct toml_node *n);
const struct toml_node *toml_next(const struct toml_doc *doc, const struct toml_node *n);
const struct toml_node *toml_parent(const struct toml_doc *doc, const struct toml_node *n);
/* The entry of table t with this key (a NUL-terminated string). */
const struct toml_node *toml_get(const struct toml_doc *doc, const struct toml_node *t,
                                 const char *key);

/* A node's key, NUL-terminated, and its length; "" for array elements. */
const char *toml_key(const struct toml_doc *doc, const struct toml_node *n, size_t *len);
/* A string node's value, NUL-terminated, and its length; NULL for others. */
const char *toml_str(const struct toml_doc *doc, const struct toml_node *n, size_t *len);

/* "table", "array", "string", "integer", "boolean" (with an article: "a
 * table", "an integer", ...). */
const char *toml_type_name(enum toml_type t);
const char *toml_type_name_a(enum toml_type t);

#endif
