#!/bin/sh
# Throughput and memory benchmark: Matt_daemon against rsyslog (imtcp ->
# omfile) and a raw socat TCP-to-file relay, each flooded with the same
# 3 connections x BENCH_LINES 64-byte lines; every line is checked.
#
#   BENCH_LINES=3000000   lines per connection
#   BENCH_RUNS=3          runs per system (interleaved); medians reported
#   BENCH_WARMUP=1        unmeasured Matt_daemon floods first (0: none): the
#                         first gigabyte a fresh machine writes to its page
#                         cache is slow for whoever comes first
#   BENCH_SYSTEMS="matt_daemon md_rotate md_tls md_alerts bare rsyslog socat"
#                         subset
#   BENCH_FRESH_MIB=auto  MiB written and removed just before each measured
#                         flood (0: none; auto: a little more than the
#                         biggest output), see fresh_pages
#
# md_rotate is Matt_daemon rotating its log every 1 MiB with gzip: its
# archiver compresses in a child while the flood goes on.  md_tls is
# Matt_daemon with [tls] mode = required (its own key and certificate in
# the run's temp dir), flooded over 3 TLS connections (flood --tls).
# md_alerts is Matt_daemon with 5 [alert] rules that no flood line matches:
# the cost of testing every record against them.  bare (bench/bare.c) is
# the least a single-threaded logger can do with the flood: Matt_daemon's
# prefix before each line, one write per 64 KiB, nothing else; it is the
# ceiling of the one-thread design, not a competitor.
#   BENCH_LATENCY_LINES=10000   latency step: lines sent at 10,000 lines/s
#                         over one connection (0 skips the step); p50/p99
#                         from a line's send to its record in the log file
#   BENCH_FWD_LINES=3000000  forwarding step: lines per connection (0 skips
#                         it); BENCH_RUNS runs of each of its systems:
#                         fwd_direct, the flood sent straight to a collector
#                         rsyslogd (imtcp -> omfile); fwd_same, the same
#                         lines over one connection, framed as the
#                         forwarder frames them (RFC 5424, octet-counted:
#                         flood -S); fwd_md, Matt_daemon
#                         with [forward] target = tcp:// that collector;
#                         fwd_relay, an rsyslogd relaying the flood through
#                         omfwd (disk-assisted queue) to it; fwd_off,
#                         Matt_daemon without [forward].  Their rate is the
#                         lines reaching the collector's file (fwd_off: the
#                         log); fwd_md's local ingest is timed too.
#                         BENCH_SYSTEMS=none runs only the steps.
#   BENCH_FWD_PIN=1       in the forwarding step, the collector runs on the
#                         last CPU and everything else on the others, as if
#                         the collector were another machine (0: no pinning;
#                         on one CPU there is none)
#   MATT_DAEMON=./Matt_daemon   the daemon binary
#   BUILD=build/rel       where flood and check were built
#
# Exit status: 0 if every run delivered every line once and in order (the
# performance targets print PASS/FAIL but do not change it), 1 otherwise.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build/rel}
LINES=${BENCH_LINES:-3000000}
RUNS=${BENCH_RUNS:-3}
WARMUP=${BENCH_WARMUP:-1}
SYSTEMS=${BENCH_SYSTEMS:-"matt_daemon md_rotate md_tls md_alerts bare rsyslog socat"}
MD=${MATT_DAEMON:-$ROOT/Matt_daemon}
CONNS=3
PORT_LO=15000
PORT_HI=15099
FLOOD=$ROOT/$BUILD/bench/flood
CHECK=$ROOT/$BUILD/bench/check
LATENCY=$ROOT/$BUILD/bench/latency
BARE=$ROOT/$BUILD/bench/bare
FRESH=${BENCH_FRESH_MIB:-auto}
LAT_LINES=${BENCH_LATENCY_LINES:-10000}
LAT_RATE=10000
FWD_LINES=${BENCH_FWD_LINES:-3000000}
FWD_PIN=${BENCH_FWD_PIN:-1}
FWD_SYSTEMS=${BENCH_FWD_SYSTEMS:-"fwd_direct fwd_same fwd_md fwd_relay fwd_off"}
COLLECTOR_PID=
LOCAL_OUT=
PIN_COL=		# the forwarding step: "taskset -c N" for the collector
PIN_SIDE=	# and for everything else (BENCH_FWD_PIN)
[ "$SYSTEMS" = none ] && SYSTEMS=

die() {
	echo "bench: $*" >&2
	exit 1
}

case $LINES in ''|*[!0-9]*) die "BENCH_LINES must be a number" ;; esac
case $RUNS in ''|*[!0-9]*) die "BENCH_RUNS must be a number" ;; esac
case $WARMUP in ''|*[!0-9]*) die "BENCH_WARMUP must be a number" ;; esac
[ "$LINES" -ge 1 ] && [ "$LINES" -le 1000000000 ] ||
	die "BENCH_LINES must be 1..1000000000"
