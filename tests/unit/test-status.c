// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include "tap.h"
#include "pininspect/status.h"

int main(void)
{
	struct pi_status st;
	uint64_t t;
	const char *s = "Name:\tpinload\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\n"
			"Uid:\t1000\t1001\t1000\t1000\nVmLck:\t       0 kB\nVmPin:\t     256 kB\n";
	const char *stat = "4242 (a) b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10\n";

	is_int(pi_status_parse(s, strlen(s), &st), 0, "status parses");
	is_str(st.name, "pinload", "name");
	is_int(st.tgid, 4242, "tgid");
	is_int(st.uid_real, 1000, "real uid");
	is_int(st.uid_effective, 1001, "effective uid");
	ok(st.has_vmpin && st.vmpin_kib == 256, "VmPin 256 kB");
	ok(st.has_vmlck && st.vmlck_kib == 0, "VmLck 0 kB");

	s = "Name:\tkthreadd\nUid:\t0\t0\t0\t0\n";
	is_int(pi_status_parse(s, strlen(s), &st), 0, "status without Vm lines parses");
	ok(!st.has_vmpin, "no VmPin for a kernel thread");
	s = "Name:\tx\nUid:\t0\t0\t0\t0\nVmPin:\tlots kB\n";
	is_int(pi_status_parse(s, strlen(s), &st), -EINVAL, "garbage VmPin rejected");
	s = "\x01\x02garbage";
	is_int(pi_status_parse(s, strlen(s), &st), -EINVAL, "garbage status rejected");

	is_int(pi_stat_parse_starttime(stat, strlen(stat), &t), 0, "stat parses with ') ' in comm");
	is_int(t, 987654, "start time is field 22");
	is_int(pi_stat_parse_starttime("12 (x) S 1", 10, &t), -EINVAL, "truncated stat rejected");
	return tap_done();
}
