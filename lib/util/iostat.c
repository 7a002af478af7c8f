/* iostat.c - the bytes-read counter (see iostat.h). */
#include "iostat.h"

atomic_ullong l4s_bytes_read;
