/* libFuzzer target for loaders/loader_flat.c.
 *
 * Input: one byte choosing the guest RAM size (bits 2:0), a u32 image
 * length (bit 31 set: the rest of the input; else bit 30 set: bits 19:0,
 * clear: bits 11:0), then the
 * image bytes; an image longer than what follows is the input's bytes
 * repeated, so the size limits are reached without huge inputs.
 *
 * The image is handed over in a heap buffer of exactly its size and the
 * RAM is a buffer whose bytes past the chosen size are poisoned, so ASan
 * stops any access outside them.  Checked against loader_flat.h: the load
 * succeeds exactly when 0 < length <= 0x9f000 - 0x7c00 and the image fits
 * in RAM; then the image is at 0x7C00, nothing else in RAM changed, and
 * the vCPU starts in real mode at 0000:7C00 with DL = 0x80; on error RAM
 * and the vCPU state are untouched.  "Nothing else changed" compares every
 * RAM byte the input could have changed: fuzz_ram.h tracks which chunks
 * were written. */
#define _DEFAULT_SOURCE

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_ram.h"

#include "loaders/loader_flat.h"

#define RAM_MAX MiB(2)
#define FILL    0xcc

static uint8_t *ram;
static size_t ram_cur; /* the bytes ASan lets the loader reach */

static const uint64_t ram_sizes[8] = {
        0x7c00, 0x8000, 0x10000, 0x9f000, 0xa0000, MiB(1), MiB(1) + 0x1000, MiB(2),
};

static bool all_fill(const uint8_t *p, size_t n)
{
        return fuzz_ram_untouched(p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!ram)
                ram = fuzz_ram_map(RAM_MAX, FILL);
        struct fuzz_in in = fuzz_in(data, size);
        uint64_t ram_size = ram_sizes[in_u8(&in) & 7];
        uint32_t lf = in_u32(&in);
        size_t len = (lf & BIT(31))   ? in.n
                     : (lf & BIT(30)) ? (size_t)(lf & 0xfffff)
                                      : (size_t)(lf & 0xfff);
        uint8_t *img = malloc(len ? len : 1);
        CHECK(img != NULL);
        if (!in.n) {
                memset(img, 0x90, len);
        } else {
                /* The input's bytes repeated: copy them once, then double
                 * what is there. */
                size_t have = MIN(in.n, len);
                memcpy(img, in.p, have);
                while (have < len) {
                        size_t n = MIN(have, len - have);
                        memcpy(img + have, img, n);
                        have += n;
                }
        }

        fuzz_ram_resize(ram, &ram_cur, ram_size);
        struct guest_mem mem = { ram, ram_size };
        struct guest_state st, before;
        memset(&st, 0x5a, sizeof(st));
        before = st;

        const char *err = loader_flat(img, len, &mem, &st);
        bool fits =
            len > 0 && len <= FLAT_MAX_END - FLAT_LOAD_ADDR && FLAT_LOAD_ADDR + len <= ram_size;
        CHECK((err == NULL) == fits);
        if (err) {
                CHECK(*err != '\0');
                CHECK(memcmp(&st, &before, sizeof(st)) == 0);
                CHECK(all_fill(ram, ram_size));
        } else {
                CHECK(memcmp(ram + FLAT_LOAD_ADDR, img, len) == 0);
                CHECK(all_fill(ram, FLAT_LOAD_ADDR));
                CHECK(all_fill(ram + FLAT_LOAD_ADDR + len, ram_size - FLAT_LOAD_ADDR - len));
                CHECK(st.rip == FLAT_LOAD_ADDR && st.gpr[RDX] == 0x80);
                CHECK(st.gpr[RSP] == FLAT_LOAD_ADDR);
                CHECK(st.cs.sel == 0 && st.cs.base == 0 && st.cs.limit == 0xffff);
                CHECK((st.cr0 & 1) == 0 && st.rflags == 2 && st.efer == 0);
        }
        fuzz_ram_reset();
        free(img);
        return 0;
}
