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

# Fuzz targets, tests/fuzz/fuzz_*.c (each an LLVMFuzzerTestOneInput; the
# Lua ones check the properties in tests/fuzz/fuzz_*.lua).  `make test`
# runs each over its corpus, tests/fuzz/corpus/<target>/, through a plain
# driver under ASan/UBSan, built with clang when there is one (its UBSan
# sees more than gcc's).  `make fuzz` runs libFuzzer on each target of
# FUZZ_TARGETS (default: all) for FUZZ_SECONDS, from its corpus: what it
# finds goes to build/fuzz-new/<target>/, and -set_cover_merge=1 then adds
# to the corpus a small set of those inputs that reaches what the corpus
# did not.  A crash or a failed property stops it, with the input in
# build/fuzz-crash/.
FUZZ_CC  ?= $(if $(shell command -v clang 2>/dev/null),clang,$(CC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FZ_OBJ   := $(LIB_SRC:host/%.c=build/fz/%.o)
LF_OBJ   := $(LIB_SRC:host/%.c=build/lf/%.o)
LF_SAN   := -fsanitize=address,undefined -fno-omit-frame-pointer
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_FLAGS   ?= -timeout=30 -print_final_stats=1
# The Lua targets write their files there (the CSV writer fsyncs twice an
# input): memory when there is a /dev/shm.
FUZZ_TMPDIR  ?= $(if $(wildcard /dev/shm),/dev/shm,$(or $(TMPDIR),/tmp))

.PHONY: all deps test unit run run-multi sandbox install uninstall clean bench fuzz FORCE

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

build/fz/%.o: host/%.c | build
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(CFLAGS) $(SAN) -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c tests/fuzz/driver.c tests/fuzz/fuzz_lua.h \
              $(FZ_OBJ) | build
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -Ihost $(CFLAGS) $(SAN) -o $@ $< \
	  tests/fuzz/driver.c $(FZ_OBJ) $(LDLIBS)

build/lf/%.o: host/%.c | build
	@mkdir -p $(@D)
	clang $(CPPFLAGS) $(CFLAGS) $(LF_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

build/libfuzzer/%: tests/fuzz/%.c tests/fuzz/fuzz_lua.h $(LF_OBJ) | build
	@mkdir -p $(@D)
	clang $(CPPFLAGS) -Ihost $(CFLAGS) $(LF_SAN) -fsanitize=fuzzer -o $@ $< \
	  $(LF_OBJ) $(LDLIBS)

fuzz: $(FUZZ_TARGETS:%=build/libfuzzer/%)
	@mkdir -p build/fuzz-crash
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  mkdir -p tests/fuzz/corpus/$$t build/fuzz-new/$$t; \
	  TMPDIR=$(FUZZ_TMPDIR) build/libfuzzer/$$t \
	    -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
	    -artifact_prefix=build/fuzz-crash/$$t- \
	    build/fuzz-new/$$t tests/fuzz/corpus/$$t || exit 1; \
	  TMPDIR=$(FUZZ_TMPDIR) build/libfuzzer/$$t -set_cover_merge=1 \
	    tests/fuzz/corpus/$$t \
	    build/fuzz-new/$$t 2>&1 | grep 'MERGE-OUTER: [0-9]* new files' \
	    || exit 1; \
	done

build:
	@mkdir -p build/san build/unit build/unit-san

# Objects depend on the flags they were built with, so that
# `make install PREFIX=...` rebuilds with the data folder it installs to.
build/flags: FORCE | build
	@echo '$(CC) $(CPPFLAGS) $(CFLAGS)' | cmp -s - $@ || \
	  echo '$(CC) $(CPPFLAGS) $(CFLAGS)' > $@
$(OBJ) $(SAN_OBJ) $(FZ_OBJ) $(LF_OBJ): build/flags
FORCE:

unit: $(UNIT_BIN)

# Test-only dependencies: the official Node SDK is the reference for
# signatures and API shapes.
tests/node_modules/.package-lock.json: tests/package.json
	cd tests && npm install --no-audit --no-fund --loglevel=error
	@touch $@

# Everything, ending with prove's summary.  Lua tests run under ./tcrun,
# found through PATH; ASan needs no leak checker inside prove's pipes.
# The temporary files of Python's tempfile and chromium (journals,
# reports, browser profiles) go to one private folder (0700, made by
# mktemp in the system's), removed when the run ends; tcrun refuses
# output folders under ones others can write to, so it is not in the
# checkout.  The developer's own ~/.config/tcrun and state are not the
# tests' business: XDG folders point inside it, TCRUN_CONFIG and
# TCRUN_STATE_DIR are unset.  (Lua's os.tmpname still uses /tmp.)
test: deps tcrun unit $(FUZZ_BIN) tests/node_modules/.package-lock.json
	@d=$$(mktemp -d "$${TMPDIR:-/tmp}/tcrun-test-XXXXXX") || exit 1; \
	mkdir "$$d/config" "$$d/state"; \
	env -u TCRUN_CONFIG -u TCRUN_STATE_DIR \
	PATH="$(CURDIR):$$PATH" TCRUN_SRCDIR="$(CURDIR)" TMPDIR="$$d" \
	XDG_CONFIG_HOME="$$d/config" XDG_STATE_HOME="$$d/state" \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	prove -j2 --timer $(UNIT_BIN) tests/host tests/lua tests/fuzz tests/e2e \
	  tests/sandbox; \
	rc=$$?; rm -rf "$$d"; exit $$rc

run: deps tcrun
	@sh samples/run.sh

run-multi: deps tcrun
	@sh samples/run.sh multi

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
        "command -v node:nodejs" "command -v npm:npm" \
        "command -v clang:clang" \
        "ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a:libclang-rt-dev" \
        "command -v chromium:chromium"

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
	install -m 644 README.md $(DESTDIR)$(DATADIR)/README.md
	install -m 644 doc/tcrun.1 $(DESTDIR)$(MANDIR)/tcrun.1

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/bin/tcrun $(DESTDIR)$(DATADIR) \
	       $(DESTDIR)$(MANDIR)/tcrun.1

clean:
	rm -rf build tcrun

.SECONDARY: $(SAN_OBJ) $(FZ_OBJ) $(LF_OBJ)

-include $(OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(FZ_OBJ:.o=.d) $(LF_OBJ:.o=.d)
