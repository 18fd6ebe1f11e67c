# Matt_daemon: line-logging daemon, its Tintin_reporter library and tests.
#
#   make            build everything (binaries land in the tree root)
#   make run        install missing packages, build, start the daemon
#                   (RUN_ARGS="-c FILE" for another configuration)
#   make test       install missing packages, build, run every test
#   make bench      throughput / memory benchmark against rsyslog and socat
#   make valgrind   the integration suite with the daemon under memcheck
#   make check-deps include cycles among the daemon's modules, layering
#   make install    PREFIX=/usr/local DESTDIR=
#   make uninstall  the same variables; configuration and logs stay
#   SANITIZE=1      build and test under ASan+UBSan (separate build dir)
#   PYTEST_JOBS=4   xdist workers for the integration suite (VG_JOBS=3
#                   under valgrind); 1: one serial pytest run, as before
#   CC=clang        any C11 compiler with GNU extensions

NAME		= Matt_daemon
VERSION		= 1.0.0

CC		?= cc
SANITIZE	?= 0
PREFIX		?= /usr/local
DESTDIR		?=
PYTHON		?= /usr/bin/python3
RUN_ARGS	?=
DOCDIR		= $(PREFIX)/share/doc/matt_daemon
COMPLETIONDIR	= $(PREFIX)/share/bash-completion/completions
# The man pages name installed files under /usr/local: the real PREFIX.
MAN_SED		= sed 's|/usr/local/share/doc/matt_daemon|$(DOCDIR)|g'

WARNINGS	= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
		  -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla
CFLAGS		?= -O2 -g
CPPFLAGS	+= -D_GNU_SOURCE -DMD_VERSION='"$(VERSION)"' -Isrc
ALL_CFLAGS	= -std=c11 $(WARNINGS) $(CFLAGS) -MMD -MP
LDLIBS_DAEMON	= $(shell pkg-config --libs inih 2>/dev/null || echo -linih) \
		  -lssl -lcrypto -lcrypt -lpcre2-8 -ldl -lrelp $(LDLIBS_TINTIN)
LDLIBS_CLIENT	= -lssl -lcrypto \
		  $(shell pkg-config --libs libedit 2>/dev/null || echo -ledit)

ifeq ($(SANITIZE),1)
BUILD		= build/san
ALL_CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=all
LDFLAGS		+= -fsanitize=address,undefined
else
BUILD		= build/rel
endif

# Tintin_reporter builds from its own fragment (liftable with its folder).
TINTIN_BUILD	= $(BUILD)/src/tintin
TINTIN_CC	= $(CC)
TINTIN_FLAGS	= $(CPPFLAGS) $(ALL_CFLAGS)
TINTIN_LDFLAGS	= $(LDFLAGS)
include src/tintin/tintin.mk
.DEFAULT_GOAL	:= all
LIBTINTIN	= $(TINTIN_LIB)
LDLIBS_TINTIN	= $(TINTIN_LDLIBS)

COMMON_SRCS	= src/common/escape.c src/common/framer.c src/common/mkdirs.c \
		  src/common/frames.c
# Matt_daemon, by subsystem, top to bottom: daemon.c wires the others;
# each gets its narrow context, and includes point down (make check-deps).
DAEMON_TOP	= main.c cmdline.c daemon.c daemonize.c lock.c notify.c \
		  signals.c crash.c server.c
DAEMON_BASE	= config.c config_keys.c config_mail.c config_value.c loop.c \
		  child.c
DAEMON_SESSION	= $(addprefix session/, command.c command_auth.c shell.c \
		  shell_term.c client.c client_text.c client_mux.c \
		  client_follow.c client_out.c client_slots.c auth_check.c auth.c \
		  tls.c)
DAEMON_METRICS	= $(addprefix metrics/, metrics.c metrics_http.c)
DAEMON_FORWARD	= $(addprefix forward/, forward.c forward_src.c \
		  forward_net.c forward_run.c forward_record.c \
		  forward_ack.c forward_marks.c forward_save.c \
		  forward_report.c)
