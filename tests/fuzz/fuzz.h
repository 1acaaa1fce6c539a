/* Helpers shared by the libFuzzer targets in tests/fuzz/: the invariant
 * check that aborts with its name, and a reader that takes little-endian
 * fields off the front of the input and yields zeros once it runs out, so
 * a target never has to reject a short input. */
#ifndef VTV_TESTS_FUZZ_FUZZ_H
#define VTV_TESTS_FUZZ_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
                                #cond);                                                            \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

/* For the harness's own hot helpers (fake memories, reference models):
 * built without libFuzzer's coverage instrumentation, whose compare hooks
 * cost more there than the code under test does and whose edges say
 * nothing about that code; ASan and UBSan still check them.  noinline, so
 * that a caller does not bring the body back under instrumentation. */
#define FUZZ_HARNESS __attribute__((no_sanitize("coverage"), noinline))

/* Whether the n bytes at p are all zero: a check of the harness's, over
 * up to a guest's whole RAM (a loaded segment's zero fill). */
static inline FUZZ_HARNESS bool fuzz_all_zero(const uint8_t *p, uint64_t n)
{
        for (uint64_t k = 0; k < n; k++)
                if (p[k])
                        return false;
        return true;
}

struct fuzz_in {
        const uint8_t *p;
        size_t n;
};

static inline struct fuzz_in fuzz_in(const uint8_t *data, size_t size)
{
        struct fuzz_in in = { data, size };
        return in;
}

static inline bool in_empty(const struct fuzz_in *in)
{
        return in->n == 0;
}

static inline uint8_t in_u8(struct fuzz_in *in)
{
        if (!in->n)
                return 0;
        in->n--;
        return *in->p++;
}

/* bytes (at most 8) little-endian bytes; missing ones read as 0. */
static inline uint64_t in_le(struct fuzz_in *in, unsigned bytes)
{
        uint64_t v = 0;
        for (unsigned i = 0; i < bytes; i++)
                v |= (uint64_t)in_u8(in) << (8 * i);
        return v;
}

static inline uint16_t in_u16(struct fuzz_in *in)
{
        return (uint16_t)in_le(in, 2);
}

static inline uint32_t in_u32(struct fuzz_in *in)
{
        return (uint32_t)in_le(in, 4);
}

static inline uint64_t in_u64(struct fuzz_in *in)
{
        return in_le(in, 8);
}

/* Takes up to len bytes; *got says how many there were. */
static inline const uint8_t *in_bytes(struct fuzz_in *in, size_t len, size_t *got)
{
        const uint8_t *p = in->p;
        *got = len < in->n ? len : in->n;
        in->p += *got;
        in->n -= *got;
        return p;
}

static inline uint64_t add_sat64(uint64_t a, uint64_t b)
{
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A time step for the device models: mostly small, sometimes huge, so that
 * both the ordinary and the saturating arithmetic get exercised. */
static inline uint64_t in_time_step(struct fuzz_in *in)
{
        uint8_t kind = in_u8(in);
        switch (kind & 3) {
        case 0:
                return in_u8(in);
        case 1:
                return in_u16(in);
        case 2:
                return (uint64_t)in_u32(in) << ((kind >> 2) & 31);
        default:
                return in_u64(in);
        }
}

#endif
