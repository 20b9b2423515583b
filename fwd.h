/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * fwd.h - Port forwarding tables, filled from -t -u -T -U specifications
 */

#ifndef FWD_H
#define FWD_H

#include <stdint.h>
#include <stddef.h>
#include <net/if.h>
#include <netinet/in.h>

#define NUM_PORTS		(1U << 16)
#define PORT_EPHEMERAL_MIN	49152	/* RFC 6335 6: dynamic range */
#define FWD_ADDR_MAX		8	/* distinct "addr/" bind addresses */

/**
 * enum fwd_mode - How a forwarding table was configured
 */
enum fwd_mode {
	FWD_UNSET = 0,	/* not given: conf.c applies the mode's default */
	FWD_SPEC,	/* explicit ports, ranges, exclusions */
	FWD_NONE,	/* "none" */
	FWD_AUTO,	/* "auto" (pasta): follow bound ports on the other side */
	FWD_ALL,	/* "all" (passt): every unbound non-ephemeral port */
};

/**
 * struct fwd_addr - Bind address given as "addr[%ifname]/" in a specification
 * @af:		AF_INET or AF_INET6, 0 for any address ("%ifname/" alone)
 * @a4:		IPv4 address, if @af is AF_INET
 * @a6:		IPv6 address, if @af is AF_INET6
 * @ifname:	Interface to bind to (SO_BINDTODEVICE), empty for any
 */
struct fwd_addr {
	int af;
	struct in_addr a4;
	struct in6_addr a6;
	char ifname[IFNAMSIZ];
};

/**
 * struct fwd_ports - One direction of forwarding for one protocol
 * @mode:	enum fwd_mode
 * @map:	Bitmap of ports to listen on
 * @delta:	Target port is (port + delta[port]) modulo 2^16
 * @addr_idx:	0: any address, else 1 + index into @addr
 * @addr:	Bind addresses from "addr/" prefixes
 * @addr_count:	Entries used in @addr
 */
struct fwd_ports {
	enum fwd_mode mode;
	uint8_t map[NUM_PORTS / 8];
	uint16_t delta[NUM_PORTS];
	uint8_t addr_idx[NUM_PORTS];
	struct fwd_addr addr[FWD_ADDR_MAX];
	int addr_count;
};

int fwd_parse(struct fwd_ports *fwd, const char *spec, int pasta,
	      char *err, size_t errlen);
int fwd_port_is_set(const struct fwd_ports *fwd, unsigned int port);
void fwd_port_set(struct fwd_ports *fwd, unsigned int port);
void fwd_port_clear(struct fwd_ports *fwd, unsigned int port);
unsigned int fwd_target(const struct fwd_ports *fwd, unsigned int port);
int fwd_scan(int fd, int udp, uint8_t *map, const uint8_t *exclude);

#endif /* FWD_H */