DAEMON_ALERT	= $(addprefix alert/, alert.c prefilter.c mail.c \
		  mail_message.c mail_spool.c smtp.c)
DAEMON_SRCS	= $(addprefix src/daemon/, $(DAEMON_TOP) $(DAEMON_SESSION) \
		  $(DAEMON_METRICS) $(DAEMON_FORWARD) $(DAEMON_ALERT) \
		  $(DAEMON_BASE))
# Ben_AFK: the core (libafk.a, shared with the GTK client) and the CLI.
CLIENT_SRCS	= src/client/conn.c src/client/tls.c src/client/known_hosts.c \
		  src/client/proto.c src/client/options.c
CLI_SRCS	= src/client/main.c src/client/term.c src/client/repl.c \
		  src/client/batch.c src/client/shell.c src/client/pretty.c

COMMON_OBJS	= $(COMMON_SRCS:%.c=$(BUILD)/%.o)
DAEMON_OBJS	= $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
CLIENT_OBJS	= $(CLIENT_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS	= $(CLI_SRCS:%.c=$(BUILD)/%.o)

LIBCOMMON	= $(BUILD)/libcommon.a
DAEMON_BIN	= $(BUILD)/$(NAME)
LIBAFK		= $(BUILD)/libafk.a
CLIENT_BIN	= $(BUILD)/Ben_AFK

# Ben_AFK-gtk, the GTK4 client: built only where GTK4 and VTE are found.
GTK_PKGS	= gtk4 vte-2.91-gtk4
HAVE_GTK	:= $(shell pkg-config --exists $(GTK_PKGS) 2>/dev/null && echo 1 || echo 0)
GTK_SRCS	= src/gtk/main.c src/gtk/connect_view.c src/gtk/window.c \
		  src/gtk/logview.c src/gtk/shell_tab.c src/gtk/net.c \
		  src/gtk/net_session.c src/gtk/recent.c src/gtk/session.c \
		  src/gtk/replies.c src/gtk/logmodel.c src/gtk/search.c \
		  src/gtk/menu.c src/gtk/logfollow.c \
		  src/gtk/net_mux.c src/gtk/net_poll.c src/gtk/stats.c \
		  src/gtk/dashboard.c
GTK_OBJS	= $(GTK_SRCS:%.c=$(BUILD)/%.o)
GTK_BIN		= $(BUILD)/Ben_AFK-gtk
# Its entry in the applications menu and its icon (packaging/).
GTK_ICON	= hicolor/scalable/apps/ben-afk-gtk.svg
GTK_ICON_DIR	= share/icons/hicolor/scalable/apps
ifeq ($(HAVE_GTK),1)
# -isystem: warnings are ours to fix, not those of the GTK headers.
GTK_CFLAGS	:= $(shell pkg-config --cflags $(GTK_PKGS) | sed 's/-I/-isystem /g')
GTK_LIBS	:= $(shell pkg-config --libs $(GTK_PKGS))
GUI_BIN		= $(GTK_BIN)
endif

UNIT_TESTS	= escape framer config known_hosts proto alert \
		  prefilter auth child session command mail_spool forward_save
ifeq ($(HAVE_GTK),1)
UNIT_TESTS	+= replies
endif
UNIT_BINS	= $(UNIT_TESTS:%=$(BUILD)/tests/test_%)

BENCH_BINS	= $(BUILD)/bench/flood $(BUILD)/bench/check $(BUILD)/bench/latency \
		  $(BUILD)/bench/bare

.PHONY: all clean fclean re run test unit integration deps install uninstall \
	bench fuzz valgrind check-deps

# ./Matt_daemon always names the release build; sanitizer builds are
# reached through $(BUILD) (the test targets pass the path explicitly).
all: $(DAEMON_BIN) $(CLIENT_BIN) $(GUI_BIN)
ifeq ($(SANITIZE),0)
	@ln -sfn $(DAEMON_BIN) $(NAME)
	@ln -sfn $(CLIENT_BIN) Ben_AFK
ifeq ($(HAVE_GTK),1)
	@ln -sfn $(GTK_BIN) Ben_AFK-gtk
endif
endif

$(DAEMON_BIN): $(DAEMON_OBJS) $(LIBCOMMON) $(LIBTINTIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_DAEMON)

$(CLIENT_BIN): $(CLI_OBJS) $(LIBAFK) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_CLIENT)

