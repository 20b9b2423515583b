/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * siphash.h - SipHash-2-4 keyed hash (Aumasson, Bernstein, 2012)
 */

#ifndef SIPHASH_H
#define SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN		16	/* 128-bit key */

uint64_t siphash_2_4(const uint8_t key[SIPHASH_KEY_LEN],
		     const void *in, size_t len);

#endif /* SIPHASH_H */
