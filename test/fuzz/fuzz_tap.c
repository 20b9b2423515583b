// SPDX-License-Identifier: AGPL-3.0-or-later

/* fuzz_tap.c - libFuzzer harness: arbitrary frames from the guest through
 * the whole input path (tap.c parsing, ARP, DHCP, NDP, DHCPv6, and the L4
 * handlers), with AddressSanitizer and UBSan.
 *
 * The input is split into frames by 16-bit lengths, as a rough stand-in for
 * the qemu stream's framing; what's built in reply goes to a closed
 * descriptor (the builders still run). Each input is handled twice: as
 * passt's frames, then as pasta's with offloads, each frame behind a
 * virtio-net header (GSO types and sizes, checksum offsets, header lengths
 * all fuzzed). Build and run: see Makefile here.
 */

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/uio.h>

#include "passt.h"
#include "tap.h"
#include "util.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ctx c;

static void fuzz_ctx_init(void)
{
	static const unsigned char mac[6] = { 0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55 };

	c.mode = MODE_PASST;
	c.fd_tap = -1;
	c.fd_tap_listen = -1;
	c.epollfd = -1;
	c.mtu = MTU_MAX;
	c.ifi4 = c.ifi6 = 1;
	memcpy(c.mac, mac, sizeof(mac));
	memset(c.mac_guest, 0xff, sizeof(c.mac_guest));
	inet_pton(AF_INET, "198.51.100.2", &c.ip4.addr);
	c.ip4.addr_seen = c.ip4.addr;
	c.ip4.prefix_len = 24;
	inet_pton(AF_INET, "198.51.100.1", &c.ip4.gw);
	inet_pton(AF_INET, "203.0.113.1", &c.ip4.dns[0]);
	inet_pton(AF_INET6, "2001:db8::2", &c.ip6.addr);
	c.ip6.addr_seen = c.ip6.addr;
	c.ip6.prefix_len = 64;
	inet_pton(AF_INET6, "2001:db8::1", &c.ip6.gw);
	inet_pton(AF_INET6, "fe80::1", &c.ip6.addr_ll);
	inet_pton(AF_INET6, "2001:db8:1::1", &c.ip6.dns[0]);
	snprintf(c.dns_search[0].n, sizeof(c.dns_search[0].n), "example.org");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iovec frames[256];
	static int init;
	struct timespec now = { 0 };
	size_t n = 0;

	if (!init) {
		fuzz_ctx_init();
		log_set_level(0, 0, 1);
		log_set_stderr(0);
		init = 1;
	}

	while (size >= 2 && n < 256) {
		size_t len = (size_t)data[0] << 8 | data[1];

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		frames[n].iov_base = (void *)(uintptr_t)data;
		frames[n++].iov_len = len;
		data += len;
		size -= len;
	}

	tap_frames_handle(&c, frames, n, &now);

	/* pasta's tap with offloads: a virtio-net header first (the mode
	 * stays passt's: only sending, to a closed descriptor, looks at it)
	 */
	tap_vnet_set(TAP_VNET_HDR_LEN, TAP_OFF_CSUM | TAP_OFF_TSO | TAP_OFF_USO);
	tap_frames_handle(&c, frames, n, &now);
	tap_vnet_set(0, 0);
	return 0;
}
