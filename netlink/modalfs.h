/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * modalfs wire protocol, version 5.
 *
 * Version 5 lets one EVICT release many inodes (MODALFS_A_INOS, up to
 * MODALFS_EVICT_MAX), so that `rm -rf` does not cost a second request
 * per file, and makes MKDIR asynchronous like CREATE (NODE_INO, and
 * MODALFS_A_FENCE for the creates inside a directory whose MKDIR is
 * still in flight, section 3b). A version 4 daemon would refuse the
 * unknown attributes, or run a fenced create before its directory
 * exists, so the two refuse each other at REGISTER.
 *
 * Version 4 adds MODALFS_A_ASYNC, the mark of a request whose caller did
 * not wait for it (asynchronous CREATE, UNLINK and RMDIR, issue 11), the
 * ordering rule that comes with it (section 3b), and INO_RANGE with
 * CREATE's NODE_INO, so that the kernel can name a file it creates
 * before the daemon answers. A version 3 daemon would
 * refuse the unknown attribute, and, worse, a daemon that ignored it would
 * run later requests before the ones they depend on, so the two refuse
 * each other at REGISTER.
 *
 * Version 3 raises the size of one READ or WRITE from 64 KiB to 1 MiB
 * (MODALFS_IO_MAX), and with it the largest message (MODALFS_MSG_MAX);
 * section 4 says why. A daemon built for version 2 sizes its receive
 * buffer for 128 KiB and would truncate a 1 MiB WRITE, so the kernel and
 * the daemon refuse each other at REGISTER instead (section 2). The
 * control channel keeps its 64 KiB GET/PUT (MODALFS_CTL_IO_MAX).
 * Version 3 also adds MODALFS_A_DIR_ATTR and MODALFS_A_NEW_DIR_ATTR to
 * the replies of the namespace ops (op table), an optional SETATTR to
 * WRITE and each READDIR entry's ATTR (READDIRPLUS), released together
 * with the 1 MiB limits: a peer of an
 * unreleased version 3 without them would refuse a reply that carries
 * them (strict parsing, section 1), or ignore a WRITE's SETATTR.
 *
 * Version 2 added extended attributes (GETXATTR..REMOVEXATTR), daemon ->
 * kernel notifications (MODALFS_CMD_NOTIFY), request ids that are unique
 * across module loads, and the volume lifecycle commands of the control
 * channel (section 5).
 *
 * This header is the specification. The kernel module (kmod/) and the
 * daemon modalfsd (userd/) both compile against it, and so does modalfsctl
 * (tools/) for the control channel described at the end.
 *
 * ------------------------------------------------------------------------
 * 1. Transport
 * ------------------------------------------------------------------------
 * Generic netlink family MODALFS_GENL_NAME ("modalfs"), family version
 * MODALFS_GENL_VERSION, in the initial network namespace only. Every
 * message is a struct nlmsghdr, a struct genlmsghdr whose .cmd is one of
 * enum modalfs_cmd and whose .version is MODALFS_GENL_VERSION, then
 * attributes from enum modalfs_attr.
 *
 * Attribute parsing is strict on both sides: an attribute type above the
 * maximum, a wrong length, a string without its terminating NUL, or a flag
 * bit outside the documented mask makes the whole message invalid.
 *
 * ------------------------------------------------------------------------
 * 2. Daemon registration
 * ------------------------------------------------------------------------
 * The daemon opens a genl socket and sends MODALFS_CMD_REGISTER with
 * MODALFS_A_VERSION = MODALFS_GENL_VERSION and NLM_F_ACK. The kernel
 * answers with the ordinary netlink ack:
 *   0          registered; requests now go to the sender's port id
 *   -EPERM     the sender lacks CAP_SYS_ADMIN
 *   -EPROTO    protocol version mismatch (extack says which it speaks;
 *              the family's version, as the genl controller reports it,
 *              is the kernel's MODALFS_GENL_VERSION, so a daemon can name
 *              both numbers in its message)
 *   -EBUSY     another daemon is registered and its socket is still open
 * The registration ends when the daemon's netlink socket is released
 * (close or process death); there is no unregister command. Requests that
 * were sent to a daemon which went away without answering stay queued in
 * the kernel and are sent again, with the same request id, to the next
 * daemon that registers (NFS "hard" semantics). A daemon must therefore
 * treat a request id it has already answered as a retransmission.
 *
 * Request ids are unique across module loads on one host, not only within
 * one: the high 32 bits are an epoch the kernel draws at random at module
 * load, the low 32 bits a counter that starts at 1 and adds one per
 * request (a carry out of the counter moves the epoch on, so ids grow
 * strictly within one load). Nothing ties ids to the clock, so setting
 * the clock back between loads cannot make a new load reuse the ids of
 * an earlier one; but a new load's ids may be lower than an old load's,
 * so a daemon must not assume ids only grow across loads (for example,
 * it must not prune its cache of remembered replies lowest id first
 * across epochs: key and prune it per epoch, id >> 32). A daemon that remembers
 * the replies of non-idempotent operations it committed (a duplicate-
 * request cache, kept in the same transaction as the operation) answers a
 * retransmitted id with the remembered reply instead of running the
 * operation twice, so every operation takes effect exactly once even when
 * the daemon dies between committing and replying. modalfsd keeps the
 * cache for CREATE, MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME, SETATTR,
 * WRITE, SETXATTR and REMOVEXATTR.
 *
 * With the mount options "soft,timeo=N" a request that has not been
 * answered N seconds after it was queued fails with EIO instead of waiting
 * (mount options are a kernel matter and are listed in mount.modalfs(8);
 * they never cross the wire). A request that was aborted (umount -f, the
 * abort control in Documentation/operations.md) also fails with EIO; a
 * late reply to it is dropped like any reply to an unknown id.
 *
 * ------------------------------------------------------------------------
 * 3. Requests and replies
 * ------------------------------------------------------------------------
 * Kernel -> daemon: MODALFS_CMD_REQUEST, unicast to the registered port.
 *   Always carries MODALFS_A_REQ_ID (u64, see below, never 0)
 *   and MODALFS_A_OP (enum modalfs_op); the rest depends on the op, see the
 *   table in enum modalfs_op.
 *
 * Daemon -> kernel: MODALFS_CMD_REPLY, exactly one per request.
 *   Always carries MODALFS_A_REQ_ID of the request and MODALFS_A_ERRNO
 *   (u32, 0 for success, otherwise a positive errno value below 4096).
 *   When ERRNO is non-zero no other attribute is read. A reply that names
 *   an unknown id, or a read-only request that was abandoned (its caller
 *   was killed), or a request not sent to this daemon (not since it
 *   registered: the daemon generation must match), is dropped by the
 *   kernel. A request that changes the volume is never abandoned once a
 *   daemon may have it: its reply is still taken after its caller was
 *   killed. REPLY and NOTIFY are accepted only from the very socket that
 *   registered, and only while its sender has CAP_SYS_ADMIN (else the
 *   ack is -EPERM). A reply whose
 *   REQ_ID is readable and names a waiting request, but which is otherwise
 *   malformed (fails the attribute policy, lacks what the op needs, or
 *   contradicts the request), completes that request with EIO. The
 *   netlink ack of a REPLY is -EINVAL/-ENOENT in those cases, so a daemon
 *   that asks for acks learns about its own bugs.
 *
 * Identifiers are host-independent: volumes are named by MODALFS_A_VOL_ID,
 * a u64 the daemon assigns at volume creation and never reuses, and files
 * by MODALFS_A_INO, a u64 inode number unique within one volume and never
 * reused within it. The root directory of every volume is inode
 * MODALFS_ROOT_INO. No pointer, pid or local path ever crosses the wire.
 * An operation on an inode or volume that no longer exists fails with
 * ESTALE.
 *
 * ------------------------------------------------------------------------
 * 3a. Notifications (daemon -> kernel)
 * ------------------------------------------------------------------------
 * The daemon changes volumes on its own too (modalfsctl put/rm/delete, and
 * later writers on other hosts). It tells the kernel with
 * MODALFS_CMD_NOTIFY from the registered port, carrying MODALFS_A_NOTIFY
 * (enum modalfs_notify) and the attributes listed there. The kernel acks
 * with 0 when the message is well formed, even if nothing it names is
 * cached or mounted; EINVAL when it is not; EPERM from any other port.
 * Notifications are hints about caches, never a substitute for replies:
 * the kernel never waits for one.
 *
 * ------------------------------------------------------------------------
 * 3b. Asynchronous requests and their order
 * ------------------------------------------------------------------------
 * A daemon may run requests in any order and in parallel: a kernel caller
 * that needs one request to come after another waits for the first reply.
 * A request carrying MODALFS_A_ASYNC is one whose caller did not wait:
 * the kernel already applied its outcome to its caches and returned to
 * the caller, so every request the kernel sends after it may depend on
 * it. The daemon therefore starts a request only once every ASYNC request
 * it received before it has been run and answered. Requests received
 * between ASYNC ones keep this order among themselves and the ASYNC ones;
 * ASYNC requests that arrive back to back may run in parallel, because
 * the kernel never sends two that depend on each other without waiting
 * for the first or marking the second with FENCE. The reply of an ASYNC
 * request is sent before any later request starts, so the kernel has
 * seen it before the reply of anything it sent later: an FSYNC answered
 * means every earlier ASYNC request was answered too. Retransmissions to a new daemon are sent in the original
 * order, so the rule holds across a daemon restart.
 *
 * An ASYNC request that depends on an earlier ASYNC one also carries
 * MODALFS_A_FENCE: it starts only once every ASYNC request received
 * before it has been answered, as a request without ASYNC would, and is
 * itself ASYNC for what follows it. The kernel sends it for a create (of
 * a file or a directory) inside a directory whose asynchronous MKDIR is
 * not answered yet, for the UNLINK or RMDIR of an inode whose own
 * asynchronous CREATE or MKDIR is not answered yet, and for the RMDIR of
 * a directory whose entries' asynchronous UNLINKs and RMDIRs are not
 * answered yet. FENCE without ASYNC is EINVAL.
 *
 * ------------------------------------------------------------------------
 * 4. Large data
 * ------------------------------------------------------------------------
 * A netlink attribute holds at most 65531 bytes, so file data is carried
 * as one or more MODALFS_A_DATA attributes, each at most MODALFS_DATA_CHUNK
 * bytes, in file order. The payload of the message is their concatenation;
 * every chunk except the last must be exactly MODALFS_DATA_CHUNK bytes.
 * One READ or WRITE moves at most MODALFS_IO_MAX bytes (1 MiB, 32 DATA
 * chunks), so a message never exceeds MODALFS_MSG_MAX bytes and both sides
 * size their buffers for it: a receiver whose buffer is smaller would see
 * the datagram truncated (MSG_TRUNC), and the request would be lost.
 * Larger transfers are split by the kernel into several requests, which
 * may be in flight at the same time (readahead and writeback keep several
 * 1 MiB requests in flight; the kernel caps the background ones by bytes).
 *
 * Why 1 MiB: every request costs a round trip through the daemon (two
 * context switches, a netlink copy each way, a store transaction), so at
 * 64 KiB the per-request cost, not the copy, bounded streaming I/O. 1 MiB
 * is what NFS (rsize/wsize) and FUSE (max_pages = 256) use. The kernel
 * builds a WRITE from order-0 pages (page fragments of the message and of
 * skbs chained to it), and a large REPLY is allocated by netlink with
 * vmalloc, so neither side needs a high-order allocation for it. The
 * daemon needs a socket send buffer of at least MODALFS_MSG_MAX for its
 * READ replies (netlink refuses a larger datagram with EMSGSIZE).
 *
 * ------------------------------------------------------------------------
 * 5. Control channel (modalfsctl <-> modalfsd)
 * ------------------------------------------------------------------------
 * Generic netlink cannot connect two user processes, so modalfsctl talks
 * to the daemon over a unix SOCK_SEQPACKET socket at MODALFS_CTL_SOCKET.
 * Each datagram has exactly the genl layout above (nlmsghdr, genlmsghdr,
 * attributes), with .cmd from enum modalfs_ctl_cmd, and the same strict
 * attribute rules. Requests carry no REQ_ID; one request is answered by one
 * or more reply datagrams with the same .cmd and the request's nlmsg_seq.
 * Every reply carries MODALFS_A_ERRNO and, on failure, may carry
 * MODALFS_A_ERRMSG, a human-readable sentence. A multi-part reply sets
 * MODALFS_A_EOF on its last datagram only. Commands that change state are
 * refused with EPERM unless the peer (SO_PEERCRED) is uid 0.
 *
 * Volumes belong to apps, as in Modal. A persisted volume is its own app
 * (its APP_ID is printed by "modalfsctl persisted"). An ephemeral volume
 * belongs to an app created with CTL_APP_CREATE: either a named app that
 * lives until CTL_APP_STOP, or an anonymous app owned by the peer process
 * (a "modalfsctl run"), which the daemon stops by itself when that process
 * is gone, also after a daemon restart. Stopping an app deletes its
 * ephemeral volumes. A volume that is mounted (any mount of it on this
 * host, in any mount namespace) is deleted only with MODALFS_CTL_F_FORCE;
 * the daemon then sends MODALFS_NOTIFY_VOL_GONE and every operation on
 * those mounts fails with ESTALE until they are unmounted.
 *
 * The file commands (CTL_LS, CTL_GET, CTL_PUT, CTL_MKDIR, CTL_RM) work on a
 * volume without mounting it. PATH is absolute within the volume. Changes
 * they make are announced to the kernel with MODALFS_NOTIFY_INVAL_*, so
 * mounts see them at once.
 */
