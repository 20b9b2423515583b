/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * pcap.h - Capture of tap-side frames in pcap format
 */

#ifndef PCAP_H
#define PCAP_H

#include <stddef.h>
#include <sys/uio.h>

#include "passt.h"

void pcap_init(const struct ctx *c);
void pcap(const void *frame, size_t len);
void pcap_iov(const struct iovec *iov, size_t n);

#endif /* PCAP_H */
