/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef MODALFS_ORDER_H
#define MODALFS_ORDER_H
/*
 * The ordering gate of the kernel channel (netlink/modalfs.h section 3b):
 * a request starts only once every ASYNC request received before it has
 * been run and answered; ASYNC requests that arrive back to back may run
 * together, unless the later one also carries FENCE (it depends on an
 * earlier one: a create in a directory whose asynchronous MKDIR is in
 * flight), which makes it wait as a request without ASYNC would;
 * requests held keep their arrival order.
 *
 * Only the decision lives here, so that it can be tested without threads
 * or sockets: the caller owns the state, serialises every call (genl.c
 * holds ch.lock) and runs what the gate lets through.
 */
#include <stdbool.h>

struct modalfs_order_item {
	struct modalfs_order_item *next;	/* held list, released chain */
	bool async;				/* carries MODALFS_A_ASYNC */
	bool fence;				/* ... and MODALFS_A_FENCE */
};

struct modalfs_order {
	/* Received after an unanswered ASYNC request, in arrival order. */
	struct modalfs_order_item *held_head, *held_tail;
	int async_open;		/* ASYNC requests admitted, not yet done */
};

/* An empty gate: nothing held, nothing open. */
void modalfs_order_init(struct modalfs_order *o);

/*
 * Takes it in arrival order. True: run it now. False: it is held, and a
 * later modalfs_order_done returns it when it may run.
 */
bool modalfs_order_admit(struct modalfs_order *o,
			 struct modalfs_order_item *it);

/*
 * it (admitted earlier and run) has been answered. Returns the held items
 * that may run now, in arrival order, chained by next (NULL: none); the
 * caller must run every one of them.
 */
struct modalfs_order_item *modalfs_order_done(struct modalfs_order *o,
					      const struct modalfs_order_item *it);

#endif
