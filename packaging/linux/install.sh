#!/bin/sh
# Puts this KlezGuard folder in your desktop's menus, for you alone (no root needed): the menu entry, the
# icons and the software-centre description under ~/.local/share, and the `klezguard` command in
# ~/.local/bin. The folder stays where it is; run this again after moving it.
# ./install.sh --uninstall takes all of that away again (your settings and mail data stay).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
app=org.klezguard.KlezGuard
data=${XDG_DATA_HOME:-$HOME/.local/share}
bin=$HOME/.local/bin

refresh() {
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$data/applications/$app.desktop" "$data/metainfo/$app.metainfo.xml"
    find "$data/icons/hicolor" -name "$app.*" -delete 2>/dev/null || true
    [ "$(readlink "$bin/klezguard" 2>/dev/null)" = "$here/klezguard" ] && rm -f "$bin/klezguard"
    refresh
    echo "KlezGuard is no longer in your menus. This folder can be deleted now."
    exit 0
fi

mkdir -p "$data/applications" "$data/metainfo" "$bin"
# Exec= names this folder's program; quoted by the desktop entry rules (\, ", ` and $ escaped, then \ doubled)
exec_path=$(printf '%s' "$here/klezguard" | sed -e 's/[\\"`$]/\\&/g' -e 's/\\/\\\\/g')
sed -e "s|^Exec=.*|Exec=\"$exec_path\"|" "$here/share/applications/$app.desktop" > "$data/applications/$app.desktop"
cp "$here/share/metainfo/$app.metainfo.xml" "$data/metainfo/"
cp -R "$here/share/icons" "$data/"
ln -sf "$here/klezguard" "$bin/klezguard"
refresh
echo "KlezGuard is in your menus now (the command: $bin/klezguard)."
