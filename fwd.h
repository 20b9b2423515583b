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
#define FWD_TO_MAX		8	/* distinct ":toaddr" target addresses */
#define FWD_RULES_MAX		32	/* -t/-u/-T/-U arguments per table: the
					 * longest command lines podman and
					 * libvirt build have a handful */
#define FWD_RULE_TEXT		40	/* excerpt of a rule for messages */

/**
 * enum fwd_mode - How a forwarding table was configured
 */
enum fwd_mode {
	FWD_UNSET = 0,	/* not given: conf.c applies the mode's default */
	FWD_SPEC,	/* explicit ports, ranges, exclusions */
	FWD_NONE,	/* "none" */
	FWD_AUTO,	/* "auto" (pasta): follow bound ports on the other side */
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
 * struct fwd_to - Target address given as ":toaddr" in a specification
 * @af:		AF_INET or AF_INET6
 * @a4:		IPv4 address, if @af is AF_INET
 * @a6:		IPv6 address, if @af is AF_INET6
 */
struct fwd_to {
	int af;
	struct in_addr a4;
	struct in6_addr a6;
};

/**
 * struct fwd_ports - One direction of forwarding for one protocol
 * @mode:	enum fwd_mode
 * @map:	Bitmap of ports to listen on (FWD_AUTO: currently forwarded)
 * @quiet:	Best-effort ports ("all", exclusions only): binding failures
 *		aren't reported, unless no port at all could be bound
 * @auto_allow:	FWD_AUTO with @auto_restrict: ports that may be forwarded
 * @auto_restrict: FWD_AUTO: only ports in @auto_allow ("RANGE,auto")
 * @delta:	Target port is (port + delta[port]) modulo 2^16
 * @addr_idx:	0: any address, else 1 + index into @addr
 * @to_idx:	0: the guest's address, else 1 + index into @to
 * @rule_idx:	1 + index into @rules of the rule forwarding the port, or 0
 * @addr:	Bind addresses from "addr/" prefixes
 * @addr_count:	Entries used in @addr
 * @to:		Target addresses from ":toaddr" parts
 * @to_count:	Entries used in @to
 * @rules:	Text of each accepted specification, for messages
 * @rule_count:	Entries used in @rules
 */
struct fwd_ports {
	enum fwd_mode mode;
	uint8_t map[NUM_PORTS / 8];
	uint8_t quiet[NUM_PORTS / 8];
	uint8_t auto_allow[NUM_PORTS / 8];
	int auto_restrict;
	uint16_t delta[NUM_PORTS];
	uint8_t addr_idx[NUM_PORTS];
	uint8_t to_idx[NUM_PORTS];
	uint8_t rule_idx[NUM_PORTS];
	struct fwd_addr addr[FWD_ADDR_MAX];
	int addr_count;
	struct fwd_to to[FWD_TO_MAX];
	int to_count;
	char rules[FWD_RULES_MAX][FWD_RULE_TEXT];
	int rule_count;
};

/* fwd_parse() return values */
#define FWD_ERR_SYNTAX		-1	/* invalid specification */
#define FWD_ERR_CONFLICT	-2	/* valid, but overlaps an earlier rule */

int fwd_parse(struct fwd_ports *fwd, const char *spec, int pasta,
	      char *err, size_t errlen);
int fwd_port_is_set(const struct fwd_ports *fwd, unsigned int port);
void fwd_port_set(struct fwd_ports *fwd, unsigned int port);
void fwd_port_clear(struct fwd_ports *fwd, unsigned int port);
unsigned int fwd_target(const struct fwd_ports *fwd, unsigned int port);
const struct fwd_to *fwd_target_addr(const struct fwd_ports *fwd,
				     unsigned int port);
const struct fwd_addr *fwd_bind_addr(const struct fwd_ports *fwd,
				     unsigned int port);
int fwd_port_af(const struct fwd_ports *fwd, unsigned int port, int af);
int fwd_port_quiet(const struct fwd_ports *fwd, unsigned int port);
void fwd_auto_filter(const struct fwd_ports *fwd, uint8_t *want);
int fwd_to_is_loopback(const struct fwd_to *to);
int fwd_scan(int fd, int udp, uint8_t *map, const uint8_t *exclude);

#endif /* FWD_H */
