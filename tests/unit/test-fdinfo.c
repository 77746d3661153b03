// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include "tap.h"
#include "pininspect/holders.h"

int main(void)
{
	struct pi_holder_list l = { 0 };
	const char *full = "pos:\t0\nflags:\t02000002\nSqMask:\t0x7\nUserFiles:\t0\nUserBufs:\t2\n"
			   "    0: 0x7f0000000000/262144\n    1: 0x7f0000200000/2097152\n"
			   "PollList:\nCqOverflowList:\n";
	const char *busy = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\n";
	const char *nolock = "SqMask:\t0x7\nUserBufs:\t2\nPollList:\n";
	const char *zero = "SqMask:\t0x7\nUserBufs:\t0\nPollList:\n";
	const char *bad = "UserBufs:\tmany\n";
	const char *badline = "UserBufs:\t1\n    0: 0x7f0000000000/\n";

	is_int(pi_iouring_fdinfo_parse(full, strlen(full), 5, &l), 2, "two buffers listed");
	ok(l.n == 2 && l.h[0].start == 0x7f0000000000ULL && l.h[0].end == 0x7f0000040000ULL,
	   "first buffer range");
	ok(l.h[1].end - l.h[1].start == 2097152, "second buffer length");
	is_str(l.h[1].desc, "io_uring fd 5 buf 1", "holder description");
	ok(pi_holder_find(&l, 0x7f000003f000ULL) == &l.h[0], "last page of buffer 0 found");
	ok(pi_holder_find(&l, 0x7f0000040000ULL) == NULL, "page after buffer 0 not in a holder");
	is_int(pi_iouring_fdinfo_parse(busy, strlen(busy), 6, &l), -ENOENT,
	       "busy 6.15+ ring: section missing");
	is_int(pi_iouring_fdinfo_parse(nolock, strlen(nolock), 6, &l), -EAGAIN,
	       "6.1 ring listed without entries: retry");
	is_int(l.n, 2, "no partial entries kept");
	is_int(pi_iouring_fdinfo_parse(zero, strlen(zero), 7, &l), 0, "UserBufs: 0 is not missing");
	is_int(pi_iouring_fdinfo_parse(bad, strlen(bad), 8, &l), -EINVAL, "garbage count rejected");
	is_int(pi_iouring_fdinfo_parse(badline, strlen(badline), 8, &l), -EAGAIN,
	       "unparsable entry is not counted");
	is_int(l.n, 2, "list unchanged after bad input");
	pi_holder_list_free(&l);
	return tap_done();
}