#ifndef _UAPI_LINUX_MODALFS_H
#define _UAPI_LINUX_MODALFS_H

#include <linux/types.h>

#define MODALFS_GENL_NAME	"modalfs"
#define MODALFS_GENL_VERSION	6

/* Limits. Lengths of strings exclude the terminating NUL. */
#define MODALFS_VOL_NAME_MAX	64	/* [A-Za-z0-9._-]{1,64} */
#define MODALFS_APP_ID_MAX	64	/* "ap-" followed by [A-Za-z0-9] */
#define MODALFS_NAME_MAX	255	/* one path component: no '/', no NUL */
#define MODALFS_PATH_MAX	4095	/* a sub-path inside a volume */
#define MODALFS_SYMLINK_MAX	4095	/* a symlink target */
#define MODALFS_ERRMSG_MAX	511
#define MODALFS_DATA_CHUNK	32768	/* bytes in one MODALFS_A_DATA */
#define MODALFS_IO_MAX		1048576	/* bytes in one READ or WRITE */
#define MODALFS_READDIR_MAX	256	/* entries in one READDIR reply */
#define MODALFS_MSG_MAX		1114112	/* bytes in any one message */
/* The control channel (section 5) keeps version 2's sizes. */
#define MODALFS_CTL_IO_MAX	65536	/* bytes in one CTL_GET or CTL_PUT */
#define MODALFS_CTL_MSG_MAX	131072	/* bytes in one control datagram */
#define MODALFS_ROOT_INO	1ULL
/* Most inode numbers one INO_RANGE hands out. */
#define MODALFS_INO_RANGE_MAX	4096
/* Most inodes one EVICT releases: INO and up to this minus one in INOS. */
#define MODALFS_EVICT_MAX	512

