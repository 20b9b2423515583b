// SPDX-License-Identifier: AGPL-3.0-or-later

/* siphash.c - SipHash-2-4 keyed hash
 *
 * Theory of operation: SipHash, as specified in "SipHash: a fast short-input
 * PRF" (J.-P. Aumasson, D. J. Bernstein, 2012). The 128-bit key initialises
 * four 64-bit state words (section 2, "Initialization"); each 8-byte
 * little-endian message word is mixed in with c = 2 SipRounds
 * ("Compression"); the last word carries the remaining bytes and the
 * message length modulo 256 in its top byte; d = 4 SipRounds follow
 * ("Finalization"). The output is the XOR of the four state words.
 *
 * Used for the TCP connection hash table and for initial sequence numbers
 * (RFC 6528) and IPv6 flow labels, all keyed with a secret drawn at start:
 * a guest that doesn't know the key can neither predict them nor craft
 * colliding hash keys.
 */

#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

#define ROTL64(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* Section 2: initialisation constants, "somepseudorandomlygeneratedbytes" */
#define SIP_C0		0x736f6d6570736575ULL
#define SIP_C1		0x646f72616e646f6dULL
#define SIP_C2		0x6c7967656e657261ULL
#define SIP_C3		0x7465646279746573ULL

/**
 * sip_round() - One SipRound (section 2) on the state @v[0..3]
 */
static inline void sip_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = ROTL64(v[1], 13); v[1] ^= v[0];
	v[0] = ROTL64(v[0], 32);
	v[2] += v[3]; v[3] = ROTL64(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL64(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL64(v[1], 17); v[1] ^= v[2];
	v[2] = ROTL64(v[2], 32);
}

/**
 * le64() - Load 8 bytes as a little-endian 64-bit word
 * @p:		Bytes
 *
 * Return: the word
 */
static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 |
	       (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	       (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/**
 * siphash_2_4() - SipHash-2-4 of @len bytes at @in with a 128-bit @key
 * @key:	Key, 16 bytes
 * @in:		Message
 * @len:	Message length
 *
 * Return: 64-bit hash
 */
uint64_t siphash_2_4(const uint8_t key[SIPHASH_KEY_LEN],
		     const void *in, size_t len)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8), m, b;
	uint64_t v[4] = { k0 ^ SIP_C0, k1 ^ SIP_C1, k0 ^ SIP_C2, k1 ^ SIP_C3 };
	const uint8_t *p = in;
	size_t left = len, i;

	for (; left >= 8; p += 8, left -= 8) {
		m = le64(p);
		v[3] ^= m;
		sip_round(v);
		sip_round(v);
		v[0] ^= m;
	}

	/* Last word: remaining bytes, length modulo 256 in the top byte */
	b = (uint64_t)(len & 0xff) << 56;
	for (i = 0; i < left; i++)
		b |= (uint64_t)p[i] << (8 * i);

	v[3] ^= b;
	sip_round(v);
	sip_round(v);
	v[0] ^= b;

	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sip_round(v);

	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
