// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The ordering gate of ASYNC requests (see order.h). No locking: genl.c
 * calls it under ch.lock, the unit tests from one thread.
 */
#include <stddef.h>

#include "order.h"

void modalfs_order_init(struct modalfs_order *o)
{
	o->held_head = o->held_tail = NULL;
	o->async_open = 0;
}

/* Must it wait for every earlier ASYNC request to be answered? */
static bool waits(const struct modalfs_order_item *it)
{
	return !it->async || it->fence;
}

bool modalfs_order_admit(struct modalfs_order *o,
			 struct modalfs_order_item *it)
{
	/*
	 * Once anything is held, whatever follows is held too, ASYNC or not:
	 * the protocol keeps arrival order, and an ASYNC request run ahead
	 * of a held one would change what the held one sees.
	 */
	if (o->held_head || (waits(it) && o->async_open)) {
		it->next = NULL;
		if (o->held_tail)
			o->held_tail->next = it;
		else
			o->held_head = it;
		o->held_tail = it;
		return false;
	}
	if (it->async)
		o->async_open++;
	return true;
}

struct modalfs_order_item *modalfs_order_done(struct modalfs_order *o,
					      const struct modalfs_order_item *it)
{
	struct modalfs_order_item *first = o->held_head, *last = NULL;

	/*
	 * Held items only wait for the count to reach zero: the head of the
	 * held list is always one that waits (without ASYNC, or fenced)
	 * behind an open ASYNC one.
	 */
	if (!it->async || --o->async_open)
		return NULL;
	/*
	 * Release in order until one has to wait again, for an ASYNC item
	 * released just before it.
	 */
	while (o->held_head) {
		struct modalfs_order_item *h = o->held_head;

		if (waits(h) && o->async_open)
			break;
		o->held_head = h->next;
		if (h->async)
			o->async_open++;
		last = h;
	}
	if (!last)
		return NULL;
	if (!o->held_head)
		o->held_tail = NULL;
	last->next = NULL;
	return first;
}
