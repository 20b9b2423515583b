/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * tap.h - Guest-facing side: frame input (qemu socket or tap device),
 *	   parsing and dispatch, frame building and output
 */

#ifndef TAP_H
#define TAP_H

#include <stdint.h>
#include <stddef.h>
#include <time.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include "passt.h"

#define ETH_HDR_LEN		14
#define IP4_HDR_LEN		20
#define IP6_HDR_LEN		40
#define UDP_HDR_LEN		8
#define ICMP_HDR_LEN		8

/* Largest frame we send or accept: Ethernet header plus the maximum MTU */
#define TAP_FRAME_MAX		(ETH_HDR_LEN + MTU_MAX)

/**
 * struct tap_stats - Counters of dropped input, reported with SIGUSR1 and
 *		      at exit in debug mode
 */
struct tap_stats {
	unsigned long frames;		/* frames received */
	unsigned long bad_len;		/* bad frame length prefix */
	unsigned long bad_eth;		/* truncated Ethernet header */
	unsigned long bad_l3;		/* malformed IPv4/IPv6 header */
	unsigned long bad_l4;		/* truncated or malformed L4 */
	unsigned long unhandled;	/* no handler for this protocol */
	unsigned long sent;		/* frames sent */
	unsigned long send_drop;	/* frames not sent (no guest, EAGAIN) */
};
extern struct tap_stats tap_stats;

/* Sending: frames are full Ethernet frames, the qemu length prefix is added
 * here when needed
 */
void tap_send_single(const struct ctx *c, const void *frame, size_t len);
size_t tap_send_frames(const struct ctx *c, const struct iovec *iov,
		       size_t bufs_per_frame, size_t nframes);

void *tap_eth_hdr(const struct ctx *c, void *buf, uint16_t ethertype);
void tap_udp4_send(const struct ctx *c, struct in_addr src, in_port_t sport,
		   struct in_addr dst, in_port_t dport,
		   const void *in, size_t len);
void tap_udp6_send(const struct ctx *c,
		   const struct in6_addr *src, in_port_t sport,
		   const struct in6_addr *dst, in_port_t dport,
		   uint32_t flow, const void *in, size_t len);
void tap_icmp4_send(const struct ctx *c, struct in_addr src,
		    struct in_addr dst, const void *in, size_t len);
void tap_icmp6_send(const struct ctx *c, const struct in6_addr *src,
		    const struct in6_addr *dst, const void *in, size_t len);
const struct in6_addr *tap_ip6_daddr(const struct ctx *c,
				     const struct in6_addr *src);

/* Set-up and event handlers, called from passt.c */
void tap_sock_init(struct ctx *c);
void tap_listen_handler(struct ctx *c, uint32_t events);
void tap_handler_passt(struct ctx *c, uint32_t events,
		       const struct timespec *now);
void tap_handler_pasta(struct ctx *c, uint32_t events,
		       const struct timespec *now);
void tap_backend_init(struct ctx *c);

/* Parse and dispatch a buffer of complete frames: exposed for fuzzing */
void tap_frames_handle(struct ctx *c, const struct iovec *frames, size_t n,
		       const struct timespec *now);

#endif /* TAP_H */
