/* Host unit tests for config/toml.c: vtvisor's TOML subset. */
#include "tests/unit/check_compat.h"
#include "config/toml.h"

#define NODES 256
#define POOL  4096

static struct toml_node nodes[NODES];
static char pool[POOL];
static struct toml_doc doc;

static bool parse_n(const char *text, size_t len)
{
        toml_init(&doc, nodes, NODES, pool, POOL);
        return toml_parse(&doc, text, len);
}

static bool parse(const char *text)
{
        return parse_n(text, strlen(text));
}

static const struct toml_node *get(const char *key)
{
        return toml_get(&doc, toml_root(&doc), key);
}

/* The entry at a dotted path of bare keys, e.g. "a.b.c". */
static const struct toml_node *path(const char *p)
{
        const struct toml_node *n = toml_root(&doc);
        char part[64];
        while (n && *p) {
                size_t len = strcspn(p, ".");
                ck_assert_uint_lt(len, sizeof(part));
                memcpy(part, p, len);
                part[len] = '\0';
                n = toml_get(&doc, n, part);
                p += len + (p[len] == '.');
        }
        return n;
}

static int64_t integer(const char *key)
{
        const struct toml_node *n = path(key);
        ck_assert_msg(n && n->type == TOML_INTEGER, "%s is not an integer", key);
        return n->v.integer;
}

static const char *str(const char *key, size_t *len)
{
        const struct toml_node *n = path(key);
        ck_assert_msg(n && n->type == TOML_STRING, "%s is not a string", key);
        return toml_str(&doc, n, len);
}

/* Parsing text fails at line:col with a message containing want. */
static void refused_at(const char *text, uint32_t line, uint32_t col, const char *want)
{
        ck_assert_msg(!parse(text), "accepted: %s", text);
        ck_assert_msg(strstr(doc.err.msg, want), "for %s: message '%s' lacks '%s'", text,
                      doc.err.msg, want);
        ck_assert_msg(doc.err.line == line && doc.err.col == col,
                      "for %s: error at %u:%u, expected %u:%u (%s)", text, doc.err.line,
                      doc.err.col, line, col, doc.err.msg);
}

START_TEST(empty_and_comments)
{
        ck_assert(parse(""));
        ck_assert_uint_eq(doc.nnodes, 1);
        ck_assert_int_eq(toml_root(&doc)->type, TOML_TABLE);
        ck_assert_ptr_null(toml_first(&doc, toml_root(&doc)));
        ck_assert(parse("# only a comment"));
        ck_assert(parse("\n\n  \t\n# c\n   # c2\r\n"));
        ck_assert_uint_eq(doc.nnodes, 1);
        ck_assert(parse("a = 1 # trailing \t comment é\n"));
        ck_assert_int_eq(integer("a"), 1);
        /* A UTF-8 byte order mark is skipped. */
        ck_assert(parse("\xef\xbb\xbf"
                        "a = 2"));
        ck_assert_int_eq(integer("a"), 2);
}
END_TEST

START_TEST(strings)
{
        size_t len;
        ck_assert(
            parse("a = \"hello\"\nb = 'C:\\path\\n'\nc = \"\"\nd = ''\n"
                  "e = \"\\b\\t\\n\\f\\r\\\"\\\\\"\nf = \"caf\\u00e9 \\U0001F600\"\n"
                  "g = \"a\\u0000b\"\nh = \"grüße\"\ni = 'tab\there'\nj = \"# no comment\"\n"));
        ck_assert_str_eq(str("a", &len), "hello");
        ck_assert_uint_eq(len, 5);
        ck_assert_str_eq(str("b", NULL), "C:\\path\\n");
        ck_assert_str_eq(str("c", &len), "");
        ck_assert_uint_eq(len, 0);
        ck_assert_str_eq(str("d", NULL), "");
        ck_assert_str_eq(str("e", NULL), "\b\t\n\f\r\"\\");
        ck_assert_str_eq(str("f", NULL), "caf\xc3\xa9 \xf0\x9f\x98\x80");
        const char *g = str("g", &len);
        ck_assert_uint_eq(len, 3);
        ck_assert_mem_eq(g, "a\0b", 4);
        ck_assert_str_eq(str("h", NULL), "grüße");
        ck_assert_str_eq(str("i", NULL), "tab\there");
        ck_assert_str_eq(str("j", NULL), "# no comment");
        /* Every code point width, and the largest. */
        ck_assert(parse("a = \"\\u0041\\u00ff\\u0800\\uFFFF\\U00010000\\U0010FFFF\""));
        ck_assert_str_eq(str("a", &len), "A\xc3\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80"
                                         "\xf4\x8f\xbf\xbf");
        ck_assert_ptr_null(toml_str(&doc, toml_root(&doc), &len));
}
END_TEST

