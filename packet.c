// SPDX-License-Identifier: AGPL-3.0-or-later

/* packet.c - Pools of packet descriptors, bounds-checked access
 *
 * Theory of operation: frames from the guest are read into one large static
 * buffer; a pool holds (base, length) descriptors of the frames, or of parts
 * of them (an IP payload, an L4 segment), that lie inside that buffer.
 * Protocol handlers never dereference a guest pointer directly: they ask
 * packet_get() for @len bytes at @offset of packet @idx, and get NULL when
 * any part of that range falls outside the packet or outside the buffer.
 * Every comparison is written so that it cannot overflow.
 */

#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "log.h"

/**
 * packet_in_buf() - Does [@start, @start + @len) lie within the pool buffer?
 */
static int packet_in_buf(const struct pool *p, const char *start, size_t len)
{
	if (start < p->buf || start > p->buf + p->buf_size)
		return 0;

	return len <= (size_t)(p->buf + p->buf_size - start);
}

/**
 * packet_add() - Append a descriptor to a pool
 * @p:		Pool
 * @start:	Start of the packet, inside the pool's buffer
 * @len:	Length of the packet
 *
 * Return: 0 on success, -1 if the pool is full or the range is invalid
 */
int packet_add(struct pool *p, const void *start, size_t len)
{
	if (p->count >= p->size) {
		trace("packet pool full, dropping packet");
		return -1;
	}

	if (!packet_in_buf(p, start, len)) {
		trace("packet outside of pool buffer, dropping");
		return -1;
	}

	p->pkt[p->count].iov_base = (void *)(uintptr_t)start;
	p->pkt[p->count].iov_len = len;
	p->count++;
	return 0;
}

/**
 * packet_get_do() - Bounds-checked pointer into a packet
 * @p:		Pool
 * @idx:	Index of the packet in the pool
 * @offset:	Offset of the data from the start of the packet
 * @len:	Length of the data wanted
 * @left:	Bytes left in the packet after the data (optional)
 * @func:	Caller, for trace messages
 * @line:	Caller's line
 *
 * Return: pointer to the data, NULL if the range isn't inside the packet
 */
void *packet_get_do(const struct pool *p, size_t idx, size_t offset,
		    size_t len, size_t *left, const char *func, int line)
{
	const struct iovec *v;

	if (idx >= p->count) {
		trace("%s:%i: packet %zu not in pool", func, line, idx);
		return NULL;
	}

	v = &p->pkt[idx];
	if (offset > v->iov_len || len > v->iov_len - offset) {
		trace("%s:%i: %zu bytes at %zu beyond packet of %zu",
		      func, line, len, offset, v->iov_len);
		return NULL;
	}

	if (!packet_in_buf(p, (char *)v->iov_base + offset, len))
		return NULL;

	if (left)
		*left = v->iov_len - offset - len;

	return (char *)v->iov_base + offset;
}

/**
 * pool_flush() - Empty a pool
 */
void pool_flush(struct pool *p)
{
	p->count = 0;
}