[ "$RUNS" -ge 1 ] || die "BENCH_RUNS must be at least 1"
case $LAT_LINES in ''|*[!0-9]*) die "BENCH_LATENCY_LINES must be a number" ;;
esac
case $FRESH in auto) ;; ''|*[!0-9]*) die "BENCH_FRESH_MIB must be auto or a number" ;;
esac
[ "$LAT_LINES" -le 10000000 ] || die "BENCH_LATENCY_LINES must be 0..10000000"
case $FWD_PIN in 0|1) ;; *) die "BENCH_FWD_PIN must be 0 or 1" ;; esac
case $FWD_LINES in ''|*[!0-9]*) die "BENCH_FWD_LINES must be a number" ;; esac
[ "$FWD_LINES" -le 1000000000 ] || die "BENCH_FWD_LINES must be 0..1000000000"
[ "$FWD_LINES" -eq 0 ] || command -v rsyslogd >/dev/null ||
	die "rsyslogd not found (BENCH_FWD_LINES=0 skips forwarding)"
[ "$LAT_LINES" -eq 0 ] || [ -x "$LATENCY" ] ||
	die "$LATENCY missing: run 'make bench'"
[ "$(id -u)" -eq 0 ] || die "must run as root (Matt_daemon needs it)"
[ -x "$FLOOD" ] && [ -x "$CHECK" ] ||
	die "$FLOOD or $CHECK missing: run 'make bench'"
for s in $SYSTEMS; do
	case $s in
	matt_daemon|md_rotate|md_tls|md_alerts)
		[ -x "$MD" ] || die "$MD missing: run 'make'" ;;
	rsyslog) command -v rsyslogd >/dev/null || die "rsyslogd not found" ;;
	socat) command -v socat >/dev/null || die "socat not found" ;;
	bare) [ -x "$BARE" ] || die "$BARE missing: run 'make bench'" ;;
	*) die "unknown system '$s' in BENCH_SYSTEMS" ;;
	esac
done

TOTAL=$((CONNS * LINES))
# The biggest output: under 128 bytes a record, plus 64 MiB.
[ "$FRESH" = auto ] && FRESH=$((TOTAL / 8192 + 64))
# Generous bounds: 20 s plus 50 us per line (20k lines/s is very slow).
TIMEOUT=$((20 + TOTAL / 20000))
HZ=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/mdbench.XXXXXX) || die "mktemp failed"
RESULTS=$WORK/results
: >"$RESULTS"
SERVER_PID=
SERVER_IS_CHILD=0
FLOOD_OPTS=
RUN_DIR=
FAILED=0
NEXT_PORT=$((PORT_LO + $$ % (PORT_HI - PORT_LO + 1)))

# --- helpers ---------------------------------------------------------------

# Field of /proc/PID/status in KiB (VmRSS, VmHWM), or "-".
proc_kb() {
	awk -v k="$2:" '$1 == k { print $2; found = 1 }
	    END { if (!found) print "-" }' "/proc/$1/status" 2>/dev/null ||
		echo -
}

# CPU seconds of PID and its reaped children (utime+stime+cutime+cstime).
proc_cpu() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null |
	    awk -v hz="$HZ" '{ printf "%.2f", ($12 + $13 + $14 + $15) / hz }'
}

# Is anything on this machine using local TCP port $1 (any state)?
port_used() {
	hex=$(printf ':%04X' "$1")
	awk -v h="$hex" 'NR > 1 && substr($2, length($2) - 4) == h { f = 1 }
	    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Pick the next unused port in PORT_LO..PORT_HI (never 4242).
pick_port() {
	n=0
	while [ $n -le $((PORT_HI - PORT_LO)) ]; do
		p=$NEXT_PORT
		NEXT_PORT=$((NEXT_PORT + 1))
		[ $NEXT_PORT -gt $PORT_HI ] && NEXT_PORT=$PORT_LO
		n=$((n + 1))
		port_used "$p" || { PORT=$p; return 0; }
	done
	die "no free port in $PORT_LO..$PORT_HI"
}

# Wait until something listens on 127.0.0.1:$1 (bounded: 10 s); fail at
# once if process $2 (default: the server) dies.
wait_listen() {
	hex=$(printf '0100007F:%04X' "$1")
	wpid=${2:-$SERVER_PID}
	i=0
	while [ $i -lt 200 ]; do
		awk -v h="$hex" '$2 == h && $4 == "0A" { f = 1 }
		    END { exit !f }' /proc/net/tcp && return 0
		[ -n "$wpid" ] && ! alive "$wpid" && return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# Is PID alive (a zombie is not: the daemon's parent is init, which may
# reap it late)?
alive() {
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $1 }')
	[ -n "$st" ] && [ "$st" != Z ]
}

# Stop process $1, which this script started (by PID only): SIGTERM, then
# SIGKILL after 10 s; $2 is 1 if it is this shell's child, to be reaped.
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	i=0
	while alive "$1" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if alive "$1"; then
		echo "bench: pid $1 ignored SIGTERM, killing it" >&2
		kill -KILL "$1" 2>/dev/null
	fi
	[ "$2" -eq 1 ] && wait "$1" 2>/dev/null
}

