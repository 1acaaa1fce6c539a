/* A VM's EPT: deny by default, exactly its RAM mapped write-back.  Built on
 * the shared page-table engine (lib/pt.c). */
#ifndef VTV_EPT_EPT_H
#define VTV_EPT_EPT_H

#include "lib/pt.h"
#include "lib/types.h"

struct ept {
        struct pt pt;
        uint64_t eptp;
};

/* Returns NULL or what failed. */
const char *ept_create(struct ept *ept);
const char *ept_map_ram(struct ept *ept, gpa_t gpa, hpa_t hpa, uint64_t size);
/* Invalidates cached translations and frees the tables. */
void ept_destroy(struct ept *ept);
/* Flushes this EPT's cached translations on the current CPU. */
void ept_invalidate(const struct ept *ept);

extern const struct pt_format ept_format;

#endif