START_TEST(integers)
{
        ck_assert(parse("a = 0\nb = +0\nc = -0\nd = +99\ne = -17\nf = 1_000_000\n"
                        "g = 9_223_372_036_854_775_807\nh = -9223372036854775808\n"
                        "i = 0xdead_BEEF\nj = 0x00000001\nk = 0x7fffffffffffffff\nl = 0o755\n"
                        "m = 0o0\nn = 0b1101_0110\no = 0b0\n"));
        ck_assert_int_eq(integer("a"), 0);
        ck_assert_int_eq(integer("b"), 0);
        ck_assert_int_eq(integer("c"), 0);
        ck_assert_int_eq(integer("d"), 99);
        ck_assert_int_eq(integer("e"), -17);
        ck_assert_int_eq(integer("f"), 1000000);
        ck_assert(integer("g") == INT64_MAX);
        ck_assert(integer("h") == INT64_MIN);
        ck_assert_int_eq(integer("i"), 0xdeadbeef);
        ck_assert_int_eq(integer("j"), 1);
        ck_assert(integer("k") == INT64_MAX);
        ck_assert_int_eq(integer("l"), 0755);
        ck_assert_int_eq(integer("m"), 0);
        ck_assert_int_eq(integer("n"), 0xd6);
        ck_assert_int_eq(integer("o"), 0);
}
END_TEST

START_TEST(booleans_and_arrays)
{
        ck_assert(parse("t = true\nf = false\n"
                        "a = [1, \"two\", true, [3], { x = 4 }]\n"
                        "e = []\n"
                        "m = [\n  1, # one\n  # own line\n  2,\n]\n"
                        "n = [[1, 2], [], [[3]]]\n"));
        ck_assert_int_eq(path("t")->type, TOML_BOOL);
        ck_assert(path("t")->v.boolean);
        ck_assert(!path("f")->v.boolean);
        const struct toml_node *a = get("a");
        ck_assert_int_eq(a->type, TOML_ARRAY);
        ck_assert_uint_eq(a->count, 5);
        const struct toml_node *e = toml_first(&doc, a);
        ck_assert_int_eq(e->type, TOML_INTEGER);
        ck_assert_ptr_eq(toml_parent(&doc, e), a);
        size_t klen = 9;
        ck_assert_str_eq(toml_key(&doc, e, &klen), "");
        ck_assert_uint_eq(klen, 0);
        e = toml_next(&doc, e);
        ck_assert_str_eq(toml_str(&doc, e, NULL), "two");
        e = toml_next(&doc, e);
        ck_assert_int_eq(e->type, TOML_BOOL);
        e = toml_next(&doc, e);
        ck_assert_int_eq(e->type, TOML_ARRAY);
        ck_assert_uint_eq(e->count, 1);
        e = toml_next(&doc, e);
        ck_assert_int_eq(e->type, TOML_TABLE);
        ck_assert_int_eq(toml_get(&doc, e, "x")->v.integer, 4);
        ck_assert_ptr_null(toml_next(&doc, e));
        ck_assert_uint_eq(get("e")->count, 0);
        ck_assert_ptr_null(toml_first(&doc, get("e")));
        ck_assert_uint_eq(get("m")->count, 2);
        ck_assert_uint_eq(get("n")->count, 3);
        ck_assert_ptr_null(toml_first(&doc, path("t")));
}
END_TEST

