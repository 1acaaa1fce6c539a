/* The few string and memory functions vtvisor needs; no libc underneath. */
#ifndef VTV_LIB_STRING_H
#define VTV_LIB_STRING_H

#include "lib/types.h"

void *vtv_memset(void *dst, int c, size_t n);
void *vtv_memcpy(void *dst, const void *src, size_t n);
void *vtv_memmove(void *dst, const void *src, size_t n);
int vtv_memcmp(const void *a, const void *b, size_t n);
size_t vtv_strlen(const char *s);
size_t vtv_strnlen(const char *s, size_t max);
int vtv_strcmp(const char *a, const char *b);
int vtv_strncmp(const char *a, const char *b, size_t n);
/* Copies at most size-1 bytes and always terminates (when size > 0).
 * Returns strlen(src) so truncation can be detected. */
size_t vtv_strlcpy(char *dst, const char *src, size_t size);
/* Parses an unsigned number: decimal, or hex with 0x.  An optional K, M or G
 * suffix multiplies by 2^10, 2^20 or 2^30.  The whole of s[0..len) must be
 * the number: returns false on junk, an empty string or overflow. */
bool vtv_parse_u64(const char *s, size_t len, uint64_t *out);

/* The value of a digit in bases up to 16 (0-9, a-f, A-F), or -1. */
int vtv_digit_value(char c);

#endif
