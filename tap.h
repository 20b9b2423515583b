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

/* Largest frame with segmentation offload (pasta's tap with a virtio-net
 * header): an IP packet of 64 KiB at most, IPv4 total length or IPv6
 * payload length, behind the Ethernet header
 */
#define TAP_GSO_FRAME_MAX	(ETH_HDR_LEN + IP6_HDR_LEN + 65535)

/* The virtio-net header in front of each frame on pasta's tap, when offloads
 * are on: struct virtio_net_hdr_mrg_rxbuf, 12 bytes (num_buffers unused on a
 * tap). The 12-byte layout is the one of virtio 1.0 devices, so that a
 * vhost-user front end can share tap_vnet_hdr() as it is.
 */
#define TAP_VNET_HDR_LEN	12

/* Offloads in use on the tap device (tap_offloads()) */
#define TAP_OFF_CSUM		(1U << 0)	/* partial L4 checksums */
#define TAP_OFF_TSO		(1U << 1)	/* TCP super-segments, v4 and v6 */
#define TAP_OFF_USO		(1U << 2)	/* UDP super-datagrams (USO) */

/**
 * struct tap_gso - Offload request for one frame sent to pasta's namespace
 * @gso_size:	Segment size for a TCP/UDP super-segment, 0 for none
 * @partial:	L4 checksum field holds only the pseudo-header sum: the
 *		kernel completes it (virtio-net NEEDS_CSUM)
 */
struct tap_gso {
	uint16_t gso_size;
	uint8_t partial;
};

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
	unsigned long bad_vnet;		/* malformed virtio-net header */
	unsigned long gso_in;		/* super-segments received */
	unsigned long gso_out;		/* super-segments sent */
};
extern struct tap_stats tap_stats;

/* Sending: frames are full Ethernet frames, the qemu length prefix is added
 * here when needed
 */
void tap_send_single(const struct ctx *c, const void *frame, size_t len);
size_t tap_send_frames(const struct ctx *c, const struct iovec *iov,
		       size_t bufs_per_frame, size_t nframes);
size_t tap_send_frames_gso(const struct ctx *c, const struct iovec *iov,
			   size_t bufs_per_frame, size_t nframes,
			   const struct tap_gso *gso);
unsigned int tap_offloads(void);
void tap_offload_init(int fd, int vnet);
void tap_vnet_set(size_t len, unsigned int offloads);

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
