/* iostat.c - the bytes-read counter (see iostat.h). */
#include "util/iostat.h"

atomic_ullong iostat_bytes_read;
