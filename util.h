/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * util.h - Helpers shared by all modules: macros, address checks, bitmaps,
 *	    namespace calls, time
 */

#ifndef UTIL_H
#define UTIL_H

#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "passt.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif
#define MIN(a, b)		((a) < (b) ? (a) : (b))
#define MAX(a, b)		((a) > (b) ? (a) : (b))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define ROUND_UP(x, y)		(DIV_ROUND_UP((x), (y)) * (y))
#define STRINGIFY(x)		#x
#define STR(x)			STRINGIFY(x)

#define BITMAP_BIT(n)		(1UL << ((n) % (sizeof(unsigned long) * 8)))
#define BITMAP_WORD(n)		((n) / (sizeof(unsigned long) * 8))

/* Byte-sized bitmaps (uint8_t arrays) */
static inline void bitmap_set(uint8_t *map, unsigned int bit)
{
	map[bit / 8] |= (uint8_t)(1U << (bit % 8));
}

static inline void bitmap_clear(uint8_t *map, unsigned int bit)
{
	map[bit / 8] &= (uint8_t)~(1U << (bit % 8));
}

static inline int bitmap_isset(const uint8_t *map, unsigned int bit)
{
	return !!(map[bit / 8] & (1U << (bit % 8)));
}

#define IN4_IS_ADDR_UNSPECIFIED(a)	((a)->s_addr == htonl(INADDR_ANY))
#define IN4_IS_ADDR_BROADCAST(a)	((a)->s_addr == htonl(INADDR_BROADCAST))
#define IN4_IS_ADDR_LOOPBACK(a)		(ntohl((a)->s_addr) >> 24 == 127)
#define IN4_IS_ADDR_MULTICAST(a)	(IN_MULTICAST(ntohl((a)->s_addr)))
#define IN4_ARE_ADDR_EQUAL(a, b)	((a)->s_addr == (b)->s_addr)

/* Unaligned-safe big-endian loads and stores for wire data */
static inline uint16_t get_be16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return ntohs(v);
}

static inline uint32_t get_be32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return ntohl(v);
}

static inline void put_be16(void *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put_be32(void *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, sizeof(v));
}

/**
 * timespec_diff_ms() - Milliseconds from @b to @a (a - b)
 */
static inline long long timespec_diff_ms(const struct timespec *a,
					 const struct timespec *b)
{
	return (long long)(a->tv_sec - b->tv_sec) * 1000 +
	       (a->tv_nsec - b->tv_nsec) / 1000000;
}

/* clone() flags of ns_call(): the seccomp filter allows no others */
#define NS_CALL_CLONE_FLAGS	(CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD)

int ns_call(int (*fn)(void *), void *arg);
int ns_enter(const struct ctx *c);
bool ip6_prefix_eq(const struct in6_addr *a, const struct in6_addr *b,
		   int plen);
int sock_bind_dev(int s, const char *ifname);
int sock_freebind(int s, int af);
bool sock_local_is(int s, int af, const void *addr);
bool inotify_each(int fd, int reads,
		  bool (*fn)(uint32_t mask, int wd, const char *name,
			     size_t len, void *arg),
		  void *arg);
int fd_budget_take(void);
void fd_budget_return(void);
int sock_bind_outbound(const struct ctx *c, int s, int af, uint16_t port);
int pidfile_open(const char *path);
int pidfile_write(int fd, pid_t pid);
int fd_set_nonblock(int fd);
int epoll_add(int epollfd, uint32_t events, union epoll_ref ref);
int epoll_mod(int epollfd, uint32_t events, union epoll_ref ref);
void epoll_del(int epollfd, int fd);
int str_to_uint(const char *s, unsigned long max, unsigned long *out);
int parse_mac(const char *s, unsigned char mac[6]);
int mac_is_zero(const unsigned char mac[6]);
const char *mac_ntop(const unsigned char mac[6], char *buf, size_t len);
void raw_random(void *buf, size_t len);
/**
 * enum nat_result - What nat_outbound() did to a destination
 */
enum nat_result {
	NAT_NONE = 0,	/* not translated */
	NAT_HOST_LO,	/* --map-host-loopback address: host's loopback */
	NAT_DNS,	/* --dns-forward address: --dns-host resolver */
	NAT_GUEST,	/* --map-guest-addr address: the host's own address */
};

bool nat_dns_port(in_port_t port);
enum nat_result nat_outbound(const struct ctx *c, int af, void *addr,
			     in_port_t port);
int nat_inbound(const struct ctx *c, int af, void *addr);
size_t dns_name_encode(uint8_t *out, size_t size, const char *name);

#define MAC_STR_LEN	18	/* "xx:xx:xx:xx:xx:xx" + NUL */

#endif /* UTIL_H */
