/* uuid.c - the text form of a UUID (see uuid.h). */
#include "util/uuid.h"

#include <ctype.h>

bool uuid_at(const char *s)
{
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}
