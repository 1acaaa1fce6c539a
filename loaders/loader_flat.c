#include "loaders/loader_flat.h"
#include "lib/string.h"

const char *loader_flat(const uint8_t *image, size_t len, struct guest_mem *mem,
                        struct guest_state *state)
{
        if (len == 0)
                return "the flat image is empty";
        if (len > FLAT_MAX_END - FLAT_LOAD_ADDR)
                return "the flat image is larger than the 604 KiB between 0x7C00 and 0x9F000";
        uint8_t *dst = guest_mem_ptr(mem, FLAT_LOAD_ADDR, len);
        if (!dst)
                return "the flat image does not fit in guest RAM";
        vtv_memcpy(dst, image, len);
        guest_state_real_mode(state);
        state->rip = FLAT_LOAD_ADDR;
        state->gpr[RDX] = 0x80;
        state->gpr[RSP] = FLAT_LOAD_ADDR;
        return NULL;
}
