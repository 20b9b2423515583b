// SPDX-License-Identifier: AGPL-3.0-or-later

/* siphash_test.c - SipHash-2-4 against the test vector of the SipHash
 * paper (appendix A: key 00..0f, message 00..0e) and its 64 vectors for
 * messages 00..(n-1) of every length 0..63 (first and last checked).
 */

#include <stdio.h>
#include <stdlib.h>

#include "../../siphash.c"

int main(void)
{
	uint8_t key[16], msg[64];
	unsigned int passed = 0, failed = 0, i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;

	/* Appendix A */
	if (siphash_2_4(key, msg, 15) == 0xa129ca6149be45e5ULL)
		passed++;
	else
		failed++, printf("15-byte vector mismatch\n");

	/* Empty message and 63 bytes, from the reference vectors */
	if (siphash_2_4(key, msg, 0) == 0x726fdb47dd0e0e31ULL)
		passed++;
	else
		failed++, printf("empty vector mismatch\n");

	if (siphash_2_4(key, msg, 63) == 0x958a324ceb064572ULL)
		passed++;
	else
		failed++, printf("63-byte vector mismatch\n");

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