# Stop the server of the run.
stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	stop_pid "$SERVER_PID" "$SERVER_IS_CHILD"
	SERVER_PID=
	SERVER_IS_CHILD=0
}

# Stop the collector of the forwarding step.
stop_collector() {
	[ -n "$COLLECTOR_PID" ] || return 0
	stop_pid "$COLLECTOR_PID" 1
	COLLECTOR_PID=
}

cleanup() {
	stop_server
	stop_collector
	[ -n "$RUN_DIR" ] && rm -rf "$RUN_DIR"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# The machine's memory may be a virtio balloon that hands freed pages back
# to the hypervisor (free page reporting, /sys/module/page_reporting); the
# first write to such a page then costs a host page fault.  Writing 1 GiB
# to the page cache took 1.1 s on reported pages against 0.22 s on pages
# just freed, so each system's rate depended on how much memory the run
# before it had freed, and how long ago.  So before every measured flood:
# wait (at most 10 s) until the reporting is quiet for 2.5 s, then write
# and remove FRESH MiB, which gives each system the same pool of resident,
# just-freed pages (the reporting only starts about 1.5 s after a free).
REPORTED=/sys/module/page_reporting/parameters/reported_kib
fresh_pages() {
	[ "$FRESH" -gt 0 ] || return 0
	if [ -r "$REPORTED" ]; then
		last=$(cat "$REPORTED") still=0 i=0
		while [ $still -lt 5 ] && [ $i -lt 20 ]; do
			sleep 0.5
			now=$(cat "$REPORTED")
			if [ "$now" = "$last" ]; then
				still=$((still + 1))
			else
				still=0
				last=$now
			fi
			i=$((i + 1))
		done
	fi
	dd if=/dev/zero of="$1/fresh" bs=1M count="$FRESH" 2>/dev/null ||
		die "could not write $FRESH MiB to $1 (BENCH_FRESH_MIB)"
	rm -f "$1/fresh"
}

# --- servers: start_<system> DIR PORT sets SERVER_PID, OUT, MODE ------------
# MODE: check option for the output: -r raw relay, -u order not promised.
# FLOOD_OPTS: extra flood options (--tls).

start_matt_daemon() {
	cat >"$1/md.conf" <<EOF
[daemon]
port = $2
listen = 127.0.0.1
lock_file = $1/md.lock
max_clients = $CONNS
[log]
dir = $1
${MD_EXTRA:-}
EOF
	OUT=$1/matt_daemon.log
	MODE=
	FLOOD_OPTS=
	SERVER_IS_CHILD=0
	# The launcher returns once the daemon listens; its PID is in the lock.
	$PIN_SIDE "$MD" -c "$1/md.conf" >"$1/server.err" 2>&1 || return 1
	SERVER_PID=$(head -n 1 "$1/md.lock" 2>/dev/null)
	case $SERVER_PID in ''|*[!0-9]*) SERVER_PID=; return 1 ;; esac
	[ "$(cat "/proc/$SERVER_PID/comm" 2>/dev/null)" = Matt_daemon ] || {
		SERVER_PID=
		return 1
	}
	wait_listen "$2"
}

# Matt_daemon rotating every 1 MiB with gzip.  Its lines are spread over
# the archives: see assemble_rotated.
start_md_rotate() {
	MD_EXTRA="rotate_size = 1M
compress = gzip" start_matt_daemon "$@" || return 1
	MODE=ROT
}

# Matt_daemon accepting TLS only; it creates its key and certificate at
# start (not timed: the flood starts once it listens).
start_md_tls() {
	MD_EXTRA="[tls]
mode = required
cert = $1/cert.pem
key = $1/key.pem" start_matt_daemon "$@" || return 1
	FLOOD_OPTS=--tls
}

# Matt_daemon with 5 alert rules, none matching a flood line (so no mail:
# the SMTP port is closed anyway).
start_md_alerts() {
	MD_EXTRA="[mail]
smtp_url = smtp://127.0.0.1:9
spool = none
[alert auth]
match = authentication failure|Failed password for
to = root@localhost
[alert crash]
match = segfault|kernel panic|Out of memory
to = root@localhost
[alert destroy]
match = rm -rf /|mkfs\\.|dd if=/dev/
to = root@localhost
[alert errors]
match = ERROR [0-9]{3,}
to = root@localhost
[alert sudo]
match = sudo: .*COMMAND=
to = root@localhost" start_matt_daemon "$@"
}

