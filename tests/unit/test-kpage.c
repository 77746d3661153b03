// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "pininspect/kpage.h"
#include "pininspect/pinsrc.h"
#include "pininspect/root.h"

int main(void)
{
	char dir[] = "/tmp/pi-kpage-XXXXXX";
	char path[256];
	struct pi_kpage_file *f;
	struct pi_kpagepin_info info;
	uint64_t pfns[] = { 900, 3, 4, 4, 20000, 5, 1000000 }, out[7];
	size_t missing;
	int fd;

	if (!mkdtemp(dir))
		return 1;
	pi_root_set(dir);
	snprintf(path, sizeof(path), "%s/proc", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proc/kpageflags", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	/* entry for PFN p is p * 3 + 1, sparse file of 30000 PFNs */
	for (uint64_t p = 0; p < 30000; p++) {
		uint64_t v = p * 3 + 1;

		if (pwrite(fd, &v, 8, (off_t)(p * 8)) != 8)
			return 1;
	}
	close(fd);

	is_int(pi_kpage_open("proc/kpageflags", &f), 0, "open under the root");
	is_int(pi_kpage_read(f, pfns, 7, out, &missing), 0, "unsorted PFNs with duplicates read");
	ok(out[0] == 2701 && out[1] == 10 && out[2] == 13 && out[3] == 13 &&
	   out[4] == 60001 && out[5] == 16, "each entry lands at its caller's index");
	ok(out[6] == 0, "PFN past the end reads as 0");
	is_int(missing, 1, "and is counted missing");
	{
		/* a chunk's worth of scattered PFNs (radix-sorted), then garbage ones */
		static uint64_t many[20000], got[20000];
		uint64_t x = 12345;
		size_t bad = 0, miss_want = 0;

		for (size_t i = 0; i < 20000; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			many[i] = (x >> 33) % 31000;
			miss_want += many[i] >= 30000;
		}
		is_int(pi_kpage_read(f, many, 20000, got, &missing), 0, "20000 scattered PFNs read");
		for (size_t i = 0; i < 20000; i++)
			bad += got[i] != (many[i] < 30000 ? many[i] * 3 + 1 : 0);
		ok(bad == 0 && missing == miss_want, "each at its index, the ones past the end missing");
		many[0] = 1ULL << 54;
		many[1] = 7;
		many[2] = (1ULL << 54) + 3;
		is_int(pi_kpage_read(f, many, 20000, got, &missing), 0, "PFNs 2^54 apart read");
		ok(got[1] == 22 && got[0] == 0 && got[2] == 0 && got[3] == (many[3] < 30000 ? many[3] * 3 + 1 : 0),
		   "garbage PFNs are missing, the others read");
	}
	pi_kpage_close(f);
	is_int(pi_kpage_open("proc/nonexistent", &f), -ENOENT, "missing file is -ENOENT");

	is_int(pi_kpagepin_parse_version("kpagepin 1 module\n", 18, &info), 0, "ABI 1 module");
	is_str(info.provider, "module", "provider");
	is_int(pi_kpagepin_parse_version("kpagepin 2 patch\n", 17, &info), -EPROTO, "ABI 2 is another ABI");
	is_int(info.abi, 2, "its number is reported");
	is_int(pi_kpagepin_parse_version("kpagepin 1 other\n", 17, &info), -EINVAL, "unknown provider");
	is_int(pi_kpagepin_parse_version("garbage", 7, &info), -EINVAL, "garbage version");
	is_int(pi_kpagepin_parse_version("kpagepin 1 module extra\n", 24, &info), -EINVAL,
	       "trailing words rejected");
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
