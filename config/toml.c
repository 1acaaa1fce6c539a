/* The TOML subset of config/toml.h: a recursive-descent parser over a byte
 * buffer into the caller's node array.  The first error ends the parse. */
#include "config/toml.h"
#include "lib/printf.h"
#include "lib/string.h"

#define SHOW_MAX 40 /* bytes of a bad token quoted in a message */
#define DESC_MAX 32 /* describe()'s buffer */

struct parser {
        struct toml_doc *d;
        const unsigned char *s;
        size_t len, pos;
        uint32_t line;     /* line of line_start */
        size_t line_start; /* where the line being parsed begins */
        size_t col_off;    /* a known column on the current line: its offset, */
        uint32_t col;      /* and the column there (so long lines count once) */
        uint32_t section;  /* the [header] section (or inline table) being parsed */
        uint32_t next_section;
        bool failed;
};

/* ------------------------------------------------------------------ errors */

/* Line and column (1-based, in characters) of byte offset off. */
static void where(struct parser *p, size_t off, uint32_t *line, uint32_t *col)
{
        size_t i = 0, start = 0;
        uint32_t l = 1, c = 1;

        if (off > p->len)
                off = p->len;
        if (off >= p->line_start) {
                i = start = p->line_start;
                l = p->line;
        }
        for (; i < off; i++) {
                if (p->s[i] == '\n') {
                        l++;
                        start = i + 1;
                }
        }
        i = start;
        if (l == p->line && p->col_off >= start && p->col_off <= off) {
                i = p->col_off;
                c = p->col;
        }
        for (; i < off; i++) {
                if ((p->s[i] & 0xc0) != 0x80)
                        c++;
        }
        if (l == p->line) {
                p->col_off = off;
                p->col = c;
        }
        *line = l;
        *col = c;
}

__attribute__((format(printf, 3, 4))) static bool fail(struct parser *p, size_t off,
                                                       const char *fmt, ...)
{
        if (p->failed)
                return false;
        p->failed = true;
        where(p, off, &p->d->err.line, &p->d->err.col);
        va_list ap;
        va_start(ap, fmt);
        vtv_vsnprintf(p->d->err.msg, sizeof(p->d->err.msg), fmt, ap);
        va_end(ap);
        /* Keys quoted from the file may hold escaped control characters:
         * the message stays one printable line. */
        for (char *m = p->d->err.msg; *m; m++) {
                if ((unsigned char)*m < 0x20 || *m == 0x7f)
                        *m = '?';
        }
        return false;
}

/* What stands at off, for "found ..." in messages. */
static const char *describe(const struct parser *p, size_t off, char *buf, size_t size)
{
        if (off >= p->len)
                return "the end of the file";
        unsigned char c = p->s[off];
        if (c == '\n' || (c == '\r' && off + 1 < p->len && p->s[off + 1] == '\n'))
                return "the end of the line";
        if (c < 0x20 || c == 0x7f) {
                vtv_snprintf(buf, size, "control character U+%04X", c);
                return buf;
        }
        size_t n = 1;
        if (c >= 0x80) {
                while (off + n < p->len && n < 4 && (p->s[off + n] & 0xc0) == 0x80)
                        n++;
        }
        vtv_snprintf(buf, size, "'%.*s'", (int)n, (const char *)p->s + off);
        return buf;
}

/* ------------------------------------------------------------- characters */

static bool is_ws(unsigned char c)
{
        return c == ' ' || c == '\t';
}

