/* Guest RAM for the loader targets, kept across inputs, and a cheap exact
 * proof of which bytes of it an input changed.
 *
 * Those targets fill the RAM with a pattern and check that a load wrote
 * nothing outside what it may write.  Comparing and refilling the whole RAM
 * (up to 17 MiB) for every input was most of their time; instead the RAM is
 * mapped read-only between inputs, and the first write to each
 * FUZZ_RAM_CHUNK-sized chunk faults into a handler that makes that chunk
 * writable and records it as dirty.  A chunk not written since it was last
 * filled holds the pattern still, so fuzz_ram_untouched() compares only
 * the dirty chunks (byte for byte, as before) and fuzz_ram_reset() refills
 * and write-protects only those: the same check as comparing every byte,
 * at a cost that follows what the load wrote rather than the RAM's size.
 *
 * Any other fault (outside the RAM, not a write to a clean chunk) goes to
 * the SIGSEGV handler installed before (libFuzzer's, which hands it to
 * ASan's), so crashes are reported as without this.  ASan's poisoning of
 * the bytes past the chosen RAM size is kept, and changed only by what
 * differs from the previous input's size (fuzz_ram_resize). */
#ifndef VTV_TESTS_FUZZ_FUZZ_RAM_H
#define VTV_TESTS_FUZZ_FUZZ_RAM_H

#include <sanitizer/asan_interface.h>
#include <signal.h>
#include <sys/mman.h>

#include "tests/fuzz/fuzz.h"

#define FUZZ_RAM_CHUNK KiB(16)

static struct {
        uint8_t *base;
        size_t len, nchunks, ndirty;
        uint8_t fill;
        bool *dirty;
        size_t *list;
        struct sigaction old;
} fuzz_ram_;

static void fuzz_ram_fault(int sig, siginfo_t *si, void *uc)
{
        (void)sig;
        (void)uc;
        uintptr_t off = (uintptr_t)si->si_addr - (uintptr_t)fuzz_ram_.base;
        if (si->si_code == SEGV_ACCERR && off < fuzz_ram_.len) {
                size_t c = off / FUZZ_RAM_CHUNK;
                if (!fuzz_ram_.dirty[c] && mprotect(fuzz_ram_.base + c * FUZZ_RAM_CHUNK,
                                                    FUZZ_RAM_CHUNK, PROT_READ | PROT_WRITE) == 0) {
                        fuzz_ram_.dirty[c] = true;
                        fuzz_ram_.list[fuzz_ram_.ndirty++] = c;
                        return; /* the write is retried and now succeeds */
                }
        }
        /* Not ours: put the previous handler back; the access faults again
         * and that handler reports it. */
        sigaction(SIGSEGV, &fuzz_ram_.old, NULL);
}

/* Maps len bytes (a multiple of FUZZ_RAM_CHUNK) filled with fill, read-only,
 * all poisoned for ASan; the caller unpoisons with fuzz_ram_resize.  Call
 * once, from the first input (libFuzzer's and ASan's handlers are in place
 * by then). */
static uint8_t *fuzz_ram_map(size_t len, uint8_t fill)
{
        CHECK(len % FUZZ_RAM_CHUNK == 0 && !fuzz_ram_.base);
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(p != MAP_FAILED);
        /* Huge pages would be split by the first mprotect of a chunk. */
        madvise(p, len, MADV_NOHUGEPAGE);
        memset(p, fill, len);
        CHECK(mprotect(p, len, PROT_READ) == 0);
        fuzz_ram_.base = p;
        fuzz_ram_.len = len;
        fuzz_ram_.fill = fill;
        fuzz_ram_.nchunks = len / FUZZ_RAM_CHUNK;
        fuzz_ram_.dirty = calloc(fuzz_ram_.nchunks, sizeof(*fuzz_ram_.dirty));
        fuzz_ram_.list = calloc(fuzz_ram_.nchunks, sizeof(*fuzz_ram_.list));
        CHECK(fuzz_ram_.dirty && fuzz_ram_.list);
        ASAN_POISON_MEMORY_REGION(p, len);

        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = fuzz_ram_fault;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        CHECK(sigaction(SIGSEGV, &sa, &fuzz_ram_.old) == 0);
        return p;
}

/* ASan lets the code under test reach [ram, ram + size) and nothing after
 * it up to ram + *cur (the previous size): only the difference is redone. */
static void fuzz_ram_resize(uint8_t *ram, size_t *cur, size_t size)
{
        if (size > *cur)
                ASAN_UNPOISON_MEMORY_REGION(ram + *cur, size - *cur);
        else if (size < *cur)
                ASAN_POISON_MEMORY_REGION(ram + size, *cur - size);
        *cur = size;
}

/* Harness code, not under test: no coverage feedback from it, and no ASan
 * checks on its own plain reads and writes of the mapping (a chunk can
 * straddle the end of the RAM size, whose tail is poisoned). */
#define FUZZ_RAM_RAW __attribute__((no_sanitize("address", "coverage"), noinline))

/* [p, p + n) (inside the mapping) holds only the fill pattern. */
static FUZZ_RAM_RAW bool fuzz_ram_untouched(const uint8_t *p, size_t n)
{
        size_t off = (size_t)(p - fuzz_ram_.base), end = off + n;
        CHECK(off <= fuzz_ram_.len && n <= fuzz_ram_.len - off);
        while (off < end) {
                size_t c = off / FUZZ_RAM_CHUNK;
                size_t stop = MIN(end, (c + 1) * FUZZ_RAM_CHUNK);
                if (fuzz_ram_.dirty[c])
                        for (const volatile uint8_t *b = fuzz_ram_.base; off < stop; off++)
                                if (b[off] != fuzz_ram_.fill)
                                        return false;
                off = stop;
        }
        return true;
}

/* Every chunk written since the last reset back to the pattern and
 * read-only. */
static FUZZ_RAM_RAW void fuzz_ram_reset(void)
{
        uint64_t pattern = 0x0101010101010101ULL * fuzz_ram_.fill;
        for (size_t i = 0; i < fuzz_ram_.ndirty; i++) {
                size_t c = fuzz_ram_.list[i];
                volatile uint64_t *q = (volatile uint64_t *)(fuzz_ram_.base + c * FUZZ_RAM_CHUNK);
                for (size_t k = 0; k < FUZZ_RAM_CHUNK / 8; k++)
                        q[k] = pattern;
                CHECK(mprotect(fuzz_ram_.base + c * FUZZ_RAM_CHUNK, FUZZ_RAM_CHUNK, PROT_READ) ==
                      0);
                fuzz_ram_.dirty[c] = false;
        }
        fuzz_ram_.ndirty = 0;
}

#endif
