/* iostat.c - the bytes-read counter (see iostat.h). */
#include "util/iostat.h"

atomic_ullong l4s_bytes_read;