START_TEST(keys)
{
        size_t len;
        ck_assert(parse("bare_key = 1\nbare-key = 2\n1234 = 3\n\"\" = 4\n\"q \\\"k\\\"\" = 5\n"
                        "'lit key' = 6\n\"a.b\" = 7\nsite.\"google.com\" = 8\n x . y . z = 9\n"
                        "true = 10\n"));
        ck_assert_int_eq(integer("bare_key"), 1);
        ck_assert_int_eq(integer("bare-key"), 2);
        ck_assert_int_eq(integer("1234"), 3);
        ck_assert_int_eq(toml_get(&doc, toml_root(&doc), "")->v.integer, 4);
        ck_assert_int_eq(toml_get(&doc, toml_root(&doc), "q \"k\"")->v.integer, 5);
        ck_assert_int_eq(toml_get(&doc, toml_root(&doc), "lit key")->v.integer, 6);
        ck_assert_int_eq(toml_get(&doc, toml_root(&doc), "a.b")->v.integer, 7);
        ck_assert_int_eq(toml_get(&doc, get("site"), "google.com")->v.integer, 8);
        ck_assert_int_eq(integer("x.y.z"), 9);
        ck_assert_int_eq(integer("true"), 10);
        ck_assert_str_eq(toml_key(&doc, get("bare-key"), &len), "bare-key");
        ck_assert_uint_eq(len, 8);
        ck_assert_ptr_null(get("missing"));
        ck_assert_ptr_null(toml_get(&doc, get("bare_key"), "x"));
        /* Entries come in the order written. */
        const struct toml_node *n = toml_first(&doc, toml_root(&doc));
        ck_assert_str_eq(toml_key(&doc, n, NULL), "bare_key");
        ck_assert_str_eq(toml_key(&doc, toml_next(&doc, n), NULL), "bare-key");
}
END_TEST

START_TEST(tables_and_arrays_of_tables)
{
        ck_assert(parse("top = 1\n[a]\nx = 1\n[a.b.c]\ny = 2\n[d.e]\n[d]\nz = 3\n"
                        "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n"
                        "[fruit.apple.texture]\nsmooth = true\n"
                        "[p.q.r]\n[p]\nq.s = 4\n"
                        "[[vm]]\nname = \"one\"\n[vm.sub]\nk = 5\n[[vm.disk]]\nn = 1\n"
                        "[[vm.disk]]\nn = 2\n[[vm]]\nname = \"two\"\n"));
        ck_assert_int_eq(integer("top"), 1);
        ck_assert_int_eq(integer("a.x"), 1);
        ck_assert_int_eq(integer("a.b.c.y"), 2);
        ck_assert_int_eq(integer("d.z"), 3);
        ck_assert_int_eq(path("d.e")->type, TOML_TABLE);
        ck_assert_int_eq(path("fruit.apple.taste.sweet")->type, TOML_BOOL);
        ck_assert_int_eq(path("fruit.apple.texture.smooth")->type, TOML_BOOL);
        ck_assert_int_eq(integer("p.q.s"), 4);
        const struct toml_node *vm = get("vm");
        ck_assert_int_eq(vm->type, TOML_ARRAY);
        ck_assert(vm->flags & TOML_F_ARRAY_OF_TABLES);
        ck_assert_uint_eq(vm->count, 2);
        const struct toml_node *v0 = toml_first(&doc, vm), *v1 = toml_next(&doc, v0);
        ck_assert_str_eq(toml_str(&doc, toml_get(&doc, v0, "name"), NULL), "one");
        ck_assert_str_eq(toml_str(&doc, toml_get(&doc, v1, "name"), NULL), "two");
        ck_assert_int_eq(toml_get(&doc, toml_get(&doc, v0, "sub"), "k")->v.integer, 5);
        ck_assert_uint_eq(toml_get(&doc, v0, "disk")->count, 2);
        ck_assert_ptr_null(toml_get(&doc, v1, "disk"));
        /* Inline tables, with dotted keys inside. */
        ck_assert(parse("a = { x = 1, y.z = 2, y.w = 3 }\nb = {}\n"));
        ck_assert_int_eq(integer("a.y.w"), 3);
        ck_assert_uint_eq(get("b")->count, 0);
        /* Each [[vm]] starts afresh: the same sub-table again. */
        ck_assert(parse("[[a]]\n[a.b]\n[[a]]\n[a.b]\n"));
        ck_assert(parse("[[a]]\nx.y = 1\n[[a]]\nx.y = 2\n"));
}
END_TEST

