# mk/windows.mk - the Windows agent, cross-compiled with mingw-w64 (issue #10).
#
#   make windows         build/win/log4scan.exe (static: no DLL beyond Windows' own)
#   make check-windows   build it and run tests/t_windows.py under Wine
#   make msi             build/win/log4scan.msi (wixl, from dist/windows/): installs
#                        log4scan.exe and registers a daily task running as SYSTEM
#
# The shared code is compiled unchanged: lib/win32/posix.h is force-included
# and maps the POSIX calls it makes onto lib/win32/os.c (UTF-8 paths in,
# UTF-16 Win32 calls out); lib/win32/include/ holds the libdeflate and Nettle
# interfaces served by zlib and CNG.  Each Linux-only part, *_linux.c, is
# replaced by the *_win32.c beside it: the walk's listing
# (lib/walk/walk_win32.c, FindFirstFileExW; its queue and workers,
# lib/walk/walk_queue.c, are shared), the process view (Restart Manager),
# priority (background mode, lib/sys/sandbox_win32.c), host identity
# (lib/submit/hostinfo_win32.c: MachineGuid, the agent id in the registry);
# the --submit transport is lib/submit/http_winhttp.c (WinHTTP); tar/image
# reading is absent (see the README's "Windows" section).

WIN_CC     ?= x86_64-w64-mingw32-gcc-posix
WIN_AR     ?= x86_64-w64-mingw32-gcc-ar-posix
WIN_BUILD  ?= build/win
# -Wno-format: gcc checks format(printf) attributes against Microsoft's
# printf here, while __USE_MINGW_ANSI_STDIO gives C99's (%zu, %llu); the
# Linux build checks the same format strings.
WIN_CFLAGS  = -std=c17 $(filter-out -Wformat-security,$(WARN)) -Wno-format -O2 -g0 -Ilib/win32/include -Ilib -include lib/win32/posix.h \
	      -D__USE_MINGW_ANSI_STDIO=1 -D_WIN32_WINNT=0x0601 -DWINVER=0x0601 \
	      -DL4S_VERSION='"$(VERSION)"'
WIN_LIBS    = -lz -lbcrypt -lrstrtmgr -lwinhttp -liphlpapi -lws2_32 -lpthread

# The Linux halves (*_linux.c, replaced by the *_win32.c files), and what is
# absent on Windows: tar and images (lib/scan/notar_win32.c stands in), the
# libcurl transport (lib/submit/http_winhttp.c replaces it).
WIN_SKIP    = lib/%_linux.c lib/scan/tarscan.c lib/scan/image.c lib/submit/http_curl.c
WIN_LIB_SRC = $(filter-out $(WIN_SKIP),$(sort $(wildcard lib/*/*.c)))
WIN_LIB_OBJ = $(WIN_LIB_SRC:%.c=$(WIN_BUILD)/%.o) $(WIN_BUILD)/gen/rules_default.o
WIN_AGENT_OBJ = $(AGENT_SRC:%.c=$(WIN_BUILD)/%.o) $(WIN_BUILD)/programs/main_win32.o
WIN_UNIT_SRC = tests/unit/test_holders.c
WIN_UNIT_BIN = $(WIN_UNIT_SRC:tests/unit/%.c=$(WIN_BUILD)/tests/%.exe)

# `make check` builds the Windows agent too when mingw-w64 is installed
# (tests/t_windows.py then runs it under Wine, or says why it is skipped).
WINDOWS_IF_AVAILABLE = $(if $(shell command -v $(WIN_CC) 2>/dev/null),windows)

.PHONY: windows check-windows msi
windows: $(WIN_BUILD)/log4scan.exe $(WIN_UNIT_BIN) $(WIN_BUILD)/tests/hold.exe $(if $(shell command -v wixl 2>/dev/null),$(WIN_BUILD)/log4scan.msi)

$(WIN_BUILD)/%.o: %.c lib/win32/posix.h
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -MMD -MP -c $< -o $@

# The agent's main() becomes l4s_main(); programs/main_win32.c is wmain().
$(WIN_BUILD)/programs/log4scan.o: programs/log4scan.c lib/win32/posix.h
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -Dmain=l4s_main -MMD -MP -c $< -o $@

$(WIN_BUILD)/gen/rules_default.o: $(RULES_C)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -c $< -o $@

$(WIN_BUILD)/liblog4scan.a: $(WIN_LIB_OBJ)
	rm -f $@
	$(WIN_AR) rcs $@ $^

$(WIN_BUILD)/log4scan.exe: $(WIN_AGENT_OBJ) $(WIN_BUILD)/liblog4scan.a
	$(WIN_CC) -static -municode -s -o $@ $(WIN_AGENT_OBJ) $(WIN_BUILD)/liblog4scan.a $(WIN_LIBS)

$(WIN_BUILD)/tests/%.exe: tests/unit/%.c $(WIN_BUILD)/liblog4scan.a
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -Itests/unit -static -o $@ $< $(WIN_BUILD)/liblog4scan.a $(WIN_LIBS)

# A stand-in for a JVM holding a jar open (t_windows: fix must not replace it).
$(WIN_BUILD)/tests/hold.exe: tests/win/hold.c
	@mkdir -p $(dir $@)
	$(WIN_CC) -std=c17 $(WARN) -O2 -static -municode -o $@ $<

check-windows: windows
	@$(MAKE) --no-print-directory all
	@ONLY=t_windows sh tests/run.sh

-include $(shell find $(WIN_BUILD) -name '*.d' 2>/dev/null)

# The MSI: dist/windows/log4scan.wxs with the paths and version filled in,
# the task definition converted to UTF-16 (what schtasks /XML reads).
$(WIN_BUILD)/log4scan.msi: $(WIN_BUILD)/log4scan.exe dist/windows/log4scan.wxs dist/windows/log4scan-task.xml \
		dist/agent.conf.example VERSION
	@mkdir -p $(WIN_BUILD)/msi
	iconv -f UTF-8 -t UTF-16 dist/windows/log4scan-task.xml > $(WIN_BUILD)/msi/log4scan-task.xml
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@EXE@|$(WIN_BUILD)/log4scan.exe|' -e 's|@CONF@|dist/agent.conf.example|' \
	    -e 's|@TASK@|$(WIN_BUILD)/msi/log4scan-task.xml|' dist/windows/log4scan.wxs > $(WIN_BUILD)/msi/log4scan.wxs
	wixl -a x64 -o $@ $(WIN_BUILD)/msi/log4scan.wxs
msi: $(WIN_BUILD)/log4scan.msi
