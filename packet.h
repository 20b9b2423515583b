/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * packet.h - Pools of packet descriptors into a buffer, and the one
 *	      bounds-checked accessor for bytes that came from outside
 */

#ifndef PACKET_H
#define PACKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/**
 * struct pool - Descriptors of packets stored in one buffer
 * @buf:	Start of the buffer every packet must lie in
 * @buf_size:	Size of @buf
 * @size:	Capacity of @pkt
 * @count:	Packets currently in the pool
 * @pkt:	Descriptors: base and length of each packet
 */
struct pool {
	char *buf;
	size_t buf_size;
	size_t size;
	size_t count;
	struct iovec *pkt;
};

/* Define a static pool @name with @n descriptors over buffer @b of @bs */
#define PACKET_POOL(name, n, b, bs)					\
	static struct iovec name ## _pkt[n];				\
	static struct pool name = {					\
		.buf = (char *)(b), .buf_size = (bs),			\
		.size = (n), .count = 0, .pkt = name ## _pkt,		\
	}

/* A pool of exactly one packet, on the stack, for handing one frame or
 * datagram to a protocol handler
 */
#define PACKET_POOL_P1(name, base, len)					\
	struct iovec name ## _pkt[1] = {				\
		{ .iov_base = (void *)(uintptr_t)(base), .iov_len = (len) } };	\
	struct pool name = {						\
		.buf = (char *)(uintptr_t)(base), .buf_size = (len),		\
		.size = 1, .count = 1, .pkt = name ## _pkt,		\
	}

int packet_add(struct pool *p, const void *start, size_t len);
void *packet_get_do(const struct pool *p, size_t idx, size_t offset,
		    size_t len, size_t *left, const char *func, int line);
void pool_flush(struct pool *p);

/**
 * packet_get() - Pointer to @len bytes at @offset of packet @idx, or NULL
 * @left:	If not NULL, set to bytes remaining after the returned range
 *
 * A NULL return is never logged loudly: callers drop and count.
 */
#define packet_get(p, idx, offset, len, left)				\
	packet_get_do(p, idx, offset, len, left, __func__, __LINE__)

#endif /* PACKET_H */