/*
 * Extended attributes. NAME of an xattr op is the full name with its
 * namespace prefix ("user.", "trusted." or "security."; anything else is
 * EOPNOTSUPP), 1..MODALFS_NAME_MAX bytes. A value is at most
 * MODALFS_XATTR_SIZE_MAX bytes (larger: E2BIG), the NUL-separated list of
 * an inode's names at most MODALFS_XATTR_LIST_MAX bytes, and all names and
 * values of one inode together at most MODALFS_XATTR_INODE_MAX bytes; a
 * SETXATTR that would exceed either of the last two fails with ENOSPC.
 */
#define MODALFS_XATTR_SIZE_MAX	65536
#define MODALFS_XATTR_LIST_MAX	65536
#define MODALFS_XATTR_INODE_MAX	(1U << 20)

/* First READDIR cookie handed out for a real entry; 0 means "start". */
#define MODALFS_DIR_COOKIE_FIRST 3ULL

#define MODALFS_CTL_SOCKET	"/run/modalfs/modalfsd.sock"

/* Genl commands (genlmsghdr.cmd) on the kernel family. */
enum modalfs_cmd {
	MODALFS_CMD_UNSPEC = 0,
	MODALFS_CMD_REGISTER,	/* daemon -> kernel, needs CAP_SYS_ADMIN */
	MODALFS_CMD_REQUEST,	/* kernel -> daemon */
	MODALFS_CMD_REPLY,	/* daemon -> kernel, registered port only */
	MODALFS_CMD_NOTIFY,	/* daemon -> kernel, registered port only */
	__MODALFS_CMD_MAX,
};
#define MODALFS_CMD_MAX (__MODALFS_CMD_MAX - 1)