$(GTK_BIN): $(GTK_OBJS) $(LIBAFK) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(GTK_LIBS) -lssl -lcrypto

# GTK 4.10 deprecates the dialogs of the 4.8 we must build with too.
$(GTK_OBJS): ALL_CFLAGS += $(GTK_CFLAGS) -Wno-deprecated-declarations

$(LIBAFK): $(CLIENT_OBJS)
	$(AR) rcs $@ $^

$(LIBCOMMON): $(COMMON_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# Unit tests link the module under test plus what it needs.
$(BUILD)/tests/test_escape: $(BUILD)/tests/unit/test_escape.o $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS_TINTIN)
$(BUILD)/tests/test_framer: $(BUILD)/tests/unit/test_framer.o $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS_TINTIN)
$(BUILD)/tests/test_config: $(BUILD)/tests/unit/test_config.o \
		$(BUILD)/src/daemon/config.o $(BUILD)/src/daemon/config_keys.o \
		$(BUILD)/src/daemon/config_mail.o \
		$(BUILD)/src/daemon/config_value.o $(LIBTINTIN)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS_DAEMON)
$(BUILD)/tests/test_auth: $(BUILD)/tests/unit/test_auth.o \
		$(BUILD)/src/daemon/session/auth.o $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS_DAEMON)
# The alert engine alone: no daemon, no client, no mailer (mail.o).
$(BUILD)/tests/test_alert: $(BUILD)/tests/unit/test_alert.o \
		$(addprefix $(BUILD)/src/daemon/alert/, alert.o mail_message.o \
		prefilter.o) $(BUILD)/src/daemon/loop.o \
		$(LIBCOMMON) $(LIBTINTIN)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS_DAEMON)
# The session layer (SESSION_OBJS), then the commands over it: unit
# tests linked without the daemon, the server, the alerts or the signals.
SESSION_OBJS	= $(BUILD)/tests/unit/session_harness.o \
		  $(addprefix $(BUILD)/src/daemon/session/, client.o \
		  client_out.o client_follow.o client_mux.o client_text.o \
		  client_slots.o auth.o auth_check.o tls.o) \
		  $(addprefix $(BUILD)/src/daemon/, loop.o child.o config.o \
		  config_keys.o config_mail.o config_value.o)
$(BUILD)/tests/test_session: $(BUILD)/tests/unit/test_session.o \
		$(SESSION_OBJS) $(LIBCOMMON) $(LIBTINTIN)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS_DAEMON)
$(BUILD)/tests/test_command: $(BUILD)/tests/unit/test_command.o \
		$(addprefix $(BUILD)/src/daemon/session/, command.o \
		command_auth.o shell.o shell_term.o) \
		$(BUILD)/src/daemon/cmdline.o \
		$(BUILD)/src/daemon/metrics/metrics.o \
		$(SESSION_OBJS) $(LIBCOMMON) $(LIBTINTIN)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS_DAEMON)
$(BUILD)/tests/test_mail_spool: $(BUILD)/tests/unit/test_mail_spool.o \
		$(BUILD)/src/daemon/alert/mail_spool.o $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka
$(BUILD)/tests/test_forward_save: $(BUILD)/tests/unit/test_forward_save.o \
		$(BUILD)/src/daemon/forward/forward_save.o \
		$(BUILD)/src/daemon/forward/forward_src.o
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka -lz -lzstd
$(BUILD)/tests/test_prefilter: $(BUILD)/tests/unit/test_prefilter.o \
		$(BUILD)/src/daemon/alert/prefilter.o
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka -lpcre2-8
$(BUILD)/tests/test_child: $(BUILD)/tests/unit/test_child.o \
		$(BUILD)/src/daemon/child.o $(BUILD)/src/daemon/loop.o
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka
$(BUILD)/tests/test_known_hosts: $(BUILD)/tests/unit/test_known_hosts.o \
		$(LIBAFK)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS_CLIENT)