# Archives in rotation order (stamp, then -N), decompressed, then the live
# file, into $1/all.log.  Unfinished .tmp files are skipped: the archiver
# renames an archive only when it is whole and removes its source after.
assemble_rotated() {
	for f in $(cd "$1" && ls | grep '^matt_daemon\.log\.[0-9]' |
	    grep -v '\.tmp$' | sed 's/^matt_daemon\.log\.//' |
	    awk -F'[-.]' '{ n = ($3 ~ /^[0-9]+$/) ? $3 : 0
	        print $1 " " $2 " " n " " $0 }' |
	    sort -k1,1 -k2,2 -k3,3n | awk '{ print $4 }'); do
		case $f in
		*.gz) gzip -dc "$1/matt_daemon.log.$f" ;;
		*) cat "$1/matt_daemon.log.$f" ;;
		esac
	done >"$1/all.log"
	cat "$1/matt_daemon.log" >>"$1/all.log"
}

start_rsyslog() {
	FLOOD_OPTS=
	# Stock settings: default main queue, imtcp and omfile defaults; only
	# imtcp loaded (no imuxsock/imklog); same record shape as Matt_daemon.
	# %rawmsg% is the received line (%msg% would lose its first word to
	# the syslog tag parser).  The default main queue runs several worker
	# threads, so rsyslog does not keep a connection's lines in order:
	# its output is checked for "each line exactly once" (-u), and the
	# number of lines out of order is shown.  (queue.workerThreads="1"
	# in main_queue() keeps the order.)
	t='%timegenerated:::date-'
	cat >"$1/rsyslog.conf" <<EOF
global(workDirectory="$1")
module(load="imtcp")
template(name="md" type="string"
    string="[${t}day%/${t}month%/${t}year%-${t}hour%:${t}minute%:${t}second%] [ LOG ] - Matt_daemon: User input: %rawmsg%\n")
input(type="imtcp" port="$2" address="127.0.0.1")
action(type="omfile" file="$1/rsyslog.log" template="md")
EOF
	OUT=$1/rsyslog.log
	MODE=-u
	rsyslogd -n -f "$1/rsyslog.conf" -i "$1/rsyslog.pid" \
	    >"$1/server.err" 2>&1 &
	SERVER_PID=$!
	SERVER_IS_CHILD=1
	wait_listen "$2"
}

# bench/bare: the least one thread can do (prefix, copy, write).
start_bare() {
	FLOOD_OPTS=
	OUT=$1/bare.log
	MODE=
	"$BARE" -p "$2" -o "$OUT" >"$1/server.err" 2>&1 &
	SERVER_PID=$!
	SERVER_IS_CHILD=1
	wait_listen "$2"
}

start_socat() {
	FLOOD_OPTS=
	OUT=$1/socat.out
	MODE=-r
	socat -u "TCP-LISTEN:$2,fork,reuseaddr,bind=127.0.0.1" \
	    "OPEN:$OUT,creat,append" >"$1/server.err" 2>&1 &
	SERVER_PID=$!
	SERVER_IS_CHILD=1
	wait_listen "$2"
}

# --- the forwarding step: a collector, and what floods it ------------------

# The collector: a stock rsyslogd (imtcp, which takes octet-counted and
# newline-framed messages alike, -> omfile) on port $2, writing each
# message whole to $1/collector.log: the flood's marker survives any
# header.  Its main queue does not promise order: check -u.
start_collector() {
	mkdir -p "$1/col"
	cat >"$1/col/rsyslog.conf" <<EOF
global(workDirectory="$1/col" maxMessageSize="64k")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\n")
input(type="imtcp" port="$2" address="127.0.0.1")
action(type="omfile" file="$1/collector.log" template="raw")
EOF
	$PIN_COL rsyslogd -n -f "$1/col/rsyslog.conf" -i "$1/col/rsyslog.pid" \
	    >"$1/col/server.err" 2>&1 &
	COLLECTOR_PID=$!
	wait_listen "$2" "$COLLECTOR_PID" && return 0
	sed 's/^/collector: /' "$1/col/server.err" >>"$1/server.err"
	return 1
}

# The flood straight to the collector: it is the server.
start_fwd_direct() {
	start_collector "$1" "$2" || return 1
	SERVER_PID=$COLLECTOR_PID
	SERVER_IS_CHILD=1
	COLLECTOR_PID=
	OUT=$1/collector.log
	MODE=-u
	FLOOD_OPTS=
}

# What the collector does with what the forwarder sends it: the same
# lines over one connection (the forwarder keeps them in order on one, as
# omfwd does), each in the frame and header the forwarder gives it.
start_fwd_same() {
	start_fwd_direct "$@" || return 1
	FLOOD_OPTS=-S
	RUN_CONNS=1
	RUN_LINES=$((CONNS * LINES))
}

