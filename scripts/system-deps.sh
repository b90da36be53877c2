#!/usr/bin/env bash
# Debian packages the test suite needs: a real Dovecot IMAP server, and Xvfb with a small tray (trayer)
# plus the libraries Qt's xcb plugin needs (the same list as klezguard/cli XCB_LIBRARIES), for the tray,
# screenshot and desktop tests; desktop-file-utils and appstream validate the Linux desktop entry and metainfo,
# binutils is what PyInstaller reads libraries with (make dist), x11-utils finds the bundle's window (xwininfo).
# Installed only when missing and when we are root on a Debian-like system; elsewhere the tests that need
# them say how to get them (and under CI=true they fail instead of skipping).
set -u
need() { dpkg -s "$1" >/dev/null 2>&1 || packages+=("$1"); }
packages=()
if command -v dpkg >/dev/null 2>&1; then
    for p in dovecot-imapd xvfb trayer libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 \
             libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libegl1 libfontconfig1 \
             libgl1 dnsmasq-base; do
        need "$p"
    done
else
    command -v dovecot >/dev/null 2>&1 || packages+=(dovecot-imapd)
    command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || packages+=(dnsmasq-base)
    command -v Xvfb >/dev/null 2>&1 || packages+=(xvfb trayer)
fi
# the packaging tests (issue 14)
if command -v dpkg >/dev/null 2>&1; then
    for p in desktop-file-utils appstream binutils x11-utils; do need "$p"; done
else
    command -v desktop-file-validate >/dev/null 2>&1 || packages+=(desktop-file-utils appstream binutils x11-utils)
fi
[ ${#packages[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: missing ${packages[*]} (install with: sudo apt-get install ${packages[*]}); their tests will be skipped" >&2
    exit 0
fi
echo "installing ${packages[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