$(BUILD)/tests/test_proto: $(BUILD)/tests/unit/test_proto.o $(LIBAFK)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS_CLIENT)
$(BUILD)/tests/unit/test_replies.o: ALL_CFLAGS += $(GTK_CFLAGS)
$(BUILD)/tests/test_replies: $(BUILD)/tests/unit/test_replies.o \
		$(BUILD)/src/gtk/replies.o $(BUILD)/src/gtk/stats.o $(LIBAFK)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(GTK_LIBS) $(LDLIBS_CLIENT)

$(BUILD)/bench/flood: $(BUILD)/bench/flood.o $(BUILD)/bench/util.o
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread -lssl -lcrypto
$(BUILD)/bench/check: $(BUILD)/bench/check.o $(BUILD)/bench/util.o
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread
$(BUILD)/bench/latency: $(BUILD)/bench/latency.o $(BUILD)/bench/util.o
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread
$(BUILD)/bench/bare: $(BUILD)/bench/bare.o $(BUILD)/bench/util.o
	$(CC) $(LDFLAGS) -o $@ $^

# libFuzzer harnesses (clang only), run FUZZ_SECONDS each; see fuzz/README.md.
FUZZ_SECONDS	?= 30
FUZZ_CC		= clang
FUZZ_FLAGS	= -std=c11 -D_GNU_SOURCE -DMD_VERSION='"$(VERSION)"' -Isrc -g -O1 \
		  -fsanitize=fuzzer,address,undefined
FUZZ_BINS	= build/fuzz/fuzz_framer build/fuzz/fuzz_config \
		  build/fuzz/fuzz_protocol build/fuzz/fuzz_prefilter

build/fuzz/fuzz_prefilter: fuzz/fuzz_prefilter.c src/daemon/alert/prefilter.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ -lpcre2-8

build/fuzz/fuzz_protocol: fuzz/fuzz_protocol.c src/common/frames.c \
		src/daemon/cmdline.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^

