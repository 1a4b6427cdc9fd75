# tcrun: one plain Makefile.  `make deps` installs what is missing, `make`
# builds ./tcrun, `make test` runs every test under prove, `make run` is the
# README's main command.

VERSION  := 0.1.0
PREFIX   ?= /usr/local
DATADIR  ?= $(PREFIX)/share/tcrun
MANDIR   ?= $(PREFIX)/share/man/man1

CC       ?= cc
PKGS     := lua5.4 libcurl openssl
# libcurl is dlopen'ed at the first call (see host/http.c): headers only.
LIBPKGS  := lua5.4 libcrypto
WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wwrite-strings \
            -Wformat=2 -Wundef -Wno-unused-parameter
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 $(WARN)
CPPFLAGS += -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
            $(shell pkg-config --cflags $(PKGS)) \
            -DTCRUN_VERSION='"$(VERSION)"' -DTCRUN_DATADIR='"$(DATADIR)"' \
            -DTCRUN_SRCDIR='"$(CURDIR)"' -MMD -MP
# lua-cjson and libcsv ship no usable pkg-config file for Lua 5.4.
CJSON_LIBS ?= -llua5.4-cjson
CSV_LIBS   ?= -lcsv
LDLIBS   += $(shell pkg-config --libs $(LIBPKGS)) $(CJSON_LIBS) $(CSV_LIBS) -lm

SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined

HOST_SRC := $(wildcard host/*.c)
LIB_SRC  := $(filter-out host/main.c,$(HOST_SRC))
OBJ      := $(HOST_SRC:host/%.c=build/%.o)
LIB_OBJ  := $(LIB_SRC:host/%.c=build/%.o)
SAN_OBJ  := $(LIB_SRC:host/%.c=build/san/%.o)
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/unit/%) \
            $(UNIT_SRC:tests/unit/%.c=build/unit-san/%)

.PHONY: all deps test unit run sandbox install uninstall clean bench FORCE

all: tcrun

tcrun: $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

build/%.o: host/%.c | build
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

build/san/%.o: host/%.c | build
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) -c -o $@ $<

build/unit/%: tests/unit/%.c $(LIB_OBJ) | build
	$(CC) $(CPPFLAGS) -Ihost $(CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

build/unit-san/%: tests/unit/%.c $(SAN_OBJ) | build
	$(CC) $(CPPFLAGS) -Ihost $(CFLAGS) $(SAN) -o $@ $< $(SAN_OBJ) $(LDLIBS)

build:
	@mkdir -p build/san build/unit build/unit-san

# Objects depend on the flags they were built with, so that
# `make install PREFIX=...` rebuilds with the data folder it installs to.
build/flags: FORCE | build
	@echo '$(CC) $(CPPFLAGS) $(CFLAGS)' | cmp -s - $@ || \
	  echo '$(CC) $(CPPFLAGS) $(CFLAGS)' > $@
$(OBJ) $(SAN_OBJ): build/flags
FORCE:

unit: $(UNIT_BIN)

# Test-only dependencies: the official Node SDK is the reference for
# signatures and API shapes.
tests/node_modules/.package-lock.json: tests/package.json
	cd tests && npm install --no-audit --no-fund --loglevel=error
	@touch $@

# Everything, ending with prove's summary.  Lua tests run under ./tcrun,
# found through PATH; ASan needs no leak checker inside prove's pipes.
test: deps tcrun unit tests/node_modules/.package-lock.json
	PATH="$(CURDIR):$$PATH" TCRUN_SRCDIR="$(CURDIR)" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	prove -j2 --timer $(UNIT_BIN) tests/host tests/lua tests/e2e tests/sandbox

run: deps tcrun
	@sh samples/run.sh

sandbox:
	python3 tests/sandbox/tcsandbox

bench: tcrun tests/node_modules/.package-lock.json
	python3 bench/run.py

# Each entry: a check that passes when the thing is there, and the Debian
# package that provides it.  Tools are checked by command, so a node or
# python3 installed some other way counts.
DEPS := "command -v cc:gcc" "command -v make:make" \
        "command -v pkg-config:pkg-config" \
        "test -f /usr/include/lua5.4/lua.h:liblua5.4-dev" \
        "test -f /usr/include/x86_64-linux-gnu/curl/curl.h -o -f /usr/include/curl/curl.h:libcurl4-openssl-dev" \
        "test -f /usr/include/openssl/hmac.h:libssl-dev" \
        "test -f /usr/include/lua5.4/lua-cjson.h:lua-cjson-dev" \
        "test -f /usr/include/csv.h:libcsv-dev" \
        "command -v python3:python3" "command -v prove:perl" \
        "command -v node:nodejs" "command -v npm:npm"

deps:
	@missing=""; \
	for d in $(DEPS); do \
	  sh -c "$${d%%:*}" >/dev/null 2>&1 || missing="$$missing $${d##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends $$missing; \
	else echo "all dependencies present"; fi

install: tcrun
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR)
	install -m 755 tcrun $(DESTDIR)$(PREFIX)/bin/tcrun
	cp -R lua recipes policies $(DESTDIR)$(DATADIR)/
	install -m 644 doc/tcrun.1 $(DESTDIR)$(MANDIR)/tcrun.1

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/bin/tcrun $(DESTDIR)$(DATADIR) \
	       $(DESTDIR)$(MANDIR)/tcrun.1

clean:
	rm -rf build tcrun

.SECONDARY: $(SAN_OBJ)

-include $(OBJ:.o=.d) $(SAN_OBJ:.o=.d)
