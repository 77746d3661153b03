// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include "tap.h"
#include "pininspect/maps.h"

static int parse(const char *text, struct pi_vma_list *l, size_t *line)
{
	*line = 0;
	return pi_maps_parse(text, strlen(text), l, line);
}

int main(void)
{
	struct pi_vma_list l;
	size_t line;
	int r;

	r = parse("55d0c8a00000-55d0c8a21000 rw-p 00000000 00:00 0                          [heap]\n"
		  "7f0000000000-7f0000100000 rw-p 00000000 00:00 0 \n"
		  "7f1000000000-7f1000002000 rw-p 00001000 fd:01 1234                       /tmp/a file with spaces (deleted)\n"
		  "7f2000000000-7f2000001000 rw-s 00000000 00:01 77                         /memfd:buf (deleted)\n"
		  "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
		  "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n",
		  &l, &line);
	is_int(r, 0, "kernel maps text parses");
	is_int(l.n, 6, "six VMAs");
	is_int(l.vmas[0].kind, PI_KIND_ANON, "[heap] is anon");
	is_str(pi_vma_display_name(&l.vmas[1]), "[anon]", "nameless VMA shows as [anon]");
	is_int(l.vmas[1].kind, PI_KIND_ANON, "nameless private VMA is anon");
	is_str(l.vmas[2].name, "/tmp/a file with spaces (deleted)", "names keep their spaces");
	is_int(l.vmas[2].kind, PI_KIND_FILE, "private file mapping");
	is_int(l.vmas[2].dev_major, 0xfd, "device major is hex");
	is_int(l.vmas[2].offset, 0x1000, "offset");
	is_int(l.vmas[3].kind, PI_KIND_SHMEM, "shared memfd is shmem");
	is_int(l.vmas[5].kind, PI_KIND_OTHER, "[vsyscall] is never scanned");
	ok(pi_vma_find(&l, 0x7f0000000fff) == &l.vmas[1], "find inside a VMA");
	ok(pi_vma_find(&l, 0x7f0000100000) == NULL, "end is exclusive");
	pi_vma_list_free(&l);

	r = parse("7f00-7f10 rw-p 0 00:00 0\n", &l, &line);
	is_int(r, -EINVAL, "unaligned addresses rejected");
	r = parse("7f0000000000-7f0000100000 rw-p 00000000 00:00 0\nhello world\n", &l, &line);
	is_int(r, -EINVAL, "garbage line rejected");
	is_int(line, 2, "garbage line number reported");
	r = parse("7f0000100000-7f0000000000 rw-p 00000000 00:00 0\n", &l, &line);
	is_int(r, -EINVAL, "end before start rejected");
	r = parse("7f0000000000-7f0000100000 rw-p 00000000 00:00 0\n"
		  "7f0000000000-7f0000200000 rw-p 00000000 00:00 0\n", &l, &line);
	is_int(r, -EINVAL, "overlapping VMAs rejected");
	r = parse("7f0000000000-7f0000100000 rwzp 00000000 00:00 0\n", &l, &line);
	is_int(r, -EINVAL, "bad permissions rejected");
	r = parse("7f0000000000-7f0000100000 rw-p 00000000 00:00 12x\n", &l, &line);
	is_int(r, -EINVAL, "bad inode rejected");
	r = parse("ffffffffffffffffffff-7f0000100000 rw-p 00000000 00:00 0\n", &l, &line);
	is_int(r, -EINVAL, "overflowing address rejected");
	r = parse("", &l, &line);
	is_int(r, 0, "empty maps (kernel thread, exited mm) parses");
	is_int(l.n, 0, "no VMAs");
	pi_vma_list_free(&l);
	r = parse("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 /x\033[31mred\n", &l, &line);
	is_int(r, 0, "escape bytes in a name are kept as bytes");
	is_str(l.vmas[0].name, "/x\033[31mred", "raw name preserved for the escaper");
	pi_vma_list_free(&l);
	return tap_done();
}