/*
 * Operations (MODALFS_A_OP of a REQUEST). "req" lists the request's
 * attributes beyond REQ_ID and OP, "rep" those of a successful reply
 * beyond REQ_ID and ERRNO. Attributes in [brackets] are optional.
 *
 * MOUNT     req VOL_NAME [PATH]            rep VOL_ID ATTR
 *           Resolves a volume by name and a directory inside it (PATH,
 *           default "/", components separated by '/'). ATTR describes that
 *           directory. ENOENT: no such volume or path; ENOTDIR: PATH names
 *           a non-directory.
 * UMOUNT    req VOL_ID                     rep -
 *           The kernel dropped its last superblock of the volume. The
 *           daemon may now free inodes that have nlink 0.
 * STATFS    req VOL_ID                     rep STATFS
 * LOOKUP    req VOL_ID INO NAME            rep ATTR
 *           INO is the directory. ENOENT if the name is absent.
 * GETATTR   req VOL_ID INO                 rep ATTR
 * SETATTR   req VOL_ID INO SETATTR         rep ATTR
 *           Only the members present in SETATTR change. A SIZE change
 *           discards data past the new size and reads zeros when growing.
 * READDIR   req VOL_ID INO OFFSET SIZE     rep DIRENT* [EOF]
 *           OFFSET is 0 or a COOKIE from an earlier reply; SIZE is the
 *           maximum number of entries (1..MODALFS_READDIR_MAX). Entries
 *           come in cookie order, never include "." or "..", and a cookie
 *           stays valid while other entries are added or removed. EOF is
 *           set when no entry follows the last one returned. Each DIRENT
 *           carries its inode's ATTR, read in the same transaction, so a
 *           cold `ls -l` or `find` needs no LOOKUP per name.
 * CREATE    req VOL_ID INO NAME MODE UID GID [RDEV] [NODE_INO SETATTR] [ASYNC]
 *                                                     rep ATTR [DIR_ATTR]
 *           MODE's S_IFMT is S_IFREG, S_IFIFO, S_IFSOCK, S_IFCHR or
 *           S_IFBLK. EEXIST if the name exists. An asynchronous create
 *           (section 3b) names the new inode itself: NODE_INO, a number
 *           from a range INO_RANGE handed out (EINVAL if it is not below
 *           the volume's next number, or is in use), and SETATTR with
 *           the kernel's three timestamps (no other member: EINVAL), which
 *           the new inode takes instead of the daemon's clock.
 * MKDIR     req VOL_ID INO NAME MODE UID GID [NODE_INO SETATTR] [ASYNC]
 *                                                     rep ATTR [DIR_ATTR]
 *           NODE_INO and SETATTR as CREATE's (an asynchronous mkdir).
 * SYMLINK   req VOL_ID INO NAME TARGET UID GID        rep ATTR [DIR_ATTR]
 * READLINK  req VOL_ID INO                 rep TARGET
 * LINK      req VOL_ID INO NEW_INO NEW_NAME           rep ATTR [DIR_ATTR]
 *           INO is the existing non-directory, NEW_INO the directory that
 *           gets the entry NEW_NAME. ATTR is INO's, with its new nlink.
 * UNLINK    req VOL_ID INO NAME [ASYNC]    rep [DIR_ATTR]
 * RMDIR     req VOL_ID INO NAME [ASYNC]    rep [DIR_ATTR]
 *           ENOTEMPTY if the directory has entries.
 * RENAME    req VOL_ID INO NAME NEW_INO NEW_NAME [FLAGS]
 *                                          rep [DIR_ATTR] [NEW_DIR_ATTR]
 *           FLAGS is a subset of MODALFS_RENAME_FLAGS.
 *
 *           DIR_ATTR of the seven ops above is the attributes of the
 *           directory they changed (INO; for LINK, NEW_INO) right after
 *           the op, from the same transaction; NEW_DIR_ATTR is those of
 *           RENAME's NEW_INO when it is not INO. The kernel takes the
 *           directory's size, link count, mtime and ctime from them
 *           instead of asking with a GETATTR later. Both are optional:
 *           without them (a reply from the duplicate-request cache, an
 *           older daemon) the kernel stamps the directory itself and
 *           refreshes it at the next stat. A DIR_ATTR that does not
 *           describe a directory, or names another inode than the one
 *           the op changed, makes the reply malformed.
 * READ      req VOL_ID INO OFFSET SIZE     rep DATA*
 *           SIZE is 1..MODALFS_IO_MAX. Fewer bytes than SIZE means the end
 *           of the file was reached; holes read as zeros.
 * WRITE     req VOL_ID INO OFFSET [SETATTR] [FLAGS] DATA*  rep SIZE ATTR
 *           At least one DATA. The file grows to OFFSET + length if it was
 *           shorter. SIZE is the number of bytes written, which is the
 *           whole payload on success. ATTR is the inode after the write;
 *           the kernel takes BLOCKS from it (it owns size and times of a
 *           file it is writing back). SETATTR, as in SETATTR but without
 *           SIZE (EINVAL), is applied after the data in the same
 *           transaction, so its times replace the ones the write stamps:
 *           the kernel sends it with a WRITE that holds a whole file, or
 *           that is the only one in flight for the file, instead of a
 *           SETATTR after it. FLAGS may hold MODALFS_WRITE_STABLE
 *           (version 6): the reply then also promises what an FSYNC of
 *           the inode sent after it would (NFS's FILE_SYNC write), so
 *           that fsync of a file with one dirty range is one round trip.
 * FSYNC     req VOL_ID INO [FLAGS]         rep -
 *           When it succeeds, every earlier acknowledged operation on the
 *           volume is on stable storage. FLAGS may hold
 *           MODALFS_FSYNC_DATASYNC.
 * EVICT     req VOL_ID INO [INOS]          rep -
 *           The kernel holds no more references to INO, nor to the inodes
 *           INOS lists (u64s, 1..MODALFS_EVICT_MAX - 1 of them; EINVAL if
 *           its length is not a multiple of 8 or one is 0); for each whose
 *           nlink is 0 the daemon frees it and its data. An inode that is
 *           already gone is skipped. The kernel queues the inodes its
 *           unlinks released and sends one EVICT at a time per volume.
 * GETXATTR  req VOL_ID INO NAME            rep SIZE DATA*
 *           SIZE is the value's length; DATA carries the value and is
 *           absent when it is empty. ENODATA if INO has no such xattr. The
 *           kernel, not the daemon, answers ERANGE for a too small buffer.
 * SETXATTR  req VOL_ID INO NAME DATA* [FLAGS]          rep ATTR
 *           No DATA sets an empty value. FLAGS is a subset of
 *           MODALFS_XATTR_FLAGS: CREATE fails with EEXIST if the name
 *           exists, REPLACE with ENODATA if it does not. ATTR has the new
 *           ctime.
 * LISTXATTR req VOL_ID INO                 rep SIZE DATA*
 *           The names, each NUL-terminated, concatenated in no particular
 *           order; SIZE is their total length (0: no DATA).
 * REMOVEXATTR req VOL_ID INO NAME          rep ATTR
 *           ENODATA if INO has no such xattr.
 * INO_RANGE req VOL_ID SIZE                rep INO SIZE
 *           Hands out SIZE (1..MODALFS_INO_RANGE_MAX, else EINVAL) inode
 *           numbers of the volume, INO to INO + SIZE - 1, for the kernel
 *           to give to files it creates asynchronously (CREATE's
 *           NODE_INO). The daemon commits the volume's next number past
 *           them before it replies, so they are never handed out again,
 *           also after a crash; numbers the kernel does not use are lost.
 */