START_TEST(positions)
{
        ck_assert(parse("# x\n[[vm]]\nname = \"é\"\n  mem\t= 5\r\nk = [1,\n  2]\n"));
        const struct toml_node *vm = toml_first(&doc, get("vm"));
        ck_assert_uint_eq(vm->line, 2);
        ck_assert_uint_eq(vm->col, 1);
        const struct toml_node *n = toml_get(&doc, vm, "name");
        ck_assert_uint_eq(n->key_line, 3);
        ck_assert_uint_eq(n->key_col, 1);
        ck_assert_uint_eq(n->line, 3);
        ck_assert_uint_eq(n->col, 8);
        n = toml_get(&doc, vm, "mem");
        ck_assert_uint_eq(n->key_line, 4);
        ck_assert_uint_eq(n->key_col, 3);
        ck_assert_uint_eq(n->col, 9);
        n = toml_get(&doc, vm, "k");
        ck_assert_uint_eq(n->line, 5);
        n = toml_next(&doc, toml_first(&doc, n));
        ck_assert_uint_eq(n->line, 6);
        ck_assert_uint_eq(n->col, 3);
        /* Columns count characters, not bytes. */
        refused_at("a = \"ééé\" x", 1, 11, "expected the end of the line");
}
END_TEST

/* Every message of the parser, with where it points. */
static const struct {
        const char *text;
        uint32_t line, col;
        const char *msg;
} bad[] = {
        /* Outside the subset. */
        { "a = 1.5", 1, 5,
          "'1.5' is a float, and floats are not supported by vtvisor's TOML subset; write an "
          "integer (sizes as a string with a unit, e.g. \"1536M\")" },
        { "a = 1e6", 1, 5, "floats are not supported by vtvisor's TOML subset" },
        { "a = -2E-3", 1, 5, "'-2E-3' is a float" },
        { "a = inf", 1, 5, "'inf' is a float" },
        { "a = -nan", 1, 5, "'-nan' is a float" },
        { "a = 1979-05-27T07:32:00Z", 1, 5,
          "'1979-05-27T07:32:00Z' is a date or time, and dates and times are not supported by "
          "vtvisor's TOML subset; write it as a \"string\"" },
        { "a = 1979-05-27", 1, 5, "dates and times are not supported by vtvisor's TOML subset" },
        { "a = 07:32:00", 1, 5, "'07:32:00' is a date or time" },
        { "a = \"\"\"x\"\"\"", 1, 5,
          "multi-line strings (\"\"\" or ''') are not supported by vtvisor's TOML subset; write "
          "the string on one line, with \\n for a line break" },
        { "a = '''x'''", 1, 5, "multi-line strings" },
        { "\"\"\"k\"\"\" = 1", 1, 1, "multi-line strings" },
        { "a = \"x\\\ny\"", 1, 7,
          "a backslash ends the line inside a string: multi-line strings are not supported by "
          "vtvisor's TOML subset; write the string on one line" },
        /* Integers. */
        { "a = 9223372036854775808", 1, 5,
          "integer '9223372036854775808' does not fit in 64 bits; vtvisor's TOML integers go "
          "from -9223372036854775808 to 9223372036854775807" },
        { "a = -9223372036854775809", 1, 5, "does not fit in 64 bits" },
        { "a = 0x8000000000000000", 1, 5, "does not fit in 64 bits" },
        { "a = 0b1111111111111111111111111111111111111111111111111111111111111111", 1, 5,
          "does not fit in 64 bits" },
        { "a = 0755", 1, 5,
          "leading zeros are not allowed in the decimal integer '0755'; remove them (or write "
          "0o... for octal)" },
        { "a = 00", 1, 5, "leading zeros" },
        { "a = 0_1", 1, 5, "leading zeros" },
        { "a = 1__0", 1, 6, "'_' in '1__0' must stand between two digits; remove it" },
        { "a = 1_", 1, 6, "'_' in '1_' must stand between two digits" },
        { "a = 0x_1", 1, 7, "must stand between two digits" },
        { "a = -0x10", 1, 5,
          "'-0x10': a sign is not allowed before 0x, 0o or 0b; write the value without it (or "
          "in decimal)" },
        { "a = 0X10", 1, 5, "'0X10': write the prefix in lower case (0x, 0o or 0b)" },
        { "a = 0b102", 1, 5,
          "'0b102' is not a valid integer; write digits with '_' only between two of them, "
          "e.g. 42, -7, 1_000, 0x2a, 0o52 or 0b101010" },
        { "a = 0o8", 1, 5, "'0o8' is not a valid integer" },
        { "a = 0x", 1, 5, "'0x' is not a valid integer" },
        { "a = 0z", 1, 5, "'0z' is not a valid integer" },
        { "a = 1-2", 1, 5, "'1-2' is not a valid integer" },
        { "a = +", 1, 5, "'+' is not a value" },
        /* Values. */
        { "a = hello", 1, 5, "'hello' is not a value; a string needs quotes: \"hello\"" },
        { "a = True", 1, 5, "'True' is not a value; write true or false" },
        { "a = truex", 1, 5, "'truex' is not a value" },
        { "a =", 1, 4,
          "expected a value, found the end of the file; write a \"string\", an integer, true, "
          "false, an [array] or an { inline = \"table\" }" },
        { "a = \n", 1, 5, "expected a value, found the end of the line" },
        { "a = ,", 1, 5, "expected a value, found ','" },
        { "a = [1 2]", 1, 8,
          "expected ',' or ']' in the array opened on line 1, found '2'; separate the values "
          "with commas and close the array with ]" },
        { "a = [1,\n2", 2, 2,
          "expected ',' or ']' in the array opened on line 1, found the end "
          "of the file" },
        { "a = [,]", 1, 6, "expected a value, found ','" },
        { "a = ["
          "[[[[[[[[[[[[[[[[[["
          "]]]]]]]]]]]]]]]]]]"
          "]",
          1, 22, "arrays and inline tables are nested more than 16 deep here; flatten the value" },
        { "a = { b = 1, }", 1, 14,
          "a comma before '}' is not allowed in an inline table (TOML 1.0); remove it" },
        { "a = { b = 1,\n c = 2 }", 1, 13,
          "an inline table must end with '}' on the line where it starts (TOML 1.0); close it, "
          "or use a [table] instead" },
        { "a = { b = 1", 1, 12, "an inline table must end with '}' on the line" },
        { "a = { b = 1 c = 2 }", 1, 13,
          "expected ',' or '}' in the inline table, found 'c'; separate the key = value pairs "
          "with commas" },
        { "a = { b = 1, b = 2 }", 1, 14, "key 'b' is already defined (line 1)" },
        /* Strings. */
        { "a = \"abc", 1, 5,
          "this string has no closing \" on its line; close it (a string must be on one line "
          "in vtvisor's TOML subset)" },
        { "a = 'abc\nb = 1", 1, 5, "this string has no closing ' on its line" },
        { "a = \"a\\qb\"", 1, 7,
          "unknown escape \\q in a string; the escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX "
          "\\UXXXXXXXX (write \\\\ for a backslash, or use a 'literal string')" },
        { "a = \"\\e\"", 1, 6, "unknown escape \\e" },
        { "a = \"\\ x\"", 1, 6, "unknown escape \\ followed by ' ' in a string" },
        { "a = \"\\u12\"", 1, 6,
          "\\u must be followed by 4 hex digits (e.g. \\u00e9); write the character's code "
          "point in full" },
        { "a = \"\\U1234\"", 1, 6, "\\U must be followed by 8 hex digits (e.g. \\U0001F600)" },
        { "a = \"\\uD800\"", 1, 6,
          "\\uD800 is not a Unicode scalar value (surrogates D800-DFFF and values above 10FFFF "
          "are not); write the character itself" },
        { "a = \"\\U00110000\"", 1, 6, "\\U00110000 is not a Unicode scalar value" },
        { "a = \"x\x01\"", 1, 7,
          "control character U+0001 in a string; write it as \\u0001 in a \"basic string\"" },
        { "a = 'x\x7f'", 1, 7, "control character U+007F in a string" },
        { "a = \"x\ry\"", 1, 5, "this string has no closing \" on its line" },
        /* Keys and lines. */
        { "= 1", 1, 1,
          "expected a key, a [table] or a comment, found '='; a line holds key = value, "
          "[table], [[array of tables]] or # comment" },
        { "a 1", 1, 3, "expected '=' after the key 'a', found '1'; write key = value" },
        { "a", 1, 2, "expected '=' after the key 'a', found the end of the file" },
        { "a.", 1, 3,
          "expected a key, found the end of the file; a key is letters, digits, '_' and '-', or "
          "a quoted string" },
        { "a..b = 1", 1, 3, "expected a key, found '.'" },
        { "a = 1 b = 2", 1, 7,
          "expected the end of the line after the value, found 'b'; put each key = value and "
          "each [table] on a line of its own" },
        { "[a] b = 1", 1, 5, "expected the end of the line after the table header, found 'b'" },
        { "a = 1\n\rb = 2", 2, 1,
          "a carriage return (CR) must be followed by a line feed; save the file with LF or "
          "CRLF line ends" },
        { "a = 1\r", 1, 6,
          "expected the end of the line after the value, found control "
          "character U+000D" },
        { "# a \x01 b", 1, 5,
          "control character U+0001 in a comment; remove it (TOML allows no control character "
          "but tab in comments)" },
        { "a = 1 # \x7f", 1, 9, "control character U+007F in a comment" },
        { "# x\r", 1, 4, "control character U+000D in a comment" },
        { "x = 1\n\x01", 2, 1, "found control character U+0001" },
        { "a = \"\xff\"", 1, 6,
          "byte 0xFF is not valid UTF-8; save the file as UTF-8 (or write the character as "
          "\\uXXXX in a \"string\")" },
        { "a = 1 # \xc3\x28", 1, 9, "byte 0xC3 is not valid UTF-8" },
        { "\xc0\xaf", 1, 1, "byte 0xC0 is not valid UTF-8" },         /* overlong */
        { "\xed\xa0\x80", 1, 1, "byte 0xED is not valid UTF-8" },     /* surrogate */
        { "\xf4\x90\x80\x80", 1, 1, "byte 0xF4 is not valid UTF-8" }, /* > 10FFFF */
        { "é = 1", 1, 1, "found 'é'" },
        { "a = 1 # \xe2\x82", 1, 9, "byte 0xE2 is not valid UTF-8" }, /* cut short */
        /* Tables. */
        { "[a\n", 1, 3, "expected ']' to close the table header, found the end of the line" },
        { "[[a]\n", 1, 5, "expected ']]' to close the table header, found the end of the line" },
        { "[]", 1, 2, "expected a key, found ']'" },
        { "a = 1\na = 2", 2, 1,
          "key 'a' is already defined (line 1); remove or rename one of the two" },
        { "a = 1\n\"a\" = 2", 2, 1, "key 'a' is already defined (line 1)" },
        { "\"a\\nb\\u001b\" = 1\n\"a\\nb\\u001b\" = 2", 2, 1,
          "key 'a?b?' is already defined (line 1)" }, /* one printable line */
        { "[a]\nx = 1\n[a]", 3, 2,
          "table 'a' is defined twice (first on line 1); merge the two into one" },
        { "[a.b]\n[a.b]", 2, 4, "table 'b' is defined twice (first on line 1)" },
        { "a.b = 1\n[a]", 2, 2,
          "table 'a' was already defined with dotted keys (line 1); use those or the "
          "[header], not both" },
        { "[a]\nb.c = 1\n[a.b]", 3, 4, "table 'b' was already defined with dotted keys (line 2)" },
        { "[a.b]\n[a]\nb.c = 1", 3, 1,
          "table 'b' has its own [header] (line 1); put the key under that header instead of "
          "using a dotted key" },
        { "[a]\nx.y = 1\n[b]\n[a]\nx.z = 1", 4, 2, "table 'a' is defined twice" },
        { "[t]\nx.y = 1\n[t.x.z]\n[u]\n[[v]]\nw.a = 1\n[t.q]\n", 0, 0, NULL }, /* accepted */
        { "a = 1\na.b = 2", 2, 1,
          "'a' is already an integer (line 1), so it cannot hold keys; rename one of the two" },
        { "a = { b = 1 }\na.c = 2", 2, 1,
          "table 'a' was written inline on line 1 and is closed; add the key inside its { }" },
        { "a = { b = 1 }\n[a.c]", 2, 2,
          "table 'a' was written inline on line 1 and is closed; add to it inside its { }" },
        { "a = { b = 1 }\n[a]", 2, 2, "table 'a' was written inline on line 1 and is closed" },
        { "a = {}\n[[a]]", 2, 3,
          "[[...]] adds a table to an array of tables, but 'a' is already a table (line 1); "
          "rename one of the two" },
        { "[a]\n[[a]]", 2, 3,
          "[[...]] adds a table to an array of tables, but 'a' is already "
          "a table (line 1)" },
        { "a = []\n[[a]]", 2, 3, "but 'a' is already an array (line 1)" },
        { "[[a]]\n[a]", 2, 2,
          "'a' is an array of tables (line 1); write [[a]] to add a table to it" },
        { "a = 1\n[a]", 2, 2,
          "'a' is already an integer (line 1), not a table; rename one of "
          "the two" },
        { "a = 1\n[a.b]", 2, 2, "'a' is already an integer (line 1), not a table" },
        { "a = [1]\n[a.b]", 2, 2, "'a' is already an array (line 1), not a table" },
        { "x = {a = {}, a.b = 1}", 1, 14, "table 'a' was written inline on line 1 and is closed" },
        { "x = {a.b = 1, a = 2}", 1, 15, "key 'a' is already defined (line 1)" },
};