# Matt_daemon forwarding its records (level log: the flood's, not its
# own notes) to the collector over tcp://; LOCAL_OUT is its own log.
start_fwd_md() {
	mdport=$2
	pick_port
	start_collector "$1" "$PORT" || return 1
	MD_EXTRA="[forward]
target = tcp://127.0.0.1:$PORT
level = log
state_dir = $1/state" start_matt_daemon "$1" "$mdport" || return 1
	PORT=$mdport	# what the flood goes to
	LOCAL_OUT=$1/matt_daemon.log
	OUT=$1/collector.log
	MODE=-u
}

# rsyslog as the relay: imtcp -> omfwd over TCP to the collector, with a
# disk-assisted queue (in memory, spilled to disk when it fills).
start_fwd_relay() {
	relport=$2
	pick_port
	start_collector "$1" "$PORT" || return 1
	mkdir -p "$1/relay"
	cat >"$1/relay/rsyslog.conf" <<EOF
global(workDirectory="$1/relay" maxMessageSize="64k")
module(load="imtcp")
template(name="fwd" type="string" string="<13>%rawmsg%")
input(type="imtcp" port="$relport" address="127.0.0.1")
action(type="omfwd" target="127.0.0.1" port="$PORT" protocol="tcp"
    template="fwd" queue.type="LinkedList" queue.filename="relayq"
    queue.saveOnShutdown="on" action.resumeRetryCount="-1")
EOF
	$PIN_SIDE rsyslogd -n -f "$1/relay/rsyslog.conf" -i "$1/relay/rsyslog.pid" \
	    >"$1/server.err" 2>&1 &
	SERVER_PID=$!
	SERVER_IS_CHILD=1
	PORT=$relport	# what the flood goes to
	OUT=$1/collector.log
	MODE=-u
	FLOOD_OPTS=
	wait_listen "$relport"
}

# Matt_daemon without [forward], at the step's size.
start_fwd_off() {
	start_matt_daemon "$@"
}

# --- one run of one system ----------------------------------------------------