enum modalfs_op {
	MODALFS_OP_UNSPEC = 0,
	MODALFS_OP_MOUNT,
	MODALFS_OP_UMOUNT,
	MODALFS_OP_STATFS,
	MODALFS_OP_LOOKUP,
	MODALFS_OP_GETATTR,
	MODALFS_OP_SETATTR,
	MODALFS_OP_READDIR,
	MODALFS_OP_CREATE,
	MODALFS_OP_MKDIR,
	MODALFS_OP_SYMLINK,
	MODALFS_OP_READLINK,
	MODALFS_OP_LINK,
	MODALFS_OP_UNLINK,
	MODALFS_OP_RMDIR,
	MODALFS_OP_RENAME,
	MODALFS_OP_READ,
	MODALFS_OP_WRITE,
	MODALFS_OP_FSYNC,
	MODALFS_OP_EVICT,
	MODALFS_OP_GETXATTR,
	MODALFS_OP_SETXATTR,
	MODALFS_OP_LISTXATTR,
	MODALFS_OP_REMOVEXATTR,
	MODALFS_OP_INO_RANGE,
	__MODALFS_OP_MAX,
};
#define MODALFS_OP_MAX (__MODALFS_OP_MAX - 1)

/* MODALFS_A_FLAGS of RENAME: the renameat2() flags we support. */
#define MODALFS_RENAME_NOREPLACE	(1U << 0)
#define MODALFS_RENAME_EXCHANGE		(1U << 1)
#define MODALFS_RENAME_FLAGS \
	(MODALFS_RENAME_NOREPLACE | MODALFS_RENAME_EXCHANGE)

/* MODALFS_A_FLAGS of FSYNC. */
#define MODALFS_FSYNC_DATASYNC		(1U << 0)
#define MODALFS_FSYNC_FLAGS		MODALFS_FSYNC_DATASYNC

/* MODALFS_A_FLAGS of WRITE. */
#define MODALFS_WRITE_STABLE		(1U << 0)
#define MODALFS_WRITE_FLAGS		MODALFS_WRITE_STABLE

/* MODALFS_A_FLAGS of SETXATTR (the values of XATTR_CREATE/XATTR_REPLACE). */
#define MODALFS_XATTR_CREATE		(1U << 0)
#define MODALFS_XATTR_REPLACE		(1U << 1)
#define MODALFS_XATTR_FLAGS \
	(MODALFS_XATTR_CREATE | MODALFS_XATTR_REPLACE)

/*
 * Notifications (MODALFS_A_NOTIFY of MODALFS_CMD_NOTIFY) and the
 * attributes each carries:
 *
 * INVAL_INODE  VOL_ID INO       INO's attributes and data changed: the
 *                               kernel drops its cached attributes and
 *                               clean pages and asks again when needed.
 * INVAL_ENTRY  VOL_ID INO NAME  The entry NAME in directory INO changed
 *                               (created, removed or replaced): the kernel
 *                               drops that dentry, and INO's attributes.
 * VOL_GONE     VOL_ID           The volume was deleted: every operation on
 *                               its mounts fails with ESTALE from now on,
 *                               cached data included; unmounting works.
 */
enum modalfs_notify {
	MODALFS_NOTIFY_UNSPEC = 0,
	MODALFS_NOTIFY_INVAL_INODE,
	MODALFS_NOTIFY_INVAL_ENTRY,
	MODALFS_NOTIFY_VOL_GONE,
	__MODALFS_NOTIFY_MAX,
};
#define MODALFS_NOTIFY_MAX (__MODALFS_NOTIFY_MAX - 1)

/*
 * Top-level attributes. Type and limit of each:
 */