START_TEST(every_error_message)
{
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                if (!bad[i].msg) {
                        ck_assert_msg(parse(bad[i].text), "refused: %s: %s", bad[i].text,
                                      doc.err.msg);
                        continue;
                }
                refused_at(bad[i].text, bad[i].line, bad[i].col, bad[i].msg);
        }
}
END_TEST

START_TEST(memory_limits)
{
        /* Out of nodes: the root and 3 more. */
        toml_init(&doc, nodes, 4, pool, POOL);
        ck_assert(toml_parse(&doc, "a = 1\nb = 2\nc = 3", 17));
        ck_assert(!toml_parse(&doc, "a = 1\nb = 2\nc = 3\nd = 4", 23));
        ck_assert_str_eq(doc.err.msg, "the file has more keys and values than vtvisor's TOML "
                                      "parser has room for (4); shorten it");
        ck_assert_uint_eq(doc.err.line, 4);
        ck_assert_uint_eq(doc.err.col, 1);
        /* Out of pool: "a\0" and "xyz\0" fit in 6 bytes, not another key. */
        toml_init(&doc, nodes, NODES, pool, 6);
        ck_assert(toml_parse(&doc, "a = \"xyz\"", 9));
        ck_assert(!toml_parse(&doc, "a = \"xyz\"\nb = 1", 15));
        ck_assert_str_eq(doc.err.msg, "the file's keys and strings need more than the 6 bytes "
                                      "vtvisor's TOML parser has for them; shorten them");
        ck_assert_uint_eq(doc.err.line, 2);
        toml_init(&doc, nodes, 0, pool, POOL);
        ck_assert(!toml_parse(&doc, "", 0));
        ck_assert_str_eq(doc.err.msg, "no memory was given for the TOML tree");
        /* A NUL byte in the text is a control character, not the end. */
        ck_assert(!parse_n("a = 1\0", 6));
        ck_assert_str_eq(doc.err.msg, "expected the end of the line after the value, found "
                                      "control character U+0000; put each key = value and "
                                      "each [table] on a line of its own");
        /* The same doc parses again from scratch. */
        ck_assert(parse("a = 1"));
        ck_assert(parse("a = 2"));
        ck_assert_int_eq(integer("a"), 2);
        ck_assert_uint_eq(doc.nnodes, 2);
}
END_TEST

