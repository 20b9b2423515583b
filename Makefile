# SPDX-License-Identifier: AGPL-3.0-or-later
#
# passt/pasta: `make` builds ./passt, ./pasta (link) and ./qrap
# `make check` runs the whole test suite (test/run), as root

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1)

CC ?= cc
prefix ?= /usr/local
exec_prefix ?= $(prefix)
bindir ?= $(exec_prefix)/bin
datarootdir ?= $(prefix)/share
mandir ?= $(datarootdir)/man
man1dir ?= $(mandir)/man1

WARNINGS := -Wall -Wextra -pedantic -Wshadow -Wpointer-arith -Wcast-qual \
	    -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 \
	    -Wno-format-nonliteral
HARDENING := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
# CI (and WERROR=1) turns warnings into errors
ifneq ($(CI)$(WERROR),)
WARNINGS += -Werror
endif

BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARNINGS) $(HARDENING) \
	       -DPASST_VERSION='"$(VERSION)"'
CFLAGS ?=
LDFLAGS ?=
ALL_CFLAGS := $(BASE_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now $(LDFLAGS)

PASST_SRCS := passt.c arp.c checksum.c conf.c conf_host.c dhcp.c dhcpv6.c follow.c fwd.c icmp.c \
	      isolation.c log.c ndp.c netlink.c packet.c pasta.c pcap.c \
	      siphash.c tap.c tcp.c tcp_splice.c udp.c util.c
PASST_HDRS := $(filter-out seccomp.h,$(wildcard *.h)) seccomp.h
QRAP_SRCS := qrap.c

BIN := passt pasta qrap

all: $(BIN)

passt: $(PASST_SRCS) $(PASST_HDRS)
	$(CC) $(ALL_CFLAGS) $(PASST_SRCS) -o $@ $(ALL_LDFLAGS)

# The seccomp allow-lists, from the #syscalls annotations in the sources
seccomp.h: seccomp.sh $(PASST_SRCS)
	CC="$(CC)" ./seccomp.sh $@ $(PASST_SRCS)

pasta: passt
	ln -sf passt pasta

qrap: $(QRAP_SRCS) passt.h
	$(CC) $(ALL_CFLAGS) $(QRAP_SRCS) -o $@ $(ALL_LDFLAGS)

# Compile one file alone, for working on a module: make obj/tap.o
obj/%.o: %.c $(PASST_HDRS)
	@mkdir -p obj
	$(CC) $(ALL_CFLAGS) -c $< -o $@

check: all
	test/run

unit: all
	$(MAKE) -C test/unit

# The architecture macro the compiler would define: isolation.c needs one
cppcheck: seccomp.h
	cppcheck --std=c11 --error-exitcode=1 --enable=warning,portability \
		--inline-suppr --quiet -D_GNU_SOURCE -D__$(shell uname -m)__ \
		$(PASST_SRCS) $(QRAP_SRCS)

# Checks and the reasons for each disabled one: .clang-tidy
clang-tidy: seccomp.h
	clang-tidy --quiet $(PASST_SRCS) $(QRAP_SRCS) -- -std=c11 -D_GNU_SOURCE

install: $(BIN)
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(man1dir)
	install -m 755 passt qrap $(DESTDIR)$(bindir)
	ln -sf passt $(DESTDIR)$(bindir)/pasta
	install -m 644 passt.1 qrap.1 $(DESTDIR)$(man1dir)
	ln -sf passt.1 $(DESTDIR)$(man1dir)/pasta.1

uninstall:
	rm -f $(DESTDIR)$(bindir)/passt $(DESTDIR)$(bindir)/pasta \
	      $(DESTDIR)$(bindir)/qrap
	rm -f $(DESTDIR)$(man1dir)/passt.1 $(DESTDIR)$(man1dir)/pasta.1 \
	      $(DESTDIR)$(man1dir)/qrap.1

clean:
	rm -rf $(BIN) obj seccomp.h
	$(MAKE) -C test/unit clean 2>/dev/null || true

.PHONY: all check unit cppcheck clang-tidy install uninstall clean
