#!/bin/sh
# Install the Debian packages Matt_daemon needs to build, test and benchmark,
# skipping those already present. Safe to run again; needs root for installs.
set -eu

PKGS="
gcc clang make pkg-config
libinih-dev libssl-dev libedit-dev
libcmocka-dev zlib1g-dev libzstd-dev
libpcre2-dev libcurl4-openssl-dev python3-aiosmtpd
python3 python3-pytest python3-pytest-xdist
rsyslog rsyslog-openssl rsyslog-relp librelp-dev socat netcat-openbsd zstd
prometheus
procps util-linux gdb groff-base tmux valgrind
libgtk-4-dev libvte-2.91-gtk4-dev
xvfb xdotool xclip xauth fonts-dejavu-core imagemagick desktop-file-utils
"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi

echo "deps.sh: installing:$missing"
# Do not let package scripts start services (rsyslog, prometheus) here:
# the tests and benchmarks start their own instances.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=1
fi
trap '[ "$made_policy" = 1 ] && rm -f "$policy"' EXIT

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $missing; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
fi