# Appends "system run ok rate idle_kb peak_kb cpu_s send_s" to RESULTS
# (not for run 0, a warm-up).
run_one() {
	sys=$1
	run=$2
	RUN_DIR=$(mktemp -d /tmp/mdbench.XXXXXX) || die "mktemp failed"
	pick_port
	ok=FAIL
	rate=- idle=- peak=- cpu=- send=- lrate=-
	LOCAL_OUT=
	RUN_CONNS=$CONNS	# a system may flood otherwise (fwd_same)
	RUN_LINES=$LINES
	if ! "start_$sys" "$RUN_DIR" "$PORT"; then
		echo "bench: $sys: server did not start on port $PORT:" >&2
		sed 's/^/bench:   /' "$RUN_DIR/server.err" >&2
		stop_server
		stop_collector
		FAILED=1
		echo "$sys $run $ok $rate $idle $peak $cpu $send $lrate" \
		    >>"$RESULTS"
		rm -rf "$RUN_DIR"
		RUN_DIR=
		return
	fi
	sleep 1
	idle=$(proc_kb "$SERVER_PID" VmRSS)
	fresh_pages "$RUN_DIR"

	$PIN_SIDE "$FLOOD" -c "$RUN_CONNS" -l "$RUN_LINES" -p "$PORT" -m "$SERVER_PID" \
	    -t "$TIMEOUT" $FLOOD_OPTS >"$RUN_DIR/flood.out"
	frc=$?
	if [ "$MODE" = ROT ]; then
		# The lines are spread over archives being compressed: time
		# until the daemon closed the connections (all lines read and
		# logged), then check every line once the daemon has stopped.
		awk -F= '$1 == "closed" { print "done=" $2 }' \
		    "$RUN_DIR/flood.out" >"$RUN_DIR/wait.out"
		grep -q '^done=' "$RUN_DIR/wait.out"
		wrc=$?
		narch=$(ls "$RUN_DIR" | grep -c '^matt_daemon\.log\.[0-9]')
		hwm=$(proc_kb "$SERVER_PID" VmHWM)
		cpu=$(proc_cpu "$SERVER_PID")
		stop_server
		assemble_rotated "$RUN_DIR"
		OUT=$RUN_DIR/all.log
		MODE=
	else
		if [ -n "$LOCAL_OUT" ] && "$CHECK" -c "$CONNS" -l "$LINES" \
		    -w "$TIMEOUT" -s 60 "$LOCAL_OUT" >"$RUN_DIR/local.out"; then
			lrate=$(cat "$RUN_DIR/flood.out" "$RUN_DIR/local.out" |
			    awk -F= -v n="$TOTAL" '$1 == "start" { s = $2 }
			    $1 == "done" { d = $2 }
			    END { printf "%.0f", n / (d - s) }')
		fi
		# Bounded: TIMEOUT, or 60 s without the file growing.
		"$CHECK" -c "$RUN_CONNS" -l "$RUN_LINES" $MODE -w "$TIMEOUT" -s 60 \
		    "$OUT" >"$RUN_DIR/wait.out"
		wrc=$?
		[ $wrc -eq 0 ] || echo "bench: $sys: $OUT did not get every" \
		    "line in time ($(wc -l <"$OUT" 2>/dev/null) lines)" >&2
		hwm=
	fi
	if [ -z "$hwm" ]; then
		sleep 0.3	# let socat reap its children, for their CPU time
		hwm=$(proc_kb "$SERVER_PID" VmHWM)
		cpu=$(proc_cpu "$SERVER_PID")
	fi
	kids=$(awk -F= '$1 == "children_hwm_sum_kb" { print $2 }' \
	    "$RUN_DIR/flood.out")
	nkids=$(awk -F= '$1 == "children" { print $2 }' "$RUN_DIR/flood.out")
	case $hwm in -) peak=- ;; *) peak=$((hwm + ${kids:-0})) ;; esac
	if [ $frc -eq 0 ] && [ $wrc -eq 0 ]; then
		rate=$(cat "$RUN_DIR/flood.out" "$RUN_DIR/wait.out" |
		    awk -F= -v n="$TOTAL" '$1 == "start" { s = $2 }
		    $1 == "sent" { t = $2 } $1 == "done" { d = $2 }
		    END { printf "%.0f %.3f", n / (d - s), t - s }')
		send=${rate#* }
		rate=${rate% *}
		if "$CHECK" -q -c "$RUN_CONNS" -l "$RUN_LINES" $MODE "$OUT" \
		    >"$RUN_DIR/check.out" 2>&1; then
			ok=ok
			late=$(sed -n 's/.*each once; \([0-9]*\) lines arrived.*/\1/p' \
			    "$RUN_DIR/check.out")
			[ -n "$late" ] && ok="ok(unordered:$late)"
		else
			sed 's/^/bench:   /' "$RUN_DIR/check.out" >&2
			rate=-
		fi
	else
		echo "bench: $sys: flood or completion wait failed" >&2
	fi
	case $ok in ok*) ;; *) FAILED=1 ;; esac
	ccpu= fcpu= cbytes=
	[ -n "$COLLECTOR_PID" ] && ccpu=$(proc_cpu "$COLLECTOR_PID")
	# What the collector takes costs it by the byte: the size of a message.
	case $OUT in */collector.log) [ "$rate" != - ] &&
		cbytes=$(($(stat -c %s "$OUT") / TOTAL - 1)) ;;
	esac
	# Matt_daemon's forwarder child (comm md-forward), still running.
	for k in $(cat "/proc/$SERVER_PID/task/$SERVER_PID/children" \
	    2>/dev/null); do
		[ "$(cat "/proc/$k/comm" 2>/dev/null)" = md-forward ] &&
			fcpu=$(proc_cpu "$k")
	done
	stop_server
	stop_collector
	if [ "$run" -eq 0 ]; then
		label="warm-up"
	else
		label="run $run"
		echo "$sys $run $ok $rate $idle $peak $cpu $send $lrate" \
		    >>"$RESULTS"
	fi
	printf '  %-7s %-12s %10s lines/s  idle %5s KiB  peak %6s KiB%s  ' \
	    "$label" "$sys" "$rate" "$idle" "$peak" \
	    "$([ "${nkids:-0}" -gt 0 ] && echo " (parent+$nkids children)")"
	printf 'cpu %ss  client sent in %ss  %s%s\n' "$cpu" "$send" "$ok" \
	    "$([ -n "$LOCAL_OUT" ] && echo "  local log $lrate lines/s")$(
	    [ -n "$ccpu" ] && echo "  collector cpu ${ccpu}s")$(
	    [ -n "$fcpu" ] && echo "  forwarder cpu ${fcpu}s")$(
	    [ -n "$cbytes" ] && echo "  ${cbytes} bytes a message")"
	rm -rf "$RUN_DIR"
	RUN_DIR=
}

# --- latency: one line to its record ----------------------------------------

# LAT_LINES lines at LAT_RATE lines/s over one connection to Matt_daemon;
# bench/latency times each from its send to its record appearing in the
# log file, and prints p50/p99/max in microseconds.
run_latency() {
	RUN_DIR=$(mktemp -d /tmp/mdbench.XXXXXX) || die "mktemp failed"
	pick_port
	p50=- p99=- max=-
	if ! start_matt_daemon "$RUN_DIR" "$PORT"; then
		echo "bench: latency: Matt_daemon did not start on port $PORT:" >&2
		sed 's/^/bench:   /' "$RUN_DIR/server.err" >&2
		FAILED=1
	elif ! "$LATENCY" -p "$PORT" -f "$RUN_DIR/matt_daemon.log" \
	    -l "$LAT_LINES" -r "$LAT_RATE" -t 60 >"$RUN_DIR/lat.out"; then
		echo "bench: latency: lines lost or not parsed:" >&2
		sed 's/^/bench:   /' "$RUN_DIR/lat.out" >&2
		FAILED=1
	else
		p50=$(awk -F= '$1 == "p50_us" { print $2 }' "$RUN_DIR/lat.out")
		p99=$(awk -F= '$1 == "p99_us" { print $2 }' "$RUN_DIR/lat.out")
		max=$(awk -F= '$1 == "max_us" { print $2 }' "$RUN_DIR/lat.out")
	fi
	stop_server
	rm -rf "$RUN_DIR"
	RUN_DIR=
	awk -v a="$p50" -v b="$p99" -v m="$max" -v n="$LAT_LINES" \
	    -v r="$LAT_RATE" 'BEGIN {
		ok = b != "-" && b + 0 < 1000
		printf "%-4s Matt_daemon latency, %d lines at %d lines/s: " \
		    "p50=%s us p99=%s us max=%s us (target p99 < 1000 us)\n",
		    ok ? "PASS" : "FAIL", n, r, a, b, m
	}'
}