build/fuzz/fuzz_framer: fuzz/fuzz_framer.c $(COMMON_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^

build/fuzz/fuzz_config: fuzz/fuzz_config.c src/daemon/config.c \
		src/daemon/config_keys.c src/daemon/config_mail.c \
		src/daemon/config_value.c $(TINTIN_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS_DAEMON)

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
		n=$${f##*/fuzz_}; mkdir -p build/fuzz/corpus-$$n; \
		echo "== $$f ($(FUZZ_SECONDS) s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		    -artifact_prefix=build/fuzz/ build/fuzz/corpus-$$n \
		    fuzz/corpus/$$n 2>&1 | tail -n 3; \
	done

deps:
	@./scripts/deps.sh

# Include cycles among src/daemon's modules, and layering breaches
# (tintin and common use nothing else; see scripts/check_deps.py).
check-deps:
	@$(PYTHON) scripts/check_deps.py

# make run RUN_ARGS="-c FILE" for another configuration.
run: deps all
	./$(DAEMON_BIN) $(RUN_ARGS)
	@./$(DAEMON_BIN) $(RUN_ARGS) --summary | awk '\
		{ v[$$1] = substr($$0, length($$1) + 2) } \
		END { getline pid < v["lock"]; \
		printf "Matt_daemon is running: pid %s, listening on %s, " \
		    "log %s\n", pid, v["listen"], v["log"] }'

unit: $(UNIT_BINS) tintin-check
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# Under the sanitizers: our own SIGSEGV handler must run (crash tests),
# and a report fails the test that caused it (the daemon exits non-zero).
SAN_ENV		= ASAN_OPTIONS=allow_user_segv_handler=1:detect_leaks=1:abort_on_error=0 \
		  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 MATT_SANITIZE=1

# The integration suite: the tests not marked real_paths or serial on
# N xdist workers (a test file stays on one worker: its module fixtures
# and helpers are shared), then those one at a time (port 4242, /var/lock,
# /var/log/matt_daemon, make in this tree).  N = 1: one serial run.
PYTEST_JOBS	?= 4
VG_JOBS		?= 3
PYTEST		= $(PYTHON) -m pytest -q --durations=12
SERIAL_MARKS	= real_paths or serial
run_suite	= if [ "$(1)" = 1 ]; then $(PYTEST) tests/integration; \
		  else st=0; $(PYTEST) -n $(1) --dist loadfile \
		  -m "not ($(SERIAL_MARKS))" tests/integration || st=1; \
		  $(PYTEST) -m "$(SERIAL_MARKS)" tests/integration || st=1; \
		  exit $$st; fi

integration: all
	export $(if $(filter 1,$(SANITIZE)),$(SAN_ENV)) \
	MATT_DAEMON=$(CURDIR)/$(DAEMON_BIN) BEN_AFK=$(CURDIR)/$(CLIENT_BIN) \
	$(if $(GUI_BIN),BEN_AFK_GTK=$(CURDIR)/$(GUI_BIN)); \
	$(call run_suite,$(PYTEST_JOBS))

test: deps
	$(MAKE) check-deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) integration

bench: deps all $(BENCH_BINS)
	BUILD=$(BUILD) ./bench/run.sh

# The integration suite with the release daemon under valgrind memcheck,
# minus tests/integration/valgrind_skip.txt.  Every daemon process writes
# VG_DIR/vg.PID; any memcheck error or definite leak in one fails the run
# (SIGKILLed processes have no summary: their error headers are matched).
VG_DIR		= build/valgrind
VG_ERRORS	= ERROR SUMMARY: [1-9]|definitely lost: [1-9]|== (Invalid \
		  (read|write|free)|Syscall param|Conditional jump|Use of \
		  uninit|Mismatched free|Source and destination overlap)
valgrind: deps
	$(MAKE) SANITIZE=0 all
	@rm -rf $(VG_DIR) && mkdir -p $(VG_DIR)
	@st=0; export MATT_VALGRIND=1 MATT_VG_DIR=$(CURDIR)/$(VG_DIR) \
	    MATT_VG_BINARY=$(CURDIR)/build/rel/$(NAME) \
	    MATT_DAEMON=$(CURDIR)/scripts/valgrind-daemon.sh \
	    BEN_AFK=$(CURDIR)/build/rel/Ben_AFK; \
	    ($(call run_suite,$(VG_JOBS))) || st=1; \
	bad=$$(grep -lE '$(VG_ERRORS)' $(VG_DIR)/vg.* 2>/dev/null); \
	for f in $$bad; do echo "valgrind: $$f:"; \
	    grep -m1 'Command:' $$f; grep -m3 -E '$(VG_ERRORS)' $$f; st=1; done; \
	echo "valgrind: $$(ls $(VG_DIR) | wc -l) daemon process report(s)" \
	    "in $(VG_DIR), $$(echo $$bad | wc -w) with errors"; \
	exit $$st

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)/etc/matt_daemon
	install -m 755 $(DAEMON_BIN) $(DESTDIR)$(PREFIX)/sbin/$(NAME)
	$(MAN_SED) man/Matt_daemon.8 \
		>$(DESTDIR)$(PREFIX)/share/man/man8/Matt_daemon.8
	install -m 755 $(CLIENT_BIN) $(DESTDIR)$(PREFIX)/bin/Ben_AFK
	$(MAN_SED) man/Ben_AFK.1 >$(DESTDIR)$(PREFIX)/share/man/man1/Ben_AFK.1
ifeq ($(HAVE_GTK),1)
	install -m 755 $(GTK_BIN) $(DESTDIR)$(PREFIX)/bin/Ben_AFK-gtk
	$(MAN_SED) man/Ben_AFK-gtk.1 \
		>$(DESTDIR)$(PREFIX)/share/man/man1/Ben_AFK-gtk.1