START_TEST(type_names)
{
        ck_assert_str_eq(toml_type_name(TOML_TABLE), "table");
        ck_assert_str_eq(toml_type_name(TOML_ARRAY), "array");
        ck_assert_str_eq(toml_type_name(TOML_STRING), "string");
        ck_assert_str_eq(toml_type_name(TOML_INTEGER), "integer");
        ck_assert_str_eq(toml_type_name(TOML_BOOL), "boolean");
        ck_assert_str_eq(toml_type_name((enum toml_type)0), "value");
        ck_assert_str_eq(toml_type_name_a(TOML_TABLE), "a table");
        ck_assert_str_eq(toml_type_name_a(TOML_ARRAY), "an array");
        ck_assert_str_eq(toml_type_name_a(TOML_STRING), "a string");
        ck_assert_str_eq(toml_type_name_a(TOML_INTEGER), "an integer");
        ck_assert_str_eq(toml_type_name_a(TOML_BOOL), "a boolean");
        ck_assert_str_eq(toml_type_name_a((enum toml_type)0), "a value");
        ck_assert_ptr_null(toml_first(&doc, NULL));
        ck_assert_ptr_null(toml_next(&doc, NULL));
        ck_assert_ptr_null(toml_parent(&doc, NULL));
        ck_assert_ptr_null(toml_get(&doc, NULL, "a"));
        ck_assert_ptr_null(toml_str(&doc, NULL, NULL));
        ck_assert_str_eq(toml_key(&doc, NULL, NULL), "");
}
END_TEST

