/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * pasta.h - Network namespace handling: create, join, spawn, watch
 */

#ifndef PASTA_H
#define PASTA_H

#include <stdint.h>

#include "passt.h"

void pasta_start_ns(struct ctx *c);
void pasta_open_ns(struct ctx *c);
void pasta_ns_conf(struct ctx *c);
void pasta_ns_update(struct ctx *c, const struct ip4_ctx *old4,
		     const struct ip6_ctx *old6);
int pasta_tap_open(struct ctx *c);
void pasta_child_run(struct ctx *c);
int pasta_sigchld(struct ctx *c);
void pasta_netns_quit_init(struct ctx *c);
void pasta_netns_quit_handler(struct ctx *c, int inotify_fd);
void pasta_netns_quit_timer(struct ctx *c);

#endif /* PASTA_H */
