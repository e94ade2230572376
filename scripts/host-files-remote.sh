# host-files-remote.sh: what install-host-files.sh sends to a host's `sudo -n /bin/sh -s`, followed by the host's
# declarations (stacks/host-files.ts: meet_file <path> <mode> with the content as a quoted here-document,
# meet_units <unit>..., meet_tmpfiles <file>) and meet_commit. Each file is staged beside its target, root-owned with
# its mode, and renamed into place (atomic) only when its bytes, mode or owner differ; only a stream that reached
# meet_commit changes anything. Files an earlier run installed and this one does not are removed (their timer or
# path unit disabled first). Then daemon-reload (only after a change), tmpfiles, enable --now, and a restart of the
# timer and path units whose files an earlier run had installed differently (a new schedule takes effect). Running it again with the same files changes nothing.
set -eu
umask 022
meet_manifest=/var/lib/meet/host-files.list
meet_units_list=''
meet_tmpfiles_file=''
meet_work=$(mktemp -d)
: > "$meet_work/staged"
trap 'while read -r tmp rest; do rm -f "$tmp"; done < "$meet_work/staged"; rm -rf "$meet_work"' EXIT

meet_file() {
  case $1 in /*) ;; *) echo "host-files: \"$1\" is not an absolute path" >&2; exit 2;; esac
  case $2 in 0644|0755) ;; *) echo "host-files: mode \"$2\" of $1 is neither 0644 nor 0755" >&2; exit 2;; esac
  mkdir -p "${1%/*}/"
  tmp=$(mktemp "${1%/*}/.meet-host-file.XXXXXX")
  echo "$tmp $1 $2" >> "$meet_work/staged"
  cat > "$tmp"
  chown 0:0 "$tmp"
  chmod "$2" "$tmp"
}

meet_units() {
  meet_units_list="$*"
}

meet_tmpfiles() {
  meet_tmpfiles_file=$1
}

meet_commit() {
  # Nothing below reads the program any more; no command may take stdin from it.
  exec </dev/null
  changed=''
  replaced=''
  : > "$meet_work/paths"
  while read -r tmp path mode; do
    echo "$path" >> "$meet_work/paths"
    if [ -f "$path" ] && [ ! -L "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c %a:%u:%g "$path")" = "${mode#0}:0:0" ]; then
      rm -f "$tmp"
      continue
    fi
    if [ -e "$path" ]; then replaced="$replaced $path"; fi
    mv -f "$tmp" "$path"
    changed="$changed $path"
    echo "installed $path"
  done < "$meet_work/staged"
  removed=''
  if [ -f "$meet_manifest" ]; then
    while read -r path; do
      if grep -qxF "$path" "$meet_work/paths"; then continue; fi
      case $path in
        /etc/systemd/system/*.timer|/etc/systemd/system/*.path) systemctl disable --now "${path##*/}" || true;;
      esac
      rm -f "$path"
      removed="$removed $path"
      echo "removed $path"
    done < "$meet_manifest"
  fi
  mkdir -p "${meet_manifest%/*}"
  sort "$meet_work/paths" > "$meet_manifest.new"
  mv -f "$meet_manifest.new" "$meet_manifest"
  if [ -n "$changed$removed" ]; then systemctl daemon-reload; fi
  if [ -n "$meet_tmpfiles_file" ]; then systemd-tmpfiles --create "$meet_tmpfiles_file"; fi
  if [ -n "$meet_units_list" ]; then
    # shellcheck disable=SC2086 # unit names: checked words
    systemctl enable --now $meet_units_list
    restart=''
    for unit in $meet_units_list; do
      case "$replaced " in *" /etc/systemd/system/$unit "*) restart="$restart $unit";; esac
    done
    # shellcheck disable=SC2086
    if [ -n "$restart" ]; then systemctl restart $restart; fi
  fi
  echo "host files in place: $(wc -l < "$meet_manifest"), changed:${changed:- none}${removed:+, removed:$removed}"
}
