/* Basic types shared by every part of vtvisor.
 *
 * Addresses carry their address space in their type: a host-physical address
 * (hpa_t) and a guest-physical address (gpa_t) are never mixed silently.  The
 * host maps all of RAM 1:1, so host-virtual pointers come from hpa_to_hva(). */
#ifndef VTV_LIB_TYPES_H
#define VTV_LIB_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t hpa_t; /* host-physical address */
typedef uint64_t gpa_t; /* guest-physical address */
typedef uint64_t gva_t; /* guest-linear address */

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

#define PAGE_SIZE  4096ULL
#define PAGE_SHIFT 12

#define ARRAY_SIZE(a)    (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)   (((x) + ((a)-1)) & ~((uint64_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((uint64_t)(a)-1)) == 0)
#define BIT(n)           (1ULL << (n))
#define UNUSED(x)        ((void)(x))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* True when [base, base+len) lies inside [lo, lo+size) without overflow. */
static inline bool range_within(uint64_t base, uint64_t len, uint64_t lo, uint64_t size)
{
        if (base < lo)
                return false;
        if (len > size)
                return false;
        return base - lo <= size - len;
}

#endif