# --- main -----------------------------------------------------------------------

median() {	# median of column $2 for system $1 ("-" if any run failed)
	awk -v s="$1" -v c="$2" '$1 == s { if ($c == "-") bad = 1; v[n++] = $c }
	    END {
		if (bad || n == 0) { print "-"; exit }
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
		if (n % 2) print v[int(n / 2)]
		else printf "%.10g\n", (v[n / 2 - 1] + v[n / 2]) / 2
	    }' "$RESULTS"
}

maxcol() {	# maximum of column $2 for system $1
	awk -v s="$1" -v c="$2" '$1 == s && $c != "-" && ($c + 0 > m + 0 || m == "") { m = $c }
	    END { print (m == "" ? "-" : m) }' "$RESULTS"
}

echo "bench: $CONNS connections x $LINES lines of 64 bytes per system," \
    "$RUNS run(s), $(nproc) CPUs, $(uname -sr)"
echo "bench: rsyslogd $(rsyslogd -v 2>/dev/null | awk 'NR == 1 { print $2 }')," \
    "$(socat -V 2>/dev/null | awk '/socat version/ { print "socat " $3 }')"
# BENCH_RUNS runs of each system named, interleaved run by run.
run_all() {
	r=1
	while [ $r -le "$RUNS" ]; do
		for s in "$@"; do
			run_one "$s" "$r"
		done
		r=$((r + 1))
	done
}

w=0
[ -n "$SYSTEMS" ] || w=$WARMUP	# BENCH_SYSTEMS=none: the steps only
while [ $w -lt "$WARMUP" ]; do
	run_one matt_daemon 0
	w=$((w + 1))
done
run_all $SYSTEMS

[ -n "$SYSTEMS" ] && {
echo
echo "Median of $RUNS run(s); peak RSS = highest VmHWM over the runs (socat:"
echo "parent + sum of its forked children's VmHWM); idle RSS = VmRSS 1 s after"
echo "start; lines/s = $TOTAL lines / (first connect -> last line in the file)."
echo
printf '%-12s %12s %9s %10s %10s %8s %6s\n' system lines/s MiB/s \
    "peak KiB" "idle KiB" "cpu s" check
}
for s in $SYSTEMS; do
	rate=$(median "$s" 4)
	mib=$(echo "$rate" | awk '$1 == "-" { print "-"; exit }
	    { printf "%.1f", $1 * 64 / 1048576 }')
	okc=$(awk -v s="$s" '$1 == s && $3 !~ /^ok/ { b = 1 }
	    $1 == s && $3 ~ /unordered/ { u = 1 }
	    END { print (b ? "FAIL" : u ? "ok*" : "ok") }' "$RESULTS")
	printf '%-12s %12s %9s %10s %10s %8s %6s\n' "$s" "$rate" "$mib" \
	    "$(maxcol "$s" 6)" "$(maxcol "$s" 5)" "$(median "$s" 7)" "$okc"
done

has() { case " $SYSTEMS " in *" $1 "*) return 0 ;; esac; return 1; }

# verdict NAME VALUE OP LIMIT: PASS/FAIL line ("-" values cannot pass).
verdict() {
	awk -v n="$1" -v v="$2" -v op="$3" -v l="$4" -v u="$5" 'BEGIN {
		ok = v != "-" && (op == ">=" ? v + 0 >= l + 0 : v + 0 < l + 0)
		printf "%-4s %s: %s (target %s %s)\n", ok ? "PASS" : "FAIL", n,
		    v u, op, l u
	}'
}

info() {	# info NAME RATIO: a figure with no target
	printf 'INFO %s: %sx\n' "$1" "$2"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) print "-"
		else printf "%.3f", a / b	# compared as printed
	}'
}

