/* Entry of the multiboot2 test guest (tests/guest/multiboot2.c): the
 * common entry with a multiboot2 header instead of the v1 one. */
#define GUEST_MB2 1
#include "entry.S"
