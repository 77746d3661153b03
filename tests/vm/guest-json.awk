# SPDX-License-Identifier: GPL-2.0
# Flattens pininspect's pretty-printed --json output (one key per line) for
# the guest scripts, which have busybox and no jq: one line per range or
# page object,
#   ADDR END PFN PAGES VERDICT SOURCE PINS PIN_EXACT EXCLUSIVE KIND HOLDER
# ADDR is "start" of a range or "addr" of a page; a field the object lacks
# is "-"; blanks in the holder become "_" (io_uring_fd_4_buf_0).
function flush(	i, s) {
	if (("start" in v) || ("addr" in v)) {
		s = ("start" in v) ? v["start"] : v["addr"]
		for (i = 2; i <= nk; i++)
			s = s " " ((key[i] in v) ? v[key[i]] : "-")
		print s
	}
	split("", v)
}
BEGIN {
	nk = split("addr end pfn pages verdict source pins pin_exact exclusive kind holder", key, " ")
}
/^[ \t]*"(start|addr|end|pfn|pages|verdict|source|pins|pin_exact|exclusive|kind|holder)": [^[{]/ {
	k = $0
	sub(/^[ \t]*"/, "", k)
	sub(/".*/, "", k)
	s = $0
	sub(/^[^:]*: */, "", s)
	sub(/,[ \t]*$/, "", s)
	gsub(/"/, "", s)
	gsub(/[ \t]/, "_", s)
	v[k] = s
	next
}
/^[ \t]*}/ { flush() }
