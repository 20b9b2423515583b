/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * isolation.h - Confinement of passt and pasta after set-up
 */

#ifndef ISOLATION_H
#define ISOLATION_H

#include <stddef.h>
#include <stdint.h>

struct ctx;

void isolate_initial(int keep_fd);
void isolate_prefork(struct ctx *c, int started_as_root);
void isolate_user(const struct ctx *c, int started_as_root);
void isolate_postfork(const struct ctx *c);
int isolate_seccomp(int pasta);
int isolate_devnull(void);
int isolate_confined(void);

#endif /* ISOLATION_H */
