/* Flat binaries: loaded at 0x7C00 and entered in real mode like a boot
 * sector (CS:IP = 0000:7C00, DL = 0x80).  Pure. */
#ifndef VTV_LOADERS_LOADER_FLAT_H
#define VTV_LOADERS_LOADER_FLAT_H

#include "loaders/guest_state.h"

#define FLAT_LOAD_ADDR 0x7c00
#define FLAT_MAX_END   0x9f000 /* below the EBDA and the legacy video/BIOS hole */

/* Returns NULL or what is wrong. */
const char *loader_flat(const uint8_t *image, size_t len, struct guest_mem *mem,
                        struct guest_state *state);

#endif
