# log4scan - build, test, install.
#
#   make            agent (build/log4scan) and collector (build/log4scan-server)
#   make scan       install the packages the agent needs, build it, scan this host
#                   (text; exit status 1 - something found - is explained, not an error)
#   make check      install missing packages, build, run every test under
#                   ASan+UBSan; last line "N passed, N failed"
#   make fuzz       libFuzzer harnesses (clang) into build/fuzz/
#   make deps       install the Debian packages the build and tests need
#
# Layout: lib/ is the library (no CLI concerns), programs/ the thin programs,
# tests/ and fuzz/ beside them.  A second tree, build/san/, holds the same
# code built with sanitizers; the test suite runs against it.

CC      ?= cc
CLANG   ?= clang
BUILD   ?= build
OPT     ?= -O2
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN    = -Wall -Wextra -Werror -Wshadow -Wformat-security -Wno-unused-parameter
CFLAGS_COMMON = -std=c17 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(WARN) -g -pthread \
		-Ilib -DL4S_VERSION='"$(VERSION)"'
CFLAGS  ?= $(OPT)
# ISA-L's igzip inflates the nested archives a scan reads whole when
# libisal-dev is installed (lib/archive/inflater_isal.c); without it, and in
# `make static` (Debian ships no libisal.a), zlib does (inflater_zlib.c).
ISAL   ?= $(if $(wildcard /usr/include/isa-l/igzip_lib.h),1)
CFLAGS_COMMON += $(if $(ISAL),-DL4S_HAVE_ISAL)
ALL_CFLAGS = $(CFLAGS_COMMON) $(CFLAGS) $(EXTRA_CFLAGS)

# libarchive is linked statically: the shared one drags in libxml2, ICU and
# libstdc++ for formats the agent never reads (8 MB of start-up).  libcurl
# is not linked into the agent at all: lib/submit/http_curl.c loads it only
# for --submit.  The collector links it for its webhooks (webhook_send.c;
# none of the agent's upload code).
ARCHIVE_LIBS = -Wl,-Bstatic -larchive -Wl,-Bdynamic -llzma -lzstd -llz4 -lbz2
AGENT_LIBS  = $(if $(ISAL),-lisal) -ldeflate -lz -lnettle -lseccomp $(ARCHIVE_LIBS) -ljansson -lpthread -ldl
SERVER_LIBS = -lmicrohttpd -ljansson -lsqlite3 -lpq -largon2 -lnettle -lcurl -lseccomp -lpthread