echo
if has matt_daemon; then
	md=$(median matt_daemon 4)
	if has rsyslog; then
		verdict "Matt_daemon/rsyslog throughput" \
		    "$(ratio "$md" "$(median rsyslog 4)")" ">=" 4 x
	fi
	if has socat; then
		verdict "Matt_daemon/socat throughput" \
		    "$(ratio "$md" "$(median socat 4)")" ">=" 1.2 x
	fi
	if has bare; then
		info "Matt_daemon / bare one-thread logger" \
		    "$(ratio "$md" "$(median bare 4)")"
	fi
	if has md_rotate; then
		verdict "Matt_daemon rotating 1 MiB+gzip / not rotating" \
		    "$(ratio "$(median md_rotate 4)" "$md")" ">=" 0.70 x
	fi
	if has md_tls; then
		verdict "Matt_daemon TLS / plain" \
		    "$(ratio "$(median md_tls 4)" "$md")" ">=" 0.60 x
	fi
	if has md_alerts; then
		verdict "Matt_daemon 5 alert rules / none" \
		    "$(ratio "$(median md_alerts 4)" "$md")" ">=" 0.60 x
	fi
	verdict "Matt_daemon peak RSS during flood" \
	    "$(maxcol matt_daemon 6 | awk '$1 == "-" { print; exit }
	    { printf "%.2f", $1 / 1024 }')" "<" 8 " MiB"
	verdict "Matt_daemon idle RSS" \
	    "$(maxcol matt_daemon 5 | awk '$1 == "-" { print; exit }
	    { printf "%.2f", $1 / 1024 }')" "<" 4 " MiB"
fi
if has bare && has socat; then
	info "bare one-thread logger / socat" \
	    "$(ratio "$(median bare 4)" "$(median socat 4)")"
fi
[ "$LAT_LINES" -eq 0 ] || run_latency

# --- forwarding: the collector is the bottleneck; is the forwarder? ---------
run_forward() {
	LINES=$FWD_LINES
	TOTAL=$((CONNS * LINES))
	case ${BENCH_FRESH_MIB:-auto} in auto) FRESH=$((TOTAL / 8192 + 64)) ;; esac
	TIMEOUT=$((20 + TOTAL / 20000))
	echo
	echo "bench: forwarding: $CONNS connections x $LINES lines, $RUNS run(s)"
	ncpu=$(nproc)
	if [ "$FWD_PIN" = 1 ] && [ "$ncpu" -ge 2 ]; then
		PIN_COL="taskset -c $((ncpu - 1))"
		PIN_SIDE="taskset -c 0-$((ncpu - 2))"
		echo "bench: the collector on CPU $((ncpu - 1)), the rest on" \
		    "CPU 0-$((ncpu - 2)) (BENCH_FWD_PIN=0: no pinning)"
	fi
	run_all $FWD_SYSTEMS
	echo
	echo "Median of $RUNS run(s); lines/s = $TOTAL lines / (first connect"
	echo "-> last line in the collector's file; fwd_off: in the local log)."
	echo
	printf '%-12s %12s %14s %6s\n' system lines/s "local lines/s" check
	for s in $FWD_SYSTEMS; do
		okc=$(awk -v s="$s" '$1 == s && $3 !~ /^ok/ { b = 1 }
		    $1 == s && $3 ~ /unordered/ { u = 1 }
		    END { print (b ? "FAIL" : u ? "ok*" : "ok") }' "$RESULTS")
		printf '%-12s %12s %14s %6s\n' "$s" "$(median "$s" 4)" \
		    "$(median "$s" 9)" "$okc"
	done
	echo
	# The collector's cost is by the byte (bench/README.md): the bare
	# lines are half the bytes of the RFC 5424 messages any forwarder
	# sends, so "not the bottleneck" is measured against the same
	# messages sent straight to it.
	direct=$(median fwd_direct 4)
	verdict "Matt_daemon forwarding / the same messages straight to it" \
	    "$(ratio "$(median fwd_md 4)" "$(median fwd_same 4)")" ">=" 0.9 x
	info "Matt_daemon forwarding / the bare lines straight to it" \
	    "$(ratio "$(median fwd_md 4)" "$direct")"
	info "rsyslog relay (omfwd, disk-assisted queue) / the bare lines" \
	    "$(ratio "$(median fwd_relay 4)" "$direct")"
	verdict "Matt_daemon local ingest, forwarding / not forwarding" \
	    "$(ratio "$(median fwd_md 9)" "$(median fwd_off 4)")" ">=" 0.9 x
	echo "ok* = every line exactly once at the collector, not in order" \
	    "(its main queue)"
}
[ "$FWD_LINES" -eq 0 ] || run_forward

case " $SYSTEMS " in *" rsyslog "*)
	echo "ok* = every line exactly once, but not in order within its" \
	    "connection (rsyslog's"
	echo "default main queue has several workers; it does not promise order)"
esac

if [ $FAILED -ne 0 ]; then
	echo "bench: FAILED: a server lost, duplicated, reordered or corrupted" \
	    "lines, or did not run (see above)"
	exit 1
fi
echo "bench: every line of every run arrived exactly once (in order unless ok*)"
exit 0