/* Inputs the fuzzer (tests/fuzz/fuzz_toml.c) found, kept as regressions. */
START_TEST(fuzz_regressions)
{
        /* Deep nesting must end with an error, not a stack overflow. */
        char deep[2048];
        memset(deep, 0, sizeof(deep));
        memcpy(deep, "a = ", 4);
        memset(deep + 4, '[', 1000);
        ck_assert(!parse(deep));
        ck_assert_ptr_nonnull(strstr(doc.err.msg, "nested more than 16 deep"));
        memcpy(deep, "a = ", 4);
        for (size_t i = 0; i < 500; i++)
                memcpy(deep + 4 + 2 * i, "{b", 2);
        deep[1004] = '\0';
        ck_assert(!parse(deep));
        /* A dotted key of 200 parts makes a tree deeper than values may
         * nest; that is fine (the fuzzer's first depth bound was wrong). */
        for (size_t i = 0; i < 200; i++)
                memcpy(deep + 2 * i, "5.", 2);
        memcpy(deep + 399, " = 1", 5);
        ck_assert_msg(parse(deep), "%s", doc.err.msg);
        ck_assert_uint_eq(doc.nnodes, 201);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("toml");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, empty_and_comments);
        tcase_add_test(tc, strings);
        tcase_add_test(tc, integers);
        tcase_add_test(tc, booleans_and_arrays);
        tcase_add_test(tc, keys);
        tcase_add_test(tc, tables_and_arrays_of_tables);
        tcase_add_test(tc, positions);
        tcase_add_test(tc, every_error_message);
        tcase_add_test(tc, memory_limits);
        tcase_add_test(tc, type_names);
        tcase_add_test(tc, fuzz_regressions);
        suite_add_tcase(s, tc);
        return unit_run_suite(s);
}