# lib/ is in layer folders (lib/README.md).  The Windows halves, *_win32.c,
# lib/win32/ (the POSIX seam) and lib/submit/http_winhttp.c (the Windows
# transport) are built by mk/windows.mk only.
LIB_SRC    = $(filter-out lib/win32/% lib/%_win32.c lib/submit/http_winhttp.c,$(sort $(wildcard lib/*/*.c)))
# the part of lib/util/ that the collector links (no log4scan concept)
UTIL_SRC   = lib/util/buf.c lib/util/jsonw.c lib/util/uuid.c
# the rules and the pure verdict from a finding's facts: what the collector
# links of the agent's knowledge (it re-judges stored findings, issue 22);
# nothing here reads archives or processes
VERDICT_SRC = lib/detect/facts.c lib/detect/finding.c lib/rules/rules.c lib/detect/verdict.c lib/rules/version.c
AGENT_SRC  = $(filter-out programs/%_win32.c,$(sort $(wildcard programs/*.c)))
SERVER_SRC = $(sort $(wildcard programs/server/*.c))
# the collector as a library (all but its main), for its unit tests and fuzzers
SERVER_LIB_SRC = $(filter-out programs/server/server_main.c,$(SERVER_SRC))
UNIT_SRC   = $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC   = $(sort $(wildcard fuzz/fuzz_*.c))

LIB_OBJ    = $(LIB_SRC:%.c=$(BUILD)/%.o)
UTIL_OBJ   = $(UTIL_SRC:%.c=$(BUILD)/%.o)
VERDICT_OBJ = $(VERDICT_SRC:%.c=$(BUILD)/%.o) $(RULES_OBJ)
AGENT_OBJ  = $(AGENT_SRC:%.c=$(BUILD)/%.o)
SERVER_LIB_OBJ = $(SERVER_LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# The default rules file is compiled in (rules/log4j.rules -> C array).
RULES_C    = $(BUILD)/gen/rules_default.c
RULES_OBJ  = $(BUILD)/gen/rules_default.o

.PHONY: all agent server check scan deps deps-agent fuzz fuzz-run san clean install bench
all: agent $(if $(SERVER_SRC),server)

agent: $(BUILD)/log4scan
server: $(BUILD)/log4scan-server

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(RULES_C): rules/log4j.rules scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh l4s_default_rules < rules/log4j.rules > $@

$(RULES_OBJ): $(RULES_C)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/liblog4scan.a: $(LIB_OBJ) $(RULES_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/log4scan: $(AGENT_OBJ) $(BUILD)/liblog4scan.a
	$(CC) $(ALL_CFLAGS) -o $@ $(AGENT_OBJ) $(BUILD)/liblog4scan.a $(AGENT_LIBS) $(LDFLAGS)

$(BUILD)/libutil.a: $(UTIL_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libverdict.a: $(VERDICT_OBJ)
	rm -f $@
	ar rcs $@ $^

# ---- the collector ----------------------------------------------------------
# programs/server/assets/* are compiled into log4scan-server as C arrays named
# l4s_asset_<file name with . and - as _> (see programs/server/dashboard.c),
# so the collector is one file and the dashboard needs no CDN.  It links
# lib/'s util part only: no scanner, no upload client, no agent library.
SERVER_ASSETS   = $(sort $(wildcard programs/server/assets/*))
SERVER_ASSETS_C = $(BUILD)/gen/server_assets.c
SERVER_ASSETS_O = $(BUILD)/gen/server_assets.o
# The API's description (docs/openapi.json) rides along as l4s_openapi_json
# (api_ops.c).  The CVE table's scores and titles come from the active rules
# (cve_info.c), the built-in ones being libverdict's l4s_default_rules.
$(SERVER_ASSETS_C): $(SERVER_ASSETS) docs/openapi.json scripts/embed.sh
	@mkdir -p $(dir $@)
	{ for f in $(SERVER_ASSETS); do \
	  sh scripts/embed.sh l4s_asset_$$(basename $$f | tr '.-' '__') < $$f || exit 1; done; \
	  sh scripts/embed.sh l4s_openapi_json < docs/openapi.json; } > $@
$(SERVER_ASSETS_O): $(SERVER_ASSETS_C)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libserver.a: $(SERVER_LIB_OBJ) $(SERVER_ASSETS_O)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/log4scan-server: $(BUILD)/programs/server/server_main.o $(BUILD)/libserver.a $(BUILD)/libverdict.a $(BUILD)/libutil.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(SERVER_LIBS) $(LDFLAGS)

# Unit tests link the agent's library and its command line's (libcli.a:
# programs/ but the entry point); those of the collector's parts
# (SERVER_UNITS) link the collector's instead.
UNIT_LIBS    = $(BUILD)/libcli.a $(BUILD)/liblog4scan.a $(AGENT_LIBS)
SERVER_UNITS = $(BUILD)/tests/test_sqlite_pcache $(BUILD)/tests/test_server_sandbox $(BUILD)/tests/test_regdomain
$(SERVER_UNITS): UNIT_LIBS = $(BUILD)/libserver.a $(BUILD)/libverdict.a $(BUILD)/libutil.a $(SERVER_LIBS)
$(SERVER_UNITS): $(BUILD)/libserver.a $(BUILD)/libverdict.a $(BUILD)/libutil.a

$(BUILD)/libcli.a: $(filter-out $(BUILD)/programs/log4scan.o,$(AGENT_OBJ))
	rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcli.a $(BUILD)/liblog4scan.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(UNIT_LIBS) $(LDFLAGS)

units: $(UNIT_BIN)

# Sanitizer build of everything, used by the test suite.
SAN_FLAGS = -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
san:
	$(MAKE) BUILD=build/san CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" all units

check: deps
	@$(MAKE) --no-print-directory all san $(WINDOWS_IF_AVAILABLE)
	@sh tests/run.sh


deps:
	sh scripts/install-deps.sh all

deps-agent:
	@sh scripts/install-deps.sh agent

# The scan's own exit status is its answer (0 nothing, 1 something found, 2
# the scan failed): make says which, and fails only for 2.
SCAN_ARGS ?=
scan: deps-agent
	@$(MAKE) --no-print-directory agent
	@rc=0; $(BUILD)/log4scan scan --format text $(SCAN_ARGS) || rc=$$?; echo; \
	case $$rc in \
	0) echo "make scan: log4scan exited 0: no vulnerable Log4j found on this host." ;; \
	1) echo "make scan: log4scan exited 1: vulnerable Log4j (or a JVM it could not inspect) found, listed above."; \
	   echo "           That is the scan's answer, not a build failure (see 'Exit status' in the README)." ;; \
	*) echo "make scan: log4scan exited $$rc: the scan itself failed (see the messages above)."; exit $$rc ;; \
	esac

# libFuzzer harnesses: each fuzz/fuzz_X.c links the library built with clang.
FUZZ_BUILD = build/fuzz
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD)/obj CC=$(CLANG) CFLAGS="-O1 -fsanitize=fuzzer-no-link,address,undefined" \
	  $(FUZZ_BUILD)/obj/liblog4scan.a $(FUZZ_BUILD)/obj/libserver.a $(FUZZ_BUILD)/obj/libcli.a
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "  FUZZ $$n"; \
	  $(CLANG) $(CFLAGS_COMMON) -O1 -fsanitize=fuzzer,address,undefined -o $(FUZZ_BUILD)/$$n $$f \
	    $(FUZZ_BUILD)/obj/libserver.a $(FUZZ_BUILD)/obj/libcli.a $(FUZZ_BUILD)/obj/liblog4scan.a \
	    $(AGENT_LIBS) $(SERVER_LIBS) || exit 1; done

# Run each harness briefly (FUZZ_SECONDS each) over its seed corpus.
FUZZ_SECONDS ?= 20
fuzz-run: fuzz
	sh tests/fuzz-run.sh $(FUZZ_SECONDS)

bench: all
	sh bench/run.sh

PREFIX ?= /usr/local
DESTDIR ?=
install: all install-extra
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin
	install -m 755 $(BUILD)/log4scan $(DESTDIR)$(PREFIX)/bin/log4scan
	install -m 755 $(BUILD)/log4scan-server $(DESTDIR)$(PREFIX)/sbin/log4scan-server

clean:
	rm -rf build tests/out

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- ecosystem (issue #8): man pages, static agent, installed extras --------
# `make man` converts man/*.md (pandoc) into build/man/log4scan.1 and
# build/man/log4scan-server.8.  `make static` builds build/static/log4scan,
# one self-contained file (static glibc, stripped) to copy to old hosts; it is
# built with -DL4S_NO_SUBMIT because Debian's libcurl.a cannot be linked
# statically (several of its dependencies ship no .a): the static agent
# writes reports with their envelope (--format json) and `log4scan submit`
# sends them from another host (README, "Enrolling hosts").  `install-extra` (a
# prerequisite of `install`) adds the man pages, the systemd units (paths
# filled in), bash completion, the example configuration and
# /etc/log4scan/agent.conf (mode 0600, only when absent).
MAN_PAGES = $(BUILD)/man/log4scan.1 $(BUILD)/man/log4scan-server.8
.PHONY: man static install-extra
man: $(MAN_PAGES)
$(BUILD)/man/%: man/%.md VERSION
	@mkdir -p $(dir $@)
	pandoc --standalone --from markdown --to man -M footer="log4scan $(VERSION)" -o $@ $<

STATIC_BUILD = build/static
# libarchive's tar reader with the decompression filters lib/scan/tarscan.c enables
# (Debian: libzstd-dev, liblz4-dev for the .a files); no ACL/XML parts.
STATIC_LIBS  = -ldeflate -lnettle -lseccomp -larchive -llzma -lzstd -llz4 -lbz2 -lz -ljansson -lpthread
static:
	$(MAKE) BUILD=$(STATIC_BUILD) ISAL= EXTRA_CFLAGS="-DL4S_NO_SUBMIT" \
	  $(STATIC_BUILD)/liblog4scan.a $(AGENT_SRC:%.c=$(STATIC_BUILD)/%.o)
	$(CC) $(ALL_CFLAGS) -static -s -o $(STATIC_BUILD)/log4scan \
	  $(AGENT_SRC:%.c=$(STATIC_BUILD)/%.o) $(STATIC_BUILD)/liblog4scan.a $(STATIC_LIBS)
	@echo "static agent: $(STATIC_BUILD)/log4scan, $$(stat -c %s $(STATIC_BUILD)/log4scan) bytes"

SYSCONFDIR  = /etc
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR     ?= $(PREFIX)/share/doc/log4scan
install-extra: man
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/log4scan
	install -m 644 $(BUILD)/man/log4scan.1 $(DESTDIR)$(MANDIR)/man1/log4scan.1
	install -m 644 $(BUILD)/man/log4scan-server.8 $(DESTDIR)$(MANDIR)/man8/log4scan-server.8
	for u in log4scan.service log4scan.timer log4scan-logs.service log4scan-logs.timer log4scan-server.service; do \
	  sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SBINDIR@|$(PREFIX)/sbin|g' \
	      -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u && \
	  chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	install -m 644 dist/bash-completion/log4scan $(DESTDIR)$(BASHCOMPDIR)/log4scan
	ln -sf log4scan $(DESTDIR)$(BASHCOMPDIR)/log4scan-server
	install -m 644 dist/agent.conf.example $(DESTDIR)$(DOCDIR)/agent.conf.example
	[ -e $(DESTDIR)$(SYSCONFDIR)/log4scan/agent.conf ] || \
	  install -m 600 dist/agent.conf.example $(DESTDIR)$(SYSCONFDIR)/log4scan/agent.conf

# ---- packages (issue 19) ------------------------------------------------------
# `make deb`: build/deb/log4scan_VERSION-1_ARCH.deb (agent, units, man page,
# example configuration) and log4scan-server_... (collector), built with
# dpkg-deb by scripts/mkdeb.sh and checked with lintian (no error, no
# warning).  `make msi`: build/win/log4scan.msi (mk/windows.mk).
# The binaries are built apart, in build/deb-build, with Debian's hardening
# flags (dpkg-buildflags with hardening=+all: fortify, stack protector,
# PIE, full RELRO, bind now).
.PHONY: deb
DEB_BUILD = build/deb-build
deb:
	$(MAKE) BUILD=$(DEB_BUILD) \
	  CFLAGS="$$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CFLAGS) $$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CPPFLAGS)" \
	  LDFLAGS="$$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get LDFLAGS)" all man
	sh scripts/mkdeb.sh $(DEB_BUILD) build/deb
	lintian --fail-on error,warning --suppress-tags-from-file dist/debian/lintian-suppress build/deb/*_$(VERSION)-1_*.deb

include mk/windows.mk