endif
	$(MAN_SED) man/matt_daemon.conf.5 \
		>$(DESTDIR)$(PREFIX)/share/man/man5/matt_daemon.conf.5
	chmod 644 $(DESTDIR)$(PREFIX)/share/man/man8/Matt_daemon.8 \
		$(DESTDIR)$(PREFIX)/share/man/man5/matt_daemon.conf.5 \
		$(DESTDIR)$(PREFIX)/share/man/man1/Ben_AFK*.1
	install -d $(DESTDIR)$(DOCDIR) $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 docs/PROTOCOL.md $(DESTDIR)$(DOCDIR)/
	install -m 644 packaging/bash-completion/Matt_daemon \
		packaging/bash-completion/Ben_AFK $(DESTDIR)$(COMPLETIONDIR)/
ifeq ($(HAVE_GTK),1)
	install -m 644 packaging/bash-completion/Ben_AFK-gtk \
		$(DESTDIR)$(COMPLETIONDIR)/
	install -d $(DESTDIR)$(PREFIX)/share/applications \
		$(DESTDIR)$(PREFIX)/$(GTK_ICON_DIR)
	install -m 644 packaging/ben-afk-gtk.desktop \
		$(DESTDIR)$(PREFIX)/share/applications/
	install -m 644 packaging/icons/$(GTK_ICON) \
		$(DESTDIR)$(PREFIX)/$(GTK_ICON_DIR)/
endif
	install -m 644 $(LIBTINTIN) $(DESTDIR)$(PREFIX)/lib/
	install -d $(DESTDIR)$(PREFIX)/include/tintin \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 src/tintin/tintin.h $(DESTDIR)$(PREFIX)/include/tintin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|@LIBS@|$(LDLIBS_TINTIN)|g' src/tintin/tintin.pc.in \
		>$(DESTDIR)$(PREFIX)/lib/pkgconfig/tintin.pc
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/tintin.pc
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's#/usr/local/sbin#$(PREFIX)/sbin#' packaging/matt_daemon.service \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/matt_daemon.service
	install -m 644 packaging/matt_daemon.conf \
		$(DESTDIR)/etc/matt_daemon/matt_daemon.conf.example

# Removes what install put in place; the configuration, keys, users, logs
# and the lock are the administrator's and stay.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/$(NAME) \
		$(DESTDIR)$(PREFIX)/share/man/man8/Matt_daemon.8 \
		$(DESTDIR)$(PREFIX)/bin/Ben_AFK \
		$(DESTDIR)$(PREFIX)/share/man/man1/Ben_AFK.1 \
		$(DESTDIR)$(PREFIX)/bin/Ben_AFK-gtk \
		$(DESTDIR)$(PREFIX)/share/man/man1/Ben_AFK-gtk.1 \
		$(DESTDIR)$(PREFIX)/share/applications/ben-afk-gtk.desktop \
		$(DESTDIR)$(PREFIX)/share/icons/$(GTK_ICON) \
		$(DESTDIR)$(PREFIX)/share/man/man5/matt_daemon.conf.5 \
		$(DESTDIR)$(PREFIX)/lib/libtintin.a \
		$(DESTDIR)$(PREFIX)/include/tintin/tintin.h \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/tintin.pc \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/matt_daemon.service \
		$(DESTDIR)/etc/matt_daemon/matt_daemon.conf.example \
		$(DESTDIR)$(DOCDIR)/PROTOCOL.md \
		$(DESTDIR)$(COMPLETIONDIR)/Matt_daemon \
		$(DESTDIR)$(COMPLETIONDIR)/Ben_AFK \
		$(DESTDIR)$(COMPLETIONDIR)/Ben_AFK-gtk
	-rmdir $(DESTDIR)$(PREFIX)/include/tintin 2>/dev/null
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

# Objects (and test and bench programs) of every build: release, SANITIZE=1,
# BUILD=build/clang...; fclean also removes the binaries and libraries.
clean:
	rm -rf build/*/src build/*/tests build/*/bench

fclean:
	rm -rf build $(NAME) Ben_AFK Ben_AFK-gtk

re: fclean
	$(MAKE) all

-include $(shell find build -name '*.d' 2>/dev/null)
