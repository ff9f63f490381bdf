# Sourced by scripts/deps.sh (and by tests/scripts/deps_src_test.sh): derives the deb-src entry
# lwIP's source package is fetched through from the machine's own Debian archive entry (same
# mirror, same release), so it works behind whatever snapshot/mirror the machine already uses.
# POSIX sh. Test hooks: APT_SOURCES (files to read), OS_RELEASE (file giving VERSION_CODENAME).

# Every archive URI in sources files, one a line, in file order. One-line style (sources.list(5)):
#   deb [opt=val ...] URI suite component...      (also deb-src; options may hold spaces)
# deb822 style: "URIs: URI URI ..." (field names are case-insensitive; the value may continue
# on lines starting with white space).
apt_source_uris() {
  awk '
    /^[ \t]*#/ { next }
    /^[ \t]/ && in_uris { for (i = 1; i <= NF; i++) print $i; next }
    { in_uris = 0 }
    $1 == "deb" || $1 == "deb-src" {
      i = 2
      if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if (i <= NF) print $i
      next
    }
    tolower($1) == "uris:" { in_uris = 1; for (i = 2; i <= NF; i++) print $i }
  ' "$@" 2>/dev/null
}

derive_src() {
  set --  # the readable sources files (a missing file would end some awks early)
  # shellcheck disable=SC2086  # the default list is globbed on purpose
  for f in ${APT_SOURCES:-/etc/apt/sources.list.d/*.sources /etc/apt/sources.list}; do
    [ -r "$f" ] && set -- "$@" "$f"
  done
  uri=""
  [ $# -gt 0 ] && uri=$(apt_source_uris "$@" | grep -v security | grep -E '/debian/?$' | head -1)
  [ -n "$uri" ] || uri=http://deb.debian.org/debian
  suite=$( . "${OS_RELEASE:-/etc/os-release}" 2>/dev/null; echo "${VERSION_CODENAME:-bookworm}")
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" "$suite"
}
