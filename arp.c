// SPDX-License-Identifier: AGPL-3.0-or-later

/* PASST - Plug A Simple Socket Transport
 *  for qemu/UNIX domain socket mode
 *
 * PASTA - Pack A Subtle Tap Abstraction
 *  for network namespace/tap device mode
 *
 * arp.c - ARP responder (RFC 826)
 *
 * Theory of operation: the guest sees one Ethernet link, and every IPv4
 * address other than its own is reached through us. So any ARP request for
 * Ethernet/IPv4 is answered with our own MAC address (c->mac) as sender
 * hardware address, whatever the target protocol address is, except:
 *
 * - requests for the guest's own address (configured or last seen): the
 *   guest would otherwise think its address is taken, and nothing but the
 *   guest itself owns it;
 * - gratuitous ARP (sender IP == target IP) and RFC 5227 probes for the
 *   guest's address (sender IP 0.0.0.0): these are announcements or
 *   duplicate address detection, not questions for us.
 *
 * No state is kept: there is no ARP cache, as we never need to resolve the
 * guest's address (we take its MAC from the frames it sends, in tap.c).
 * Replies are single frames padded to the Ethernet minimum of 60 bytes
 * (without FCS), built on the stack.
 */

#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include "arp.h"
#include "log.h"
#include "packet.h"
#include "passt.h"
#include "tap.h"
#include "util.h"

/* RFC 826 packet layout for Ethernet hardware and IPv4 protocol addresses */
#define ARP_HDR_LEN		8	/* hrd, pro, hln, pln, op */
#define ARP_ETH_IP4_LEN		(ARP_HDR_LEN + 2 * (6 + 4))	/* 28 */

#define ARP_OFF_HRD		0
#define ARP_OFF_PRO		2
#define ARP_OFF_HLN		4
#define ARP_OFF_PLN		5
#define ARP_OFF_OP		6
#define ARP_OFF_SHA		8
#define ARP_OFF_SPA		14
#define ARP_OFF_THA		18
#define ARP_OFF_TPA		24

#define ARP_HRD_ETHER		1	/* RFC 826, IANA ARP hardware type */
#define ARP_PRO_IP		0x0800	/* EtherType of IPv4 */
#define ARP_OP_REQUEST		1	/* RFC 826: ares_op$REQUEST */
#define ARP_OP_REPLY		2	/* RFC 826: ares_op$REPLY */

#define ETH_P_ARP_		0x0806	/* EtherType of ARP */
#define ETH_FRAME_MIN		60	/* IEEE 802.3: 64 bytes minus FCS */

_Static_assert(ETH_HDR_LEN + ARP_ETH_IP4_LEN <= ETH_FRAME_MIN,
	       "ARP reply must fit in a minimum-sized frame");

/**
 * arp_is_guest_addr() - Check if an IPv4 address is the guest's own
 * @c:		Execution context
 * @a:		Address, network order, as read from the wire
 *
 * Return: true if @a is the configured or last seen guest address
 */
static bool arp_is_guest_addr(const struct ctx *c, const struct in_addr *a)
{
	if (!IN4_IS_ADDR_UNSPECIFIED(&c->ip4.addr) &&
	    IN4_ARE_ADDR_EQUAL(a, &c->ip4.addr))
		return true;

	if (!IN4_IS_ADDR_UNSPECIFIED(&c->ip4.addr_seen) &&
	    IN4_ARE_ADDR_EQUAL(a, &c->ip4.addr_seen))
		return true;

	return false;
}

/**
 * arp() - Answer an ARP request from the guest, if it's for us to answer
 * @c:		Execution context
 * @p:		Pool whose packet 0 is the ARP message, without Ethernet header
 *
 * Return: 1 if the message was handled (answered or deliberately ignored),
 *	   0 if it was too short to be an ARP message (the caller counts it)
 */
int arp(const struct ctx *c, const struct pool *p)
{
	uint8_t frame[ETH_FRAME_MIN] = { 0 };
	struct in_addr spa, tpa;
	const uint8_t *ah, *fixed;
	uint8_t *eh, *rh;

	/* The fixed part first: hardware and protocol types and lengths */
	fixed = packet_get(p, 0, 0, ARP_HDR_LEN, NULL);
	if (!fixed)
		return 0;

	/* RFC 826: "?Do I have the hardware type in ar$hrd?" and so on: we
	 * only speak Ethernet and IPv4. Anything else is valid ARP we have no
	 * business answering.
	 */
	if (get_be16(fixed + ARP_OFF_HRD) != ARP_HRD_ETHER ||
	    get_be16(fixed + ARP_OFF_PRO) != ARP_PRO_IP ||
	    fixed[ARP_OFF_HLN] != 6 || fixed[ARP_OFF_PLN] != 4)
		return 1;

	/* Lengths are now known, so the whole message must be there */
	ah = packet_get(p, 0, 0, ARP_ETH_IP4_LEN, NULL);
	if (!ah)
		return 0;

	if (get_be16(ah + ARP_OFF_OP) != ARP_OP_REQUEST)
		return 1;

	/* A reply to a group or null hardware address can't go anywhere */
	if ((ah[ARP_OFF_SHA] & 1) || mac_is_zero(ah + ARP_OFF_SHA))
		return 1;

	memcpy(&spa, ah + ARP_OFF_SPA, sizeof(spa));
	memcpy(&tpa, ah + ARP_OFF_TPA, sizeof(tpa));

	/* Gratuitous ARP (RFC 5227 2.3 announcement): not a question */
	if (IN4_ARE_ADDR_EQUAL(&spa, &tpa))
		return 1;

	/* Nobody but the guest owns its own address: this also covers RFC
	 * 5227 2.1.1 probes (sender 0.0.0.0) for it, which must go unanswered
	 * for the guest's duplicate address detection to succeed.
	 */
	if (arp_is_guest_addr(c, &tpa))
		return 1;

	/* Nothing is at 0.0.0.0, and we won't claim a broadcast address */
	if (IN4_IS_ADDR_UNSPECIFIED(&tpa) || IN4_IS_ADDR_BROADCAST(&tpa))
		return 1;

	/* Ethernet header: back to the requester's hardware address */
	eh = frame;
	memcpy(eh, ah + ARP_OFF_SHA, 6);
	memcpy(eh + 6, c->mac, 6);
	put_be16(eh + 12, ETH_P_ARP_);

	/* RFC 826: swap sender and target fields, put our hardware address
	 * as sender, set the opcode to reply
	 */
	rh = frame + ETH_HDR_LEN;
	put_be16(rh + ARP_OFF_HRD, ARP_HRD_ETHER);
	put_be16(rh + ARP_OFF_PRO, ARP_PRO_IP);
	rh[ARP_OFF_HLN] = 6;
	rh[ARP_OFF_PLN] = 4;
	put_be16(rh + ARP_OFF_OP, ARP_OP_REPLY);
	memcpy(rh + ARP_OFF_SHA, c->mac, 6);
	memcpy(rh + ARP_OFF_SPA, &tpa, 4);
	memcpy(rh + ARP_OFF_THA, ah + ARP_OFF_SHA, 6);
	memcpy(rh + ARP_OFF_TPA, &spa, 4);

	trace("ARP: reply for %u.%u.%u.%u",
	      ah[ARP_OFF_TPA], ah[ARP_OFF_TPA + 1],
	      ah[ARP_OFF_TPA + 2], ah[ARP_OFF_TPA + 3]);

	tap_send_single(c, frame, sizeof(frame));

	return 1;
}