enum modalfs_attr {
	MODALFS_A_UNSPEC = 0,
	MODALFS_A_VERSION,	/* u32: MODALFS_GENL_VERSION */
	MODALFS_A_REQ_ID,	/* u64: request id, != 0 */
	MODALFS_A_OP,		/* u32: enum modalfs_op, 1..MODALFS_OP_MAX */
	MODALFS_A_ERRNO,	/* u32: 0 or a positive errno < 4096 */
	MODALFS_A_ERRMSG,	/* NUL-terminated string, <= ERRMSG_MAX */
	MODALFS_A_VOL_NAME,	/* NUL-terminated string, 1..VOL_NAME_MAX */
	MODALFS_A_VOL_ID,	/* u64: volume id, != 0 */
	MODALFS_A_PATH,		/* NUL-terminated string, 1..PATH_MAX */
	MODALFS_A_INO,		/* u64: inode (or directory) number, != 0 */
	MODALFS_A_NAME,		/* NUL-terminated string, 1..NAME_MAX */
	MODALFS_A_NEW_INO,	/* u64: second directory of LINK/RENAME */
	MODALFS_A_NEW_NAME,	/* NUL-terminated string, 1..NAME_MAX */
	MODALFS_A_TARGET,	/* NUL-terminated string, 1..SYMLINK_MAX */
	MODALFS_A_MODE,		/* u32: st_mode, type and permission bits */
	MODALFS_A_UID,		/* u32: owner, in the initial user namespace */
	MODALFS_A_GID,		/* u32: group, in the initial user namespace */
	MODALFS_A_RDEV,		/* u32: new_encode_dev() of a device number */
	MODALFS_A_FLAGS,	/* u32: op-specific flag set, see above */
	MODALFS_A_OFFSET,	/* u64: byte offset or READDIR cookie */
	MODALFS_A_SIZE,		/* u32: byte count or entry count */
	MODALFS_A_DATA,		/* binary, 1..DATA_CHUNK bytes, repeats */
	MODALFS_A_ATTR,		/* nested enum modalfs_attr_attr */
	MODALFS_A_SETATTR,	/* nested enum modalfs_attr_attr, subset */
	MODALFS_A_STATFS,	/* nested enum modalfs_statfs_attr */
	MODALFS_A_DIRENT,	/* nested enum modalfs_dirent_attr, repeats */
	MODALFS_A_EOF,		/* flag: no more data follows */
	MODALFS_A_APP_ID,	/* NUL-terminated string, 1..APP_ID_MAX */
	MODALFS_A_VOLUME,	/* nested enum modalfs_volume_attr, repeats */
	MODALFS_A_NOTIFY,	/* u32: enum modalfs_notify, 1..NOTIFY_MAX */
	MODALFS_A_APP_NAME,	/* NUL-terminated string, 1..VOL_NAME_MAX,
				 * same character rule as volume names */
	MODALFS_A_ENTRY,	/* nested enum modalfs_entry_attr, repeats */
	MODALFS_A_STATS,	/* nested enum modalfs_stats_attr */
	MODALFS_A_DIR_ATTR,	/* nested enum modalfs_attr_attr: the changed
				 * directory's attributes (op table) */
	MODALFS_A_NEW_DIR_ATTR,	/* nested enum modalfs_attr_attr: RENAME's
				 * second directory's */
	MODALFS_A_ASYNC,	/* flag, requests only: the caller did not
				 * wait; later requests run after it (3b) */
	MODALFS_A_NODE_INO,	/* u64: CREATE's new inode, from INO_RANGE */
	MODALFS_A_INOS,		/* binary, requests only: EVICT's further
				 * inodes, an array of u64 */
	MODALFS_A_FENCE,	/* flag, requests only, with ASYNC: waits
				 * for the earlier ASYNC requests (3b) */
	__MODALFS_A_MAX,
};
#define MODALFS_A_MAX (__MODALFS_A_MAX - 1)

/*
 * Inode attributes (MODALFS_A_ATTR). In a reply all members are present.
 * In MODALFS_A_SETATTR only MODE, UID, GID, SIZE and the three times may
 * appear, and each that appears is set; a time is set by its _SEC and
 * _NSEC together. A file's type never changes, so MODE in SETATTR holds
 * permission bits only (07777); anything else is EINVAL.
 */
enum modalfs_attr_attr {
	MODALFS_ATTR_UNSPEC = 0,
	MODALFS_ATTR_INO,	/* u64 */
	MODALFS_ATTR_MODE,	/* u32: st_mode */
	MODALFS_ATTR_NLINK,	/* u32 */
	MODALFS_ATTR_UID,	/* u32 */
	MODALFS_ATTR_GID,	/* u32 */
	MODALFS_ATTR_RDEV,	/* u32: new_encode_dev() */
	MODALFS_ATTR_SIZE,	/* u64: bytes, < 2^63 */
	MODALFS_ATTR_BLOCKS,	/* u64: 512-byte blocks allocated */
	MODALFS_ATTR_ATIME_SEC,	/* s64 */
	MODALFS_ATTR_ATIME_NSEC, /* u32: < 1000000000 */
	MODALFS_ATTR_MTIME_SEC,	/* s64 */
	MODALFS_ATTR_MTIME_NSEC, /* u32: < 1000000000 */
	MODALFS_ATTR_CTIME_SEC,	/* s64 */
	MODALFS_ATTR_CTIME_NSEC, /* u32: < 1000000000 */
	__MODALFS_ATTR_MAX,
};
#define MODALFS_ATTR_MAX (__MODALFS_ATTR_MAX - 1)

