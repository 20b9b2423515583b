/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * conf.h - Command line and host-derived configuration
 */

#ifndef CONF_H
#define CONF_H

#include "passt.h"

int conf_fd_arg(int argc, char **argv);
void conf(struct ctx *c, int argc, char **argv);
void conf_print(const struct ctx *c);

#endif /* CONF_H */
