/* lib/win32/include/sys/ioctl.h - terminal width for programs/cli_progress.c: the
 * Windows console's, through l4s_ioctl (lib/win32/os.c). */
#ifndef L4S_WIN32_IOCTL_H
#define L4S_WIN32_IOCTL_H
struct winsize {
	unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel;
};
#define TIOCGWINSZ 0x5413
int l4s_ioctl(int fd, unsigned long req, ...);
#define ioctl l4s_ioctl
#endif