/* Filesystem statistics (MODALFS_A_STATFS); all members present. */
enum modalfs_statfs_attr {
	MODALFS_STATFS_UNSPEC = 0,
	MODALFS_STATFS_BSIZE,	/* u32: block size of the counts below */
	MODALFS_STATFS_BLOCKS,	/* u64 */
	MODALFS_STATFS_BFREE,	/* u64 */
	MODALFS_STATFS_BAVAIL,	/* u64 */
	MODALFS_STATFS_FILES,	/* u64 */
	MODALFS_STATFS_FFREE,	/* u64 */
	MODALFS_STATFS_NAMELEN,	/* u32: MODALFS_NAME_MAX */
	__MODALFS_STATFS_MAX,
};
#define MODALFS_STATFS_MAX (__MODALFS_STATFS_MAX - 1)

/*
 * One directory entry (MODALFS_A_DIRENT); all members present but ATTR,
 * which a daemon may leave out (the kernel then asks with LOOKUP).
 */
enum modalfs_dirent_attr {
	MODALFS_DIRENT_UNSPEC = 0,
	MODALFS_DIRENT_INO,	/* u64 */
	MODALFS_DIRENT_TYPE,	/* u32: DT_* value, 0..15 */
	MODALFS_DIRENT_COOKIE,	/* u64: OFFSET that continues after it */
	MODALFS_DIRENT_NAME,	/* NUL-terminated string, 1..NAME_MAX */
	MODALFS_DIRENT_ATTR,	/* nested enum modalfs_attr_attr: the
				 * entry's inode as LOOKUP would answer
				 * (READDIRPLUS); INO and type agree */
	__MODALFS_DIRENT_MAX,
};
#define MODALFS_DIRENT_MAX (__MODALFS_DIRENT_MAX - 1)

/*
 * Control channel commands (genlmsghdr.cmd on MODALFS_CTL_SOCKET only;
 * the kernel family rejects them).
 *
 * CTL_PERSISTED  req VOL_NAME    rep VOL_ID APP_ID VOLUME
 *                Creates the persisted volume if missing; idempotent.
 * CTL_CREATE     req VOL_NAME    rep VOL_ID APP_ID VOLUME
 *                EEXIST if the name is taken.
 * CTL_LIST       req -           rep VOLUME* [EOF], possibly many datagrams
 * CTL_DELETE     req VOL_NAME | APP_ID  [FLAGS]      rep -
 *                Deletes a volume (named, or by its app id) and all its
 *                data; the space is returned to the store's free list.
 *                ENOENT if unknown; EBUSY if mounted and FLAGS lacks
 *                MODALFS_CTL_F_FORCE. Deleting an ephemeral volume by name
 *                is allowed; deleting by APP_ID of an app with ephemeral
 *                volumes is CTL_APP_STOP.
 * CTL_APP_CREATE req [APP_NAME]  rep APP_ID
 *                With APP_NAME: find or create the named app (it lives
 *                until CTL_APP_STOP). Without: a new anonymous app owned by
 *                the peer process (SO_PEERCRED pid), stopped by the daemon
 *                when that process has exited.
 * CTL_APP_STOP   req APP_ID | APP_NAME  [FLAGS]      rep -
 *                Deletes the app's volumes (as CTL_DELETE, same FLAGS and
 *                EBUSY rule) and the app. ENOENT if unknown.
 * CTL_EPHEMERAL  req APP_ID      rep VOL_ID APP_ID VOLUME
 *                A new, empty ephemeral volume owned by the app; the
 *                daemon chooses its name (VOLUME_NAME), which mounts like
 *                any other.
 * CTL_LS         req VOL_NAME [PATH]     rep ENTRY* [EOF], many datagrams
 *                PATH (default "/") names a directory, whose entries are
 *                listed, or a file, which is listed alone.
 * CTL_GET        req VOL_NAME PATH OFFSET SIZE       rep ATTR DATA*
 *                Reads at most SIZE (1..CTL_IO_MAX) bytes of the regular file
 *                PATH from OFFSET; fewer means end of file. EISDIR for a
 *                directory.
 * CTL_PUT        req VOL_NAME PATH OFFSET DATA* [MODE] [FLAGS]  rep ATTR
 *                Writes into the regular file PATH, creating it (MODE,
 *                default 0644, owner the peer's uid/gid) if it is missing.
 *                MODALFS_CTL_F_TRUNC truncates it to OFFSET first. Missing
 *                parent directories are ENOENT (modalfsctl makes them with
 *                CTL_MKDIR first).
 *                MODALFS_CTL_F_ATOMIC: OFFSET 0 starts writing a new file
 *                under a staging name in PATH's directory (dropping an
 *                unfinished one of this connection); later chunks, in
 *                order on the same connection, continue it (EINVAL
 *                otherwise); the chunk with MODALFS_CTL_F_COMMIT too
 *                renames it over PATH in one transaction. A connection
 *                that ends before COMMIT leaves PATH as it was.
 *                File commands check the peer's permissions as the VFS
 *                would (Documentation/security.md); EACCES for a peer that
 *                is neither root nor in the modalfs group.
 * CTL_MKDIR      req VOL_NAME PATH [MODE]            rep ATTR
 *                Creates the directory and any missing parents (mkdir -p);
 *                an existing directory is success, a non-directory ENOTDIR.
 * CTL_RM         req VOL_NAME PATH [FLAGS]           rep -
 *                Removes a file, symlink or empty directory;
 *                MODALFS_CTL_F_RECURSIVE removes a directory tree.
 *                ENOTEMPTY for a non-empty directory without it; EBUSY for
 *                "/".
 * CTL_STATS      req -           rep STATS
 *                The daemon's counters since it started (enum
 *                modalfs_stats_attr): per kernel op, and of its store.
 *                Open to every peer, like CTL_LIST.
 */
