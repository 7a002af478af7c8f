/* lib/win32/include/sys/mman.h - the one use of mmap in the shared code
 * (lib/walk/cache.c maps the previous cache file read-only) served by reading
 * the file into memory: same contents, same lifetime, no mapping object. */
#ifndef L4S_WIN32_MMAN_H
#define L4S_WIN32_MMAN_H
#include <stddef.h>
#include <stdint.h>
#define PROT_READ 1
#define MAP_PRIVATE 2
#define MAP_FAILED ((void *)-1)
void *l4s_mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off);
int l4s_munmap(void *addr, size_t len);
#define mmap l4s_mmap
#define munmap l4s_munmap
#endif