static bool is_control(unsigned char c)
{
        return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool is_bare(unsigned char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
}

static bool is_digit(unsigned char c)
{
        return c >= '0' && c <= '9';
}

static bool at(const struct parser *p, size_t off, unsigned char c)
{
        return off < p->len && p->s[off] == c;
}

static bool eof(const struct parser *p)
{
        return p->pos >= p->len;
}

static bool at_newline(const struct parser *p)
{
        return at(p, p->pos, '\n') || (at(p, p->pos, '\r') && at(p, p->pos + 1, '\n'));
}

static void eat_newline(struct parser *p)
{
        p->pos += p->s[p->pos] == '\r' ? 2 : 1;
        p->line++;
        p->line_start = p->col_off = p->pos;
        p->col = 1;
}

static void skip_ws(struct parser *p)
{
        while (p->pos < p->len && is_ws(p->s[p->pos]))
                p->pos++;
}

/* A comment from '#' to the end of the line (not included). */
static bool skip_comment(struct parser *p)
{
        if (!at(p, p->pos, '#'))
                return true;
        for (; p->pos < p->len; p->pos++) {
                unsigned char c = p->s[p->pos];
                if (c == '\n' || (c == '\r' && at(p, p->pos + 1, '\n')))
                        return true;
                if (is_control(c))
                        return fail(p, p->pos,
                                    "control character U+%04X in a comment; remove it (TOML "
                                    "allows no control character but tab in comments)",
                                    c);
        }
        return true;
}

/* Whitespace, comments and newlines, as inside an array. */
static bool skip_ws_nl(struct parser *p)
{
        for (;;) {
                skip_ws(p);
                if (!skip_comment(p))
                        return false;
                if (!at_newline(p))
                        return true;
                eat_newline(p);
        }
}

/* After a key/value pair or a header: the rest of the line must be empty. */
static bool end_of_line(struct parser *p, const char *after)
{
        char buf[DESC_MAX];

        skip_ws(p);
        if (!skip_comment(p))
                return false;
        if (eof(p))
                return true;
        if (at_newline(p)) {
                eat_newline(p);
                return true;
        }
        return fail(p, p->pos,
                    "expected the end of the line after %s, found %s; put each key = value and "
                    "each [table] on a line of its own",
                    after, describe(p, p->pos, buf, sizeof(buf)));
}

/* The first invalid UTF-8 byte of s[0..len), or len. */
static size_t utf8_invalid(const unsigned char *s, size_t len)
{
        size_t i = 0;
        while (i < len) {
                unsigned char c = s[i];
                size_t n;
                uint32_t min, cp;
                if (c < 0x80) {
                        i++;
                        continue;
                } else if ((c & 0xe0) == 0xc0) {
                        n = 2, min = 0x80, cp = c & 0x1f;
                } else if ((c & 0xf0) == 0xe0) {
                        n = 3, min = 0x800, cp = c & 0x0f;
                } else if ((c & 0xf8) == 0xf0) {
                        n = 4, min = 0x10000, cp = c & 0x07;
                } else {
                        return i;
                }
                if (len - i < n)
                        return i;
                for (size_t k = 1; k < n; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return i;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return i;
                i += n;
        }
        return len;
}

/* ------------------------------------------------------------------ nodes */

static struct toml_node *node(const struct parser *p, uint32_t i)
{
        return &p->d->nodes[i];
}

static uint32_t new_node(struct parser *p, uint32_t parent, uint8_t type, size_t at_off)
{
        struct toml_doc *d = p->d;
        if (d->nnodes >= d->max_nodes) {
                fail(p, at_off,
                     "the file has more keys and values than vtvisor's TOML parser has room "
                     "for (%u); shorten it",
                     d->max_nodes);
                return TOML_NIL;
        }
        uint32_t i = d->nnodes++;
        struct toml_node *n = &d->nodes[i];
        vtv_memset(n, 0, sizeof(*n));
        n->type = type;
        n->key = TOML_NIL;
        n->parent = parent;
        n->next = n->first = n->last = TOML_NIL;
        where(p, at_off, &n->line, &n->col);
        struct toml_node *pa = &d->nodes[parent];
        if (pa->last == TOML_NIL)
                pa->first = i;
        else
                d->nodes[pa->last].next = i;
        pa->last = i;
        pa->count++;
        return i;
}

static bool pool_put(struct parser *p, const void *src, size_t n, size_t at_off)
{
        struct toml_doc *d = p->d;
        if (n > d->pool_size - d->pool_used)
                return fail(p, at_off,
                            "the file's keys and strings need more than the %u bytes vtvisor's "
                            "TOML parser has for them; shorten them",
                            d->pool_size);
        vtv_memcpy(d->pool + d->pool_used, src, n);
        d->pool_used += (uint32_t)n;
        return true;
}

static bool pool_byte(struct parser *p, unsigned char c, size_t at_off)
{
        return pool_put(p, &c, 1, at_off);
}

/* A decoded key or string: its place in the pool. */
struct text {
        uint32_t off, len;
        size_t src; /* where it starts in the input */
};

static uint32_t find_key(const struct parser *p, uint32_t table, const struct text *k)
{
        const struct toml_doc *d = p->d;
        for (uint32_t i = d->nodes[table].first; i != TOML_NIL; i = d->nodes[i].next) {
                const struct toml_node *n = &d->nodes[i];
                if (n->key_len == k->len && !vtv_memcmp(d->pool + n->key, d->pool + k->off, k->len))
                        return i;
        }
        return TOML_NIL;
}

static void set_key(struct parser *p, uint32_t i, const struct text *k)
{
        struct toml_node *n = node(p, i);
        n->key = k->off;
        n->key_len = k->len;
        where(p, k->src, &n->key_line, &n->key_col);
}

/* The key for messages: at most SHOW_MAX bytes of it. */
static int kshow_len(const struct toml_node *n)
{
        return n->key_len > SHOW_MAX ? SHOW_MAX : (int)n->key_len;
}

static const char *kshow(const struct parser *p, const struct toml_node *n)
{
        return p->d->pool + n->key;
}

/* ---------------------------------------------------------------- strings */

static bool put_utf8(struct parser *p, uint32_t cp, size_t at_off)
{
        unsigned char b[4];
        size_t n;
        if (cp < 0x80) {
                b[0] = (unsigned char)cp;
                n = 1;
        } else if (cp < 0x800) {
                b[0] = (unsigned char)(0xc0 | (cp >> 6));
                b[1] = (unsigned char)(0x80 | (cp & 0x3f));
                n = 2;
        } else if (cp < 0x10000) {
                b[0] = (unsigned char)(0xe0 | (cp >> 12));
                b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
                b[2] = (unsigned char)(0x80 | (cp & 0x3f));
                n = 3;
        } else {
                b[0] = (unsigned char)(0xf0 | (cp >> 18));
                b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
                b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
                b[3] = (unsigned char)(0x80 | (cp & 0x3f));
                n = 4;
        }
        return pool_put(p, b, n, at_off);
}

static bool escape(struct parser *p)
{
        size_t start = p->pos; /* the backslash */
        char buf[DESC_MAX];
        unsigned char c = p->pos + 1 < p->len ? p->s[p->pos + 1] : 0;
        unsigned char out;

        switch (c) {
        case 'b':
                out = '\b';
                break;
        case 't':
                out = '\t';
                break;
        case 'n':
                out = '\n';
                break;
        case 'f':
                out = '\f';
                break;
        case 'r':
                out = '\r';
                break;
        case '"':
                out = '"';
                break;
        case '\\':
                out = '\\';
                break;
        case 'u':
        case 'U': {
                unsigned digits = c == 'u' ? 4 : 8;
                uint32_t cp = 0;
                for (unsigned k = 0; k < digits; k++) {
                        size_t o = p->pos + 2 + k;
                        int h = o < p->len ? vtv_digit_value((char)p->s[o]) : -1;
                        if (h < 0)
                                return fail(p, start,
                                            "\\%c must be followed by %u hex digits (e.g. %s); "
                                            "write the character's code point in full",
                                            c, digits, c == 'u' ? "\\u00e9" : "\\U0001F600");
                        cp = (cp << 4) | (uint32_t)h;
                }
                if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return fail(p, start,
                                    "\\%c%0*X is not a Unicode scalar value (surrogates "
                                    "D800-DFFF and values above 10FFFF are not); write the "
                                    "character itself",
                                    c, (int)digits, cp);
                p->pos += 2 + digits;
                return put_utf8(p, cp, start);
        }
        default:
                if (p->pos + 1 >= p->len || c == '\n' || c == '\r')
                        return fail(p, start,
                                    "a backslash ends the line inside a string: multi-line "
                                    "strings are not supported by vtvisor's TOML subset; write "
                                    "the string on one line");
                char what[DESC_MAX + 16];
                if (c > 0x20 && c < 0x7f)
                        vtv_snprintf(what, sizeof(what), "\\%c", c);
                else
                        vtv_snprintf(what, sizeof(what), "\\ followed by %s",
                                     describe(p, p->pos + 1, buf, sizeof(buf)));
                return fail(p, start,
                            "unknown escape %s in a string; the escapes are \\b \\t \\n \\f "
                            "\\r \\\" \\\\ \\uXXXX \\UXXXXXXXX (write \\\\ for a backslash, or "
                            "use a 'literal string')",
                            what);
        }
        p->pos += 2;
        return pool_byte(p, out, start);
}

static bool refuse_multiline(struct parser *p)
{
        return fail(p, p->pos,
                    "multi-line strings (\"\"\" or ''') are not supported by vtvisor's TOML "
                    "subset; write the string on one line, with \\n for a line break");
}

/* A "basic" or 'literal' string at p->pos, decoded into the pool. */
static bool string(struct parser *p, struct text *t)
{
        unsigned char q = p->s[p->pos];
        size_t start = p->pos;

        if (at(p, p->pos + 1, q) && at(p, p->pos + 2, q))
                return refuse_multiline(p);
        t->src = start;
        t->off = p->d->pool_used;
        p->pos++;
        for (;;) {
                if (eof(p) || p->s[p->pos] == '\n' || p->s[p->pos] == '\r')
                        return fail(p, start,
                                    "this string has no closing %c on its line; close it (a "
                                    "string must be on one line in vtvisor's TOML subset)",
                                    q);
                unsigned char c = p->s[p->pos];
                if (c == q) {
                        p->pos++;
                        break;
                }
                if (q == '"' && c == '\\') {
                        if (!escape(p))
                                return false;
                        continue;
                }
                if (is_control(c))
                        return fail(p, p->pos,
                                    "control character U+%04X in a string; write it as \\u%04X "
                                    "in a \"basic string\"",
                                    c, c);
                if (!pool_byte(p, c, p->pos))
                        return false;
                p->pos++;
        }
        t->len = p->d->pool_used - t->off;
        return pool_byte(p, 0, start);
}

/* ------------------------------------------------------------------- keys */

/* One part of a (dotted) key. */
static bool key_part(struct parser *p, struct text *t)
{
        char buf[DESC_MAX];

        if (eof(p) || !(is_bare(p->s[p->pos]) || p->s[p->pos] == '"' || p->s[p->pos] == '\''))
                return fail(p, p->pos,
                            "expected a key, found %s; a key is letters, digits, '_' and '-', "
                            "or a quoted string",
                            describe(p, p->pos, buf, sizeof(buf)));
        if (!is_bare(p->s[p->pos]))
                return string(p, t);
        t->src = p->pos;
        t->off = p->d->pool_used;
        size_t b = p->pos;
        while (p->pos < p->len && is_bare(p->s[p->pos]))
                p->pos++;
        t->len = (uint32_t)(p->pos - b);
        return pool_put(p, p->s + b, p->pos - b, b) && pool_byte(p, 0, b);
}

/* After a key part: is there a dot, making it a table on the way? */
static bool dot_follows(struct parser *p)
{
        skip_ws(p);
        if (!at(p, p->pos, '.'))
                return false;
        p->pos++;
        skip_ws(p);
        return true;
}

/* ----------------------------------------------------------------- values */

static bool value(struct parser *p, uint32_t n, unsigned depth);

static bool keyval(struct parser *p, uint32_t table, unsigned depth);

static bool refuse_float(struct parser *p, size_t start, size_t len)
{
        return fail(p, start,
                    "'%.*s' is a float, and floats are not supported by vtvisor's TOML subset; "
                    "write an integer (sizes as a string with a unit, e.g. \"1536M\")",
                    (int)MIN(len, SHOW_MAX), (const char *)p->s + start);
}

static bool refuse_date(struct parser *p, size_t start, size_t len)
{
        return fail(p, start,
                    "'%.*s' is a date or time, and dates and times are not supported by "
                    "vtvisor's TOML subset; write it as a \"string\"",
                    (int)MIN(len, SHOW_MAX), (const char *)p->s + start);
}

static bool bad_integer(struct parser *p, size_t start, size_t len)
{
        return fail(p, start,
                    "'%.*s' is not a valid integer; write digits with '_' only between two of "
                    "them, e.g. 42, -7, 1_000, 0x2a, 0o52 or 0b101010",
                    (int)MIN(len, SHOW_MAX), (const char *)p->s + start);
}

static bool too_big(struct parser *p, size_t start, size_t len)
{
        return fail(p, start,
                    "integer '%.*s' does not fit in 64 bits; vtvisor's TOML integers go from "
                    "-9223372036854775808 to 9223372036854775807",
                    (int)MIN(len, SHOW_MAX), (const char *)p->s + start);
}

/* An integer token s[start..start+len), already known to be no float or
 * date: sign, digits of the base, '_' only between two digits. */
static bool integer(struct parser *p, uint32_t n, size_t start, size_t len)
{
        const unsigned char *t = p->s + start;
        size_t i = 0;
        bool neg = false;
        unsigned base = 10;

        if (t[0] == '+' || t[0] == '-') {
                neg = t[0] == '-';
                i = 1;
        }
        if (len - i >= 2 && t[i] == '0' && !is_digit(t[i + 1]) && t[i + 1] != '_') {
                unsigned char x = t[i + 1];
                if (x == 'x')
                        base = 16;
                else if (x == 'o')
                        base = 8;
                else if (x == 'b')
                        base = 2;
                else if (x == 'X' || x == 'O' || x == 'B')
                        return fail(p, start,
                                    "'%.*s': write the prefix in lower case (0x, 0o or 0b)",
                                    (int)MIN(len, SHOW_MAX), (const char *)t);
                else
                        return bad_integer(p, start, len);
                if (i)
                        return fail(p, start,
                                    "'%.*s': a sign is not allowed before 0x, 0o or 0b; "
                                    "write the value without it (or in decimal)",
                                    (int)MIN(len, SHOW_MAX), (const char *)t);
                i += 2;
        }
        size_t first = i;
        uint64_t v = 0;
        uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        bool big = false;
        for (; i < len; i++) {
                if (t[i] == '_') {
                        if (i == first || i + 1 == len || t[i + 1] == '_')
                                return fail(p, start + i,
                                            "'_' in '%.*s' must stand between two digits; "
                                            "remove it",
                                            (int)MIN(len, SHOW_MAX), (const char *)t);
                        continue;
                }
                int dv = vtv_digit_value((char)t[i]);
                if (dv < 0 || (unsigned)dv >= base)
                        return bad_integer(p, start, len);
                if (v > (limit - (uint64_t)dv) / base)
                        big = true;
                else
                        v = v * base + (uint64_t)dv;
        }
        if (i == first)
                return bad_integer(p, start, len);
        if (base == 10 && t[first] == '0' && len - first > 1)
                return fail(p, start,
                            "leading zeros are not allowed in the decimal integer '%.*s'; "
                            "remove them (or write 0o... for octal)",
                            (int)MIN(len, SHOW_MAX), (const char *)t);
        if (big)
                return too_big(p, start, len);
        struct toml_node *nd = node(p, n);
        nd->type = TOML_INTEGER;
        nd->v.integer = neg ? (int64_t)(0 - v) : (int64_t)v;
        return true;
}

static bool token_is(const unsigned char *t, size_t len, const char *word)
{
        return vtv_strlen(word) == len && !vtv_memcmp(t, word, len);
}

/* A bare value: boolean, integer, or a float or date to refuse. */
static bool bare_value(struct parser *p, uint32_t n)
{
        char buf[DESC_MAX];
        size_t start = p->pos;
        while (p->pos < p->len && (is_bare(p->s[p->pos]) || p->s[p->pos] == '+' ||
                                   p->s[p->pos] == '.' || p->s[p->pos] == ':'))
                p->pos++;
        size_t len = p->pos - start;
        const unsigned char *t = p->s + start;

        if (len == 0)
                return fail(p, start,
                            "expected a value, found %s; write a \"string\", an integer, true, "
                            "false, an [array] or an { inline = \"table\" }",
                            describe(p, start, buf, sizeof(buf)));
        if (token_is(t, len, "true") || token_is(t, len, "false")) {
                node(p, n)->type = TOML_BOOL;
                node(p, n)->v.boolean = t[0] == 't';
                return true;
        }
        size_t i = (t[0] == '+' || t[0] == '-') ? 1 : 0;
        if (token_is(t + i, len - i, "inf") || token_is(t + i, len - i, "nan"))
                return refuse_float(p, start, len);
        if (i == len || !is_digit(t[i])) {
                if (token_is(t, len, "True") || token_is(t, len, "False") ||
                    token_is(t, len, "TRUE") || token_is(t, len, "FALSE"))
                        return fail(p, start, "'%.*s' is not a value; write true or false",
                                    (int)len, (const char *)t);
                return fail(p, start, "'%.*s' is not a value; a string needs quotes: \"%.*s\"",
                            (int)MIN(len, SHOW_MAX), (const char *)t, (int)MIN(len, SHOW_MAX),
                            (const char *)t);
        }
        bool prefixed =
            len - i >= 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b');
        /* Dates start with four digits and '-', times have ':'. */
        bool date = false, flt = false;
        for (size_t k = 0; k < len; k++) {
                if (t[k] == ':')
                        date = true;
        }
        if (!i && len >= 5 && is_digit(t[0]) && is_digit(t[1]) && is_digit(t[2]) &&
            is_digit(t[3]) && t[4] == '-')
                date = true;
        if (date)
                return refuse_date(p, start, len);
        for (size_t k = 0; k < len; k++) {
                if (t[k] == '.' || (!prefixed && (t[k] == 'e' || t[k] == 'E')))
                        flt = true;
        }
        if (flt)
                return refuse_float(p, start, len);
        return integer(p, n, start, len);
}

static bool array(struct parser *p, uint32_t n, unsigned depth)
{
        char buf[DESC_MAX];
        uint32_t open_line = node(p, n)->line;

        node(p, n)->type = TOML_ARRAY;
        node(p, n)->flags |= TOML_F_INLINE;
        p->pos++; /* [ */
        for (;;) {
                if (!skip_ws_nl(p))
                        return false;
                if (at(p, p->pos, ']')) {
                        p->pos++;
                        return true;
                }
                uint32_t e = new_node(p, n, 0, p->pos);
                if (e == TOML_NIL || !value(p, e, depth + 1) || !skip_ws_nl(p))
                        return false;
                if (at(p, p->pos, ',')) {
                        p->pos++;
                        continue;
                }
                if (at(p, p->pos, ']')) {
                        p->pos++;
                        return true;
                }
                return fail(p, p->pos,
                            "expected ',' or ']' in the array opened on line %u, found %s; "
                            "separate the values with commas and close the array with ]",
                            open_line, describe(p, p->pos, buf, sizeof(buf)));
        }
}

static bool inline_table(struct parser *p, uint32_t n, unsigned depth)
{
        char buf[DESC_MAX];
        uint32_t saved = p->section;

        node(p, n)->type = TOML_TABLE;
        node(p, n)->flags |= TOML_F_INLINE | TOML_F_EXPLICIT;
        p->pos++; /* { */
        skip_ws(p);
        if (at(p, p->pos, '}')) {
                p->pos++;
                return true;
        }
        p->section = ++p->next_section;
        for (;;) {
                if (!keyval(p, n, depth + 1))
                        return false;
                skip_ws(p);
                if (at(p, p->pos, '}')) {
                        p->pos++;
                        break;
                }
                if (at(p, p->pos, ',')) {
                        p->pos++;
                        skip_ws(p);
                        if (at(p, p->pos, '}'))
                                return fail(p, p->pos,
                                            "a comma before '}' is not allowed in an inline "
                                            "table (TOML 1.0); remove it");
                        if (!(eof(p) || at_newline(p) || at(p, p->pos, '#')))
                                continue;
                }
                if (eof(p) || at_newline(p) || at(p, p->pos, '#'))
                        return fail(p, p->pos,
                                    "an inline table must end with '}' on the line where it "
                                    "starts (TOML 1.0); close it, or use a [table] instead");
                return fail(p, p->pos,
                            "expected ',' or '}' in the inline table, found %s; separate the "
                            "key = value pairs with commas",
                            describe(p, p->pos, buf, sizeof(buf)));
        }
        p->section = saved;
        return true;
}

static bool value(struct parser *p, uint32_t n, unsigned depth)
{
        if (depth > TOML_MAX_DEPTH)
                return fail(p, p->pos,
                            "arrays and inline tables are nested more than %d deep here; "
                            "flatten the value",
                            TOML_MAX_DEPTH);
        where(p, p->pos, &node(p, n)->line, &node(p, n)->col);
        if (at(p, p->pos, '"') || at(p, p->pos, '\'')) {
                struct text t;
                if (!string(p, &t))
                        return false;
                node(p, n)->type = TOML_STRING;
                node(p, n)->v.str.off = t.off;
                node(p, n)->v.str.len = t.len;
                return true;
        }
        if (at(p, p->pos, '['))
                return array(p, n, depth);
        if (at(p, p->pos, '{'))
                return inline_table(p, n, depth);
        return bare_value(p, n);
}

/* ----------------------------------------------------------- tables, keys */

/* key = value into table, the key possibly dotted. */
static bool keyval(struct parser *p, uint32_t table, unsigned depth)
{
        char buf[DESC_MAX];

        for (;;) {
                uint32_t mark = p->d->pool_used;
                struct text k;
                if (!key_part(p, &k))
                        return false;
                uint32_t found = find_key(p, table, &k);
                if (dot_follows(p)) {
                        if (found == TOML_NIL) {
                                found = new_node(p, table, TOML_TABLE, k.src);
                                if (found == TOML_NIL)
                                        return false;
                                set_key(p, found, &k);
                                node(p, found)->dotted_section = p->section;
                                table = found;
                                continue;
                        }
                        p->d->pool_used = mark;
                        struct toml_node *f = node(p, found);
                        if (f->type != TOML_TABLE)
                                return fail(p, k.src,
                                            "'%.*s' is already %s (line %u), so it cannot hold "
                                            "keys; rename one of the two",
                                            kshow_len(f), kshow(p, f),
                                            toml_type_name_a((enum toml_type)f->type), f->key_line);
                        if (f->flags & TOML_F_INLINE)
                                return fail(p, k.src,
                                            "table '%.*s' was written inline on line %u and is "
                                            "closed; add the key inside its { }",
                                            kshow_len(f), kshow(p, f), f->line);
                        if (f->flags & TOML_F_EXPLICIT)
                                return fail(p, k.src,
                                            "table '%.*s' has its own [header] (line %u); put "
                                            "the key under that header instead of using a "
                                            "dotted key",
                                            kshow_len(f), kshow(p, f), f->line);
                        /* Not inline, not under a header: made by dotted keys of this
                         * section or implicitly by a header (no other section's dotted
                         * table can be reached from here). */
                        f->dotted_section = p->section;
                        table = found;
                        continue;
                }
                if (found != TOML_NIL) {
                        struct toml_node *f = node(p, found);
                        return fail(p, k.src,
                                    "key '%.*s' is already defined (line %u); remove or rename "
                                    "one of the two",
                                    kshow_len(f), kshow(p, f), f->key_line);
                }
                uint32_t n = new_node(p, table, 0, k.src);
                if (n == TOML_NIL)
                        return false;
                set_key(p, n, &k);
                if (!at(p, p->pos, '='))
                        return fail(p, p->pos,
                                    "expected '=' after the key '%.*s', found %s; write key = "
                                    "value",
                                    (int)MIN(k.len, SHOW_MAX), p->d->pool + k.off,
                                    describe(p, p->pos, buf, sizeof(buf)));
                p->pos++;
                skip_ws(p);
                return value(p, n, depth);
        }
}

/* [a.b.c] or [[a.b.c]] at p->pos; on success p->d's current table is *out. */
static bool header(struct parser *p, uint32_t *out)
{
        char buf[DESC_MAX];
        size_t start = p->pos;
        bool aot = at(p, p->pos + 1, '[');
        uint32_t t = 0, result;

        p->pos += aot ? 2 : 1;
        skip_ws(p);
        for (;;) {
                struct text k;
                uint32_t mark = p->d->pool_used;
                if (!key_part(p, &k))
                        return false;
                uint32_t found = find_key(p, t, &k);
                bool last = !dot_follows(p);
                if (found != TOML_NIL)
                        p->d->pool_used = mark;
                struct toml_node *f = found != TOML_NIL ? node(p, found) : NULL;
                if (!last) {
                        if (!f) {
                                found = new_node(p, t, TOML_TABLE, k.src);
                                if (found == TOML_NIL)
                                        return false;
                                set_key(p, found, &k);
                                t = found;
                        } else if (f->type == TOML_ARRAY && (f->flags & TOML_F_ARRAY_OF_TABLES)) {
                                t = f->last;
                        } else if (f->type == TOML_TABLE && !(f->flags & TOML_F_INLINE)) {
                                t = found;
                        } else if (f->type == TOML_TABLE) {
                                return fail(p, k.src,
                                            "table '%.*s' was written inline on line %u and is "
                                            "closed; add to it inside its { }",
                                            kshow_len(f), kshow(p, f), f->line);
                        } else {
                                return fail(p, k.src,
                                            "'%.*s' is already %s (line %u), not a table; "
                                            "rename one of the two",
                                            kshow_len(f), kshow(p, f),
                                            toml_type_name_a((enum toml_type)f->type), f->key_line);
                        }
                        continue;
                }
                if (!f) {
                        found = new_node(p, t, aot ? TOML_ARRAY : TOML_TABLE, k.src);
                        if (found == TOML_NIL)
                                return false;
                        set_key(p, found, &k);
                        f = node(p, found);
                        f->flags = aot ? TOML_F_ARRAY_OF_TABLES : TOML_F_EXPLICIT;
                        where(p, start, &f->line, &f->col);
                } else if (aot) {
                        if (f->type != TOML_ARRAY || !(f->flags & TOML_F_ARRAY_OF_TABLES))
                                return fail(p, k.src,
                                            "[[...]] adds a table to an array of tables, but "
                                            "'%.*s' is already %s (line %u); rename one of the "
                                            "two",
                                            kshow_len(f), kshow(p, f),
                                            toml_type_name_a((enum toml_type)f->type), f->key_line);
                } else if (f->type == TOML_ARRAY && (f->flags & TOML_F_ARRAY_OF_TABLES)) {
                        return fail(p, k.src,
                                    "'%.*s' is an array of tables (line %u); write [[%.*s]] "
                                    "to add a table to it",
                                    kshow_len(f), kshow(p, f), f->line, kshow_len(f), kshow(p, f));
                } else if (f->type != TOML_TABLE) {
                        return fail(p, k.src,
                                    "'%.*s' is already %s (line %u), not a table; rename one of "
                                    "the two",
                                    kshow_len(f), kshow(p, f),
                                    toml_type_name_a((enum toml_type)f->type), f->key_line);
                } else if (f->flags & TOML_F_INLINE) {
                        return fail(p, k.src,
                                    "table '%.*s' was written inline on line %u and is closed; "
                                    "add to it inside its { }",
                                    kshow_len(f), kshow(p, f), f->line);
                } else if (f->flags & TOML_F_EXPLICIT) {
                        return fail(p, k.src,
                                    "table '%.*s' is defined twice (first on line %u); merge "
                                    "the two into one",
                                    kshow_len(f), kshow(p, f), f->line);
                } else if (f->dotted_section) {
                        return fail(p, k.src,
                                    "table '%.*s' was already defined with dotted keys (line "
                                    "%u); use those or the [header], not both",
                                    kshow_len(f), kshow(p, f), f->key_line);
                } else {
                        f->flags |= TOML_F_EXPLICIT;
                        where(p, start, &f->line, &f->col);
                }
                if (aot) {
                        uint32_t e = new_node(p, found, TOML_TABLE, start);
                        if (e == TOML_NIL)
                                return false;
                        node(p, e)->flags = TOML_F_EXPLICIT;
                        found = e;
                }
                result = found;
                break;
        }
        if (!at(p, p->pos, ']') || (aot && !at(p, p->pos + 1, ']'))) {
                size_t off = at(p, p->pos, ']') ? p->pos + 1 : p->pos;
                return fail(p, off,
                            "expected '%s' to close the table header, found %s; write [name] "
                            "for a table or [[name]] for an array of tables",
                            aot ? "]]" : "]", describe(p, off, buf, sizeof(buf)));
        }
        p->pos += aot ? 2 : 1;
        *out = result;
        return true;
}

/* ------------------------------------------------------------------ parse */

void toml_init(struct toml_doc *doc, struct toml_node *nodes, uint32_t max_nodes, char *pool,
               uint32_t pool_size)
{
        vtv_memset(doc, 0, sizeof(*doc));
        doc->nodes = nodes;
        doc->max_nodes = max_nodes;
        doc->pool = pool;
        doc->pool_size = pool_size;
}

bool toml_parse(struct toml_doc *doc, const char *text, size_t len)
{
        struct parser ps = {
                .d = doc, .s = (const unsigned char *)text, .len = len, .line = 1, .col = 1
        };
        struct parser *p = &ps;
        char buf[DESC_MAX];

        vtv_memset(&doc->err, 0, sizeof(doc->err));
        doc->nnodes = 0;
        doc->pool_used = 0;
        if (doc->max_nodes == 0)
                return fail(p, 0, "no memory was given for the TOML tree");
        /* The root: a table that is never defined twice. */
        struct toml_node *root = &doc->nodes[doc->nnodes++];
        vtv_memset(root, 0, sizeof(*root));
        root->type = TOML_TABLE;
        root->flags = TOML_F_EXPLICIT;
        root->key = TOML_NIL;
        root->parent = root->next = root->first = root->last = TOML_NIL;
        root->line = root->col = 1;

        size_t bad = utf8_invalid(p->s, len);
        if (bad < len)
                return fail(p, bad,
                            "byte 0x%02X is not valid UTF-8; save the file as UTF-8 (or write the "
                            "character as \\uXXXX in a \"string\")",
                            p->s[bad]);
        if (len >= 3 && p->s[0] == 0xef && p->s[1] == 0xbb && p->s[2] == 0xbf)
                p->pos = 3; /* byte order mark */

        uint32_t table = 0;
        p->section = p->next_section = 1;
        while (!p->failed) {
                skip_ws(p);
                if (!skip_comment(p))
                        break;
                if (eof(p))
                        return true;
                if (at_newline(p)) {
                        eat_newline(p);
                        continue;
                }
                unsigned char c = p->s[p->pos];
                if (c == '[') {
                        p->section = ++p->next_section;
                        if (!header(p, &table) || !end_of_line(p, "the table header"))
                                break;
                } else if (is_bare(c) || c == '"' || c == '\'') {
                        if (!keyval(p, table, 0) || !end_of_line(p, "the value"))
                                break;
                } else if (c == '\r') {
                        fail(p, p->pos,
                             "a carriage return (CR) must be followed by a line feed; save the "
                             "file with LF or CRLF line ends");
                } else {
                        fail(p, p->pos,
                             "expected a key, a [table] or a comment, found %s; a line holds "
                             "key = value, [table], [[array of tables]] or # comment",
                             describe(p, p->pos, buf, sizeof(buf)));
                }
        }
        return false;
}

/* ------------------------------------------------------------- accessors */

const struct toml_node *toml_root(const struct toml_doc *doc)
{
        return doc->nnodes ? &doc->nodes[0] : NULL;
}

static const struct toml_node *at_index(const struct toml_doc *doc, uint32_t i)
{
        return i == TOML_NIL || i >= doc->nnodes ? NULL : &doc->nodes[i];
}

const struct toml_node *toml_first(const struct toml_doc *doc, const struct toml_node *n)
{
        if (!n || (n->type != TOML_TABLE && n->type != TOML_ARRAY))
                return NULL;
        return at_index(doc, n->first);
}

const struct toml_node *toml_next(const struct toml_doc *doc, const struct toml_node *n)
{
        return n ? at_index(doc, n->next) : NULL;
}

const struct toml_node *toml_parent(const struct toml_doc *doc, const struct toml_node *n)
{
        return n ? at_index(doc, n->parent) : NULL;
}

const struct toml_node *toml_get(const struct toml_doc *doc, const struct toml_node *t,
                                 const char *key)
{
        if (!t || t->type != TOML_TABLE)
                return NULL;
        size_t len = vtv_strlen(key);
        for (const struct toml_node *c = toml_first(doc, t); c; c = toml_next(doc, c)) {
                if (c->key_len == len && !vtv_memcmp(doc->pool + c->key, key, len))
                        return c;
        }
        return NULL;
}

const char *toml_key(const struct toml_doc *doc, const struct toml_node *n, size_t *len)
{
        if (!n || n->key == TOML_NIL) {
                if (len)
                        *len = 0;
                return "";
        }
        if (len)
                *len = n->key_len;
        return doc->pool + n->key;
}

const char *toml_str(const struct toml_doc *doc, const struct toml_node *n, size_t *len)
{
        if (!n || n->type != TOML_STRING)
                return NULL;
        if (len)
                *len = n->v.str.len;
        return doc->pool + n->v.str.off;
}

const char *toml_type_name(enum toml_type t)
{
        switch (t) {
        case TOML_TABLE:
                return "table";
        case TOML_ARRAY:
                return "array";
        case TOML_STRING:
                return "string";
        case TOML_INTEGER:
                return "integer";
        case TOML_BOOL:
                return "boolean";
        }
        return "value";
}

const char *toml_type_name_a(enum toml_type t)
{
        switch (t) {
        case TOML_TABLE:
                return "a table";
        case TOML_ARRAY:
                return "an array";
        case TOML_STRING:
                return "a string";
        case TOML_INTEGER:
                return "an integer";
        case TOML_BOOL:
                return "a boolean";
        }
        return "a value";
}
