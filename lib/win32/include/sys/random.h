/* lib/win32/include/sys/random.h - getrandom() is BCryptGenRandom on
 * Windows (declared in lib/win32/posix.h). */
#ifndef L4S_WIN32_RANDOM_H
#define L4S_WIN32_RANDOM_H
#define GRND_NONBLOCK 1
#define GRND_RANDOM 2
#endif
