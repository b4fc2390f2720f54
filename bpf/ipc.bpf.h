/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipc.bpf.h — objects other processes share through the kernel by number or
 * key rather than by name (issue 31, roads 6 and 7): System V shared memory,
 * message queues and semaphores, and keys. The hooks see the object, not who
 * made it, so each is decided on "": a confined task uses them only when its
 * policy names the call (`native-shmat: permit`). POSIX message queues and
 * shared memory are files (file_open).
 *
 *   shm_associate shm_shmat shm_shmctl                      shmget shmat shmctl
 *   msg_queue_associate msgsnd msgrcv msgctl                msgget msgsnd msgrcv msgctl
 *   sem_associate sem_semop sem_semctl                      semget semop semctl
 *   key_alloc                                               add_key
 *   key_permission                                          keyctl
 *   uring_override_creds (an io_uring personality)          io_uring_register
 *
 * Creating a new SysV object (IPC_PRIVATE, a new key) reaches no associate
 * hook; using it reaches the others.
 */
#ifndef __BST_IPC_BPF_H
#define __BST_IPC_BPF_H

#include "bpfsystrace.h"
#include "errno.bpf.h"
#include "task.bpf.h"
#include "decide.bpf.h"
#include "hook.bpf.h"
#include "sys.bpf.h"
#include "attr.bpf.h"

/* ---- System V IPC ---- */

SEC("lsm/shm_associate")
int BST_LSM(bst_shm_associate, struct kern_ipc_perm *perm, int shmflg)
{
	return decide_bare(BST_OP_SHMGET);
}

SEC("lsm/shm_shmat")
int BST_LSM(bst_shm_shmat, struct kern_ipc_perm *perm, char *shmaddr, int shmflg)
{
	return decide_bare(BST_OP_SHMAT);
}

/* every shmctl(2) command, IPC_INFO and SHM_INFO (ipcs) too */
SEC("lsm/shm_shmctl")
int BST_LSM(bst_shm_shmctl, struct kern_ipc_perm *perm, int cmd)
{
	return decide_bare(BST_OP_SHMCTL);
}

SEC("lsm/msg_queue_associate")
int BST_LSM(bst_msg_queue_associate, struct kern_ipc_perm *perm, int msqflg)
{
	return decide_bare(BST_OP_MSGGET);
}

SEC("lsm/msg_queue_msgsnd")
int BST_LSM(bst_msg_queue_msgsnd, struct kern_ipc_perm *perm, struct msg_msg *msg, int msqflg)
{
	return decide_bare(BST_OP_MSGSND);
}

/* The receiver's own msgrcv(2). A message handed straight to a waiting
 * receiver is checked by the sender's msgsnd with the receiver as target:
 * that send was decided as msgsnd, so it passes here. */
SEC("lsm/msg_queue_msgrcv")
int BST_LSM(bst_msg_queue_msgrcv, struct kern_ipc_perm *perm, struct msg_msg *msg,
	    struct task_struct *target, long type, int mode)
{
	if ((__u64)target != (__u64)bpf_get_current_task_btf())
		return 0;
	return decide_bare(BST_OP_MSGRCV);
}

SEC("lsm/msg_queue_msgctl")
int BST_LSM(bst_msg_queue_msgctl, struct kern_ipc_perm *perm, int cmd)
{
	return decide_bare(BST_OP_MSGCTL);
}

SEC("lsm/sem_associate")
int BST_LSM(bst_sem_associate, struct kern_ipc_perm *perm, int semflg)
{
	return decide_bare(BST_OP_SEMGET);
}

SEC("lsm/sem_semop")
int BST_LSM(bst_sem_semop, struct kern_ipc_perm *perm, void *sops, unsigned int nsops, int alter)
{
	return decide_bare(BST_OP_SEMOP);
}

SEC("lsm/sem_semctl")
int BST_LSM(bst_sem_semctl, struct kern_ipc_perm *perm, int cmd)
{
	return decide_bare(BST_OP_SEMCTL);
}

/* ---- keys ---- */

/* add_key(2), request_key(2), KEYCTL_JOIN_SESSION_KEYRING: a new key, or
 * keyring, of the task's. */
SEC("lsm/key_alloc")
int BST_LSM(bst_key_alloc, struct key *key, const struct cred *cred, unsigned long flags)
{
	return own_creds_decide(BST_OP_ADD_KEY);
}

/* Every use of a key the task names (keyctl(2) reads, links, updates,
 * revokes; add_key's and request_key's keyrings): decided when asked for
 * the task's own credentials, not for the kernel's lookups on its own
 * behalf (NFS's id mapper, the DNS resolver). */
SEC("lsm/key_permission")
int BST_LSM(bst_key_permission, void *key_ref, const struct cred *cred, unsigned int perm)
{
	struct task_struct *cur = bpf_get_current_task_btf();

	if (hook_arg(ctx, 1) != (__u64)BPF_CORE_READ(cur, real_cred))
		return 0;
	return decide_bare(BST_OP_KEYCTL);
}

/* ---- io_uring ---- */

/* A request that runs with credentials registered earlier
 * (IORING_REGISTER_PERSONALITY), e.g. root's from before a setuid: the
 * capable and xattr hooks take credentials other than the task's own for
 * the kernel's, so a confined task may not switch to others. */
SEC("lsm/uring_override_creds")
int BST_LSM(bst_uring_override_creds, const struct cred *new)
{
	return decide_bare(BST_OP_IO_URING_REGISTER);
}

#endif /* __BST_IPC_BPF_H */