enum modalfs_ctl_cmd {
	MODALFS_CTL_UNSPEC = 0,
	MODALFS_CTL_PERSISTED,
	MODALFS_CTL_CREATE,
	MODALFS_CTL_LIST,
	MODALFS_CTL_DELETE,
	MODALFS_CTL_APP_CREATE,
	MODALFS_CTL_APP_STOP,
	MODALFS_CTL_EPHEMERAL,
	MODALFS_CTL_LS,
	MODALFS_CTL_GET,
	MODALFS_CTL_PUT,
	MODALFS_CTL_MKDIR,
	MODALFS_CTL_RM,
	MODALFS_CTL_STATS,
	__MODALFS_CTL_MAX,
};
#define MODALFS_CTL_MAX (__MODALFS_CTL_MAX - 1)

/* MODALFS_A_FLAGS of control commands. */
#define MODALFS_CTL_F_FORCE		(1U << 0)	/* DELETE, APP_STOP */
#define MODALFS_CTL_F_TRUNC		(1U << 1)	/* PUT */
#define MODALFS_CTL_F_RECURSIVE		(1U << 2)	/* RM */
#define MODALFS_CTL_F_ATOMIC		(1U << 3)	/* PUT: staged */
#define MODALFS_CTL_F_COMMIT		(1U << 4)	/* PUT: last chunk */
#define MODALFS_CTL_FLAGS \
	(MODALFS_CTL_F_FORCE | MODALFS_CTL_F_TRUNC | MODALFS_CTL_F_RECURSIVE | \
	 MODALFS_CTL_F_ATOMIC | MODALFS_CTL_F_COMMIT)

/* Volume kinds (MODALFS_VOLUME_KIND). */
enum modalfs_volume_kind {
	MODALFS_KIND_PERSISTED = 1,
	MODALFS_KIND_EPHEMERAL = 2,
};

/* One volume in a control reply (MODALFS_A_VOLUME). */
enum modalfs_volume_attr {
	MODALFS_VOLUME_UNSPEC = 0,
	MODALFS_VOLUME_NAME,	/* NUL-terminated string, 1..VOL_NAME_MAX */
	MODALFS_VOLUME_ID,	/* u64 */
	MODALFS_VOLUME_APP_ID,	/* NUL-terminated string, 1..APP_ID_MAX */
	MODALFS_VOLUME_KIND,	/* u32: enum modalfs_volume_kind */
	MODALFS_VOLUME_CREATED,	/* s64: creation time, seconds since epoch */
	MODALFS_VOLUME_BYTES,	/* u64: bytes of file data stored */
	MODALFS_VOLUME_FILES,	/* u64: number of inodes */
	MODALFS_VOLUME_MOUNTS,	/* u32: mounts of it on this host, over all
				 * mount namespaces */
	MODALFS_VOLUME_APP_NAME, /* [string]: name of the owning app, if the
				 * volume is ephemeral and its app is named */
	__MODALFS_VOLUME_MAX,
};
#define MODALFS_VOLUME_MAX (__MODALFS_VOLUME_MAX - 1)

/* One entry of a CTL_LS reply (MODALFS_A_ENTRY); all members present. */
enum modalfs_entry_attr {
	MODALFS_ENTRY_UNSPEC = 0,
	MODALFS_ENTRY_NAME,	/* string: the entry's name, or for a file
				 * PATH the last component of PATH */
	MODALFS_ENTRY_ATTR,	/* nested enum modalfs_attr_attr */
	__MODALFS_ENTRY_MAX,
};
#define MODALFS_ENTRY_MAX (__MODALFS_ENTRY_MAX - 1)

/*
 * The daemon's counters in a CTL_STATS reply (MODALFS_A_STATS); all
 * members present, every count since the daemon started. "Commits" are
 * write transactions of the metadata store; a batch is the ops the
 * daemon's writer committed together (group commit); a sync makes
 * everything committed before it durable. The BATCH_ members describe
 * the number of ops per batch.
 */
enum modalfs_stats_attr {
	MODALFS_STATS_UNSPEC = 0,
	MODALFS_STATS_STARTED,	/* s64: daemon start, seconds since epoch */
	MODALFS_STATS_COMMITS,	/* u64 */
	MODALFS_STATS_SYNCS,	/* u64 */
	MODALFS_STATS_BLOCK_BYTES, /* u64: bytes written to the block store */
	MODALFS_STATS_META_BYTES, /* u64: bytes written to the metadata store */
	MODALFS_STATS_BATCHES,	/* u64: batches committed */
	MODALFS_STATS_BATCH_OPS, /* u64: ops in all of them */
	MODALFS_STATS_BATCH_P99, /* u64: ops per batch, 99th percentile */
	MODALFS_STATS_BATCH_MAX, /* u64: ops in the largest batch */
	MODALFS_STATS_OP,	/* nested enum modalfs_stats_op_attr, repeats:
				 * one per op with at least one request */
	__MODALFS_STATS_MAX,
};
#define MODALFS_STATS_MAX (__MODALFS_STATS_MAX - 1)

/* One kernel op's counters (MODALFS_STATS_OP); all members present. */
enum modalfs_stats_op_attr {
	MODALFS_STATS_OP_UNSPEC = 0,
	MODALFS_STATS_OP_OP,	/* u32: enum modalfs_op */
	MODALFS_STATS_OP_REQUESTS, /* u64 */
	MODALFS_STATS_OP_ERRORS, /* u64: answered with a non-zero errno */
	MODALFS_STATS_OP_MEAN_NS, /* u64: mean latency, nanoseconds */
	MODALFS_STATS_OP_P99_NS, /* u64: 99th percentile latency (at most
				 * 19% above the true value) */
	MODALFS_STATS_OP_MAX_NS, /* u64: slowest request */
	__MODALFS_STATS_OP_MAX,
};
#define MODALFS_STATS_OP_MAX (__MODALFS_STATS_OP_MAX - 1)

#endif /* _UAPI_LINUX_MODALFS_H */
