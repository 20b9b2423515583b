// SPDX-License-Identifier: AGPL-3.0-or-later

/* pcap.c - Capture of tap-side frames in pcap format
 *
 * Theory of operation: with -p FILE, every frame we read from or write to
 * the guest (or namespace) is appended to FILE in the classic libpcap format
 * (link type Ethernet, microsecond timestamps), which tcpdump -r and
 * wireshark read. Frames are written whole; a short write (disk full)
 * disables the capture instead of corrupting the file further.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>

#include "pcap.h"
#include "log.h"
#include "util.h"
#include "tap.h"

#define PCAP_MAGIC		0xa1b2c3d4	/* microsecond resolution */
#define PCAP_VERSION_MAJOR	2
#define PCAP_VERSION_MINOR	4
#define PCAP_LINKTYPE_ETHERNET	1
#define PCAP_SNAPLEN		TAP_GSO_FRAME_MAX	/* super-segments, whole */

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major;
	uint16_t minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_rec_hdr {
	uint32_t tv_sec;
	uint32_t tv_usec;
	uint32_t caplen;
	uint32_t len;
};

static int pcap_fd = -1;

/**
 * pcap_init() - Create the capture file given with -p, write its header
 * @c:		Execution context
 */
void pcap_init(const struct ctx *c)
{
	struct pcap_file_hdr h = {
		.magic = PCAP_MAGIC,
		.major = PCAP_VERSION_MAJOR, .minor = PCAP_VERSION_MINOR,
		.snaplen = PCAP_SNAPLEN, .linktype = PCAP_LINKTYPE_ETHERNET,
	};

	if (!*c->pcap)
		return;

	pcap_fd = open(c->pcap, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		       0600);
	if (pcap_fd < 0)
		die("Cannot open capture file %s for -p/--pcap: %s", c->pcap,
		    strerror(errno));

	if (write(pcap_fd, &h, sizeof(h)) != (ssize_t)sizeof(h))
		die("Cannot write to capture file %s: %s", c->pcap,
		    strerror(errno));

	info("Saving packet capture to %s", c->pcap);
}

/**
 * pcap_iov() - Write frames given as one iovec each
 * @iov:	Frames, one buffer each (no qemu length prefix)
 * @n:		Number of frames
 */
/* #syscalls: writev close clock_gettime */
void pcap_iov(const struct iovec *iov, size_t n)
{
	struct pcap_rec_hdr h[64];
	struct iovec v[128];
	struct timespec now;
	size_t i, j, tot;

	if (pcap_fd < 0 || !n)
		return;

	clock_gettime(CLOCK_REALTIME, &now);

	while (n) {
		size_t batch = MIN(n, ARRAY_SIZE(h));

		tot = 0;
		for (i = 0, j = 0; i < batch; i++) {
			size_t len = iov[i].iov_len;

			h[i].tv_sec = (uint32_t)now.tv_sec;
			h[i].tv_usec = (uint32_t)(now.tv_nsec / 1000);
			h[i].len = (uint32_t)len;
			h[i].caplen = (uint32_t)MIN(len, PCAP_SNAPLEN);
			v[j].iov_base = &h[i];
			v[j++].iov_len = sizeof(h[i]);
			v[j].iov_base = iov[i].iov_base;
			v[j++].iov_len = h[i].caplen;
			tot += sizeof(h[i]) + h[i].caplen;
		}

		if (writev(pcap_fd, v, (int)j) != (ssize_t)tot) {
			warn("Short write to capture file, capture stopped");
			close(pcap_fd);
			pcap_fd = -1;
			return;
		}

		iov += batch;
		n -= batch;
	}
}

/**
 * pcap() - Write one frame
 * @frame:	Ethernet frame
 * @len:	Its length
 */
void pcap(const void *frame, size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)frame,
			     .iov_len = len };

	pcap_iov(&iov, 1);
}
