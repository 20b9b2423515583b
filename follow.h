/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * follow.h - Following the host's network and resolver configuration
 */

#ifndef FOLLOW_H
#define FOLLOW_H

#include <time.h>

#include "passt.h"

void follow_init(struct ctx *c);
void follow_nl_handler(const struct timespec *now);
void follow_inotify_handler(const struct timespec *now);
void follow_timer(struct ctx *c, const struct timespec *now);

#endif /* FOLLOW_H */
