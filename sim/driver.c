/* SPDX-License-Identifier: MIT */
/* sim/driver.c — the registry of model drivers. */
#include <string.h>
#include "driver.h"

const struct model_driver *const model_drivers[] = {
	&rmap_driver,         /* seed 000 */
	&relinquish_driver,   /* seed 000 */
	&scrub_driver,        /* seed 001 */
	&superpage_driver,    /* seed 002 */
	&shadow_driver,       /* seed 003 */
	&hinting_driver,      /* seed 004 */
	&null_driver,
	NULL,
};

const struct model_driver *driver_find(const char *name)
{
	unsigned i;

	for (i = 0; model_drivers[i]; i++)
		if (!strcmp(model_drivers[i]->name, name))
			return model_drivers[i];
	return NULL;
}

int driver_policy_index(const struct model_driver *d, const char *policy)
{
	int i;

	for (i = 0; d->policies[i]; i++)
		if (!strcmp(d->policies[i], policy))
			return i;
	return -1;
}
