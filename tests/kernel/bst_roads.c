/*
 * bst_roads — a static attacker for tests/kernel/test_mediation.py (issue 31).
 *
 * It tries the second red team's roads to other processes and shared kernel
 * objects, printing one line per action, "<action> OK" or "<action> <ERRNO
 * NAME>" (the first step that failed), like bst_attack:
 *   setown:PID            fcntl(F_SETOWN, PID) on a pipe
 *   setsig:N              fcntl(F_SETSIG, N) on a pipe
 *   fiosetown:PID         ioctl(FIOSETOWN, &PID) on a socket
 *   sigio:PID:SIG         F_SETOWN PID, F_SETSIG SIG, O_ASYNC on a socket pair, then
 *                         a write: the kernel sends SIG to PID (no kill(2))
 *   nice:PID              setpriority(PRIO_PROCESS, PID, 7)
 *   ioprio:PID            ioprio_set(IOPRIO_WHO_PROCESS, PID, idle class)
 *   sched:PID             sched_setaffinity(PID, CPU 0)
 *   prlimit:PID           prlimit64(PID, RLIMIT_CORE): read it, set it again
 *   selfnice:-            setpriority of its own process (never decided)
 *   setxattr:PATH         setxattr(PATH, "user.bst", "x")
 *   rmxattr:PATH          removexattr(PATH, "user.bst")
 *   acl:PATH              setxattr(PATH, "system.posix_acl_access"): uid 65534 may read
 *   rmacl:PATH            removexattr(PATH, "system.posix_acl_access")
 *   getxattr:PATH         getxattr(PATH, "user.bst")
 *   getacl:PATH           getxattr(PATH, "system.posix_acl_access")
 *   listxattr:PATH        listxattr(PATH)
 *   utimes:PATH           utimensat(PATH, 1 January 2000): the times alone
 *   futimens:PATH         open(O_WRONLY), futimens to now
 *   uringcmd:-            an io_uring IORING_OP_URING_CMD (SOCKET_URING_OP_SIOCINQ)
 *                         on a UDP socket: 6.7+ runs it, older kernels have no
 *                         command for a socket (EOPNOTSUPP before the hook)
 *   inotify:PATH          inotify_add_watch(PATH, IN_CREATE)
 *   dnotify:PATH          fcntl(F_NOTIFY, DN_CREATE) on the directory PATH
 *   mkipc:KEY             shmget/msgget/semget(KEY, IPC_CREAT) (the owner's side)
 *   rmipc:KEY             IPC_RMID of all three
 *   shm:KEY               shmget(KEY) of the existing segment, shmat, read a byte
 *   msg:KEY               msgget(KEY), msgsnd a message
 *   sem:KEY               semget(KEY), semop +1
 *   rawudp:ADDR:PORT:DPORT  a raw IPPROTO_UDP socket's sendto(ADDR, sin_port PORT)
 *                         carrying a UDP datagram "RAW" to DPORT (the port field of
 *                         a raw socket's address is not where the datagram goes)
 *   sctpbindx:ADDR:PORT   an SCTP socket's sctp_bindx(ADD) of ADDR:PORT (a setsockopt)
 *   sctpconnectx:ADDR:PORT  an SCTP socket's sctp_connectx to ADDR:PORT
 *   sctpbindxs:ADDR,ADDR...:PORT  one sctp_bindx(ADD) of the list (up to 20 IPv4 addresses)
 *   ftruncate:PATH        open(O_WRONLY), then ftruncate to 0
 *   otrunc:PATH           open(O_WRONLY|O_TRUNC)
 *   mkkey:DESC            add_key("user", DESC, "SECRET", @u)
 *   keyread:DESC          keyctl SEARCH @u for DESC, then READ
 *   syslog:-              syslog(2) SYSLOG_ACTION_SIZE_BUFFER (klogctl(10))
 *   uffd:-                userfaultfd(UFFD_USER_MODE_ONLY): no capability asked
 *   canraw:-              socket(AF_CAN, SOCK_RAW, CAN_RAW): autoloads can, can-raw
 *   lowmap:-              mmap(MAP_FIXED) of one page at 0x1000 (below vm.mmap_min_addr)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/io_uring.h>
#include <sys/xattr.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <linux/keyctl.h>

static void report(const char *action, int ok)
{
	const char *name = strerrorname_np(errno);

	if (ok)
		printf("%s OK\n", action);
	else
		printf("%s %s\n", action, name ? name : "E?");
	fflush(stdout);
}

static int on_pipe(int cmd, long arg)
{
	int p[2];

	if (pipe(p) < 0)
		return 0;
	return fcntl(p[0], cmd, arg) == 0;
}

static int do_sigio(pid_t pid, int sig)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	if (fcntl(sv[0], F_SETOWN, pid) < 0 || fcntl(sv[0], F_SETSIG, sig) < 0)
		return 0;
	if (fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_ASYNC) < 0)
		return 0;
	return write(sv[1], "x", 1) == 1;
}

static int do_prlimit(pid_t pid)
{
	struct rlimit old;

	if (prlimit(pid, RLIMIT_CORE, NULL, &old) < 0)
		return 0;
	return prlimit(pid, RLIMIT_CORE, &old, NULL) == 0;
}

static int do_acl(const char *path)
{
	/* POSIX ACL xattr: version 2, then (tag, perm, id) entries */
	struct {
		uint32_t version;
		struct {
			uint16_t tag, perm;
			uint32_t id;
		} e[5];
	} acl = {2,
		 {{0x01, 6, -1}, {0x02, 4, 65534}, {0x04, 4, -1}, {0x10, 4, -1}, {0x20, 0, -1}}};

	return setxattr(path, "system.posix_acl_access", &acl, sizeof(acl), 0) == 0;
}

static int do_dnotify(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);

	return fd >= 0 && fcntl(fd, F_NOTIFY, DN_CREATE) == 0;
}

static int do_mkipc(key_t key)
{
	int shm = shmget(key, 4096, IPC_CREAT | 0600);
	char *p;

	if (shm < 0 || msgget(key, IPC_CREAT | 0600) < 0 || semget(key, 1, IPC_CREAT | 0600) < 0)
		return 0;
	p = shmat(shm, NULL, 0);
	if (p == (void *)-1)
		return 0;
	strcpy(p, "SECRET");
	return shmdt(p) == 0;
}

static int do_rmipc(key_t key)
{
	int ok = 1;
	int id;

	if ((id = shmget(key, 0, 0)) >= 0)
		ok &= shmctl(id, IPC_RMID, NULL) == 0;
	if ((id = msgget(key, 0)) >= 0)
		ok &= msgctl(id, IPC_RMID, NULL) == 0;
	if ((id = semget(key, 0, 0)) >= 0)
		ok &= semctl(id, 0, IPC_RMID) == 0;
	return ok;
}

static int do_shm(key_t key)
{
	int id = shmget(key, 0, 0);
	volatile char *p;

	if (id < 0)
		return 0;
	p = shmat(id, NULL, SHM_RDONLY);
	if (p == (void *)-1)
		return 0;
	return p[0] == 'S';
}

static int do_msg(key_t key)
{
	struct {
		long type;
		char text[8];
	} m = {1, "hello"};
	int id = msgget(key, 0);

	return id >= 0 && msgsnd(id, &m, sizeof(m.text), IPC_NOWAIT) == 0;
}

static int do_sem(key_t key)
{
	struct sembuf op = {0, 1, 0};
	int id = semget(key, 0, 0);

	return id >= 0 && semop(id, &op, 1) == 0;
}

static int do_mkkey(const char *desc)
{
	return syscall(SYS_add_key, "user", desc, "SECRET", 6, KEY_SPEC_USER_KEYRING) >= 0;
}

static int do_keyread(const char *desc)
{
	char buf[16] = {0};
	long key = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", desc, 0);

	if (key < 0)
		return 0;
	if (syscall(SYS_keyctl, KEYCTL_READ, key, buf, sizeof(buf) - 1) < 0)
		return 0;
	return strcmp(buf, "SECRET") == 0;
}

static int do_rawudp(const char *addr, int port, int dport)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct {
		struct udphdr h;
		char data[3];
	} pkt = { { .source = htons(40000), .dest = htons(dport), .len = htons(sizeof(pkt)) },
		  { 'R', 'A', 'W' } };
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);

	if (s < 0 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return 0;
	return sendto(s, &pkt, sizeof(pkt), 0, (struct sockaddr *)&sin, sizeof(sin)) == sizeof(pkt);
}

#define SOL_SCTP		 132
#define SCTP_SOCKOPT_BINDX_ADD	 100
#define SCTP_SOCKOPT_CONNECTX	 110

static int do_sctp(int opt, const char *addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);

	if (s < 0 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return 0;
	return setsockopt(s, SOL_SCTP, opt, &sin, sizeof(sin)) >= 0;
}

static int do_sctp_list(char *addrs, int port)
{
	struct sockaddr_in list[20];
	int n = 0, s = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);

	for (char *a = strtok(addrs, ","); a && n < 20; a = strtok(NULL, ","), n++) {
		memset(&list[n], 0, sizeof(list[n]));
		list[n].sin_family = AF_INET;
		list[n].sin_port = htons(port);
		if (inet_pton(AF_INET, a, &list[n].sin_addr) != 1)
			return errno = EINVAL, 0;
	}
	if (s < 0)
		return 0;
	return setsockopt(s, SOL_SCTP, SCTP_SOCKOPT_BINDX_ADD, list, n * sizeof(list[0])) >= 0;
}

/* One IORING_OP_URING_CMD, cmd_op 0 (SOCKET_URING_OP_SIOCINQ), on a UDP
 * socket, without liburing: its completion's result. */
static int do_uring_cmd(void)
{
	struct io_uring_params p = {0};
	int ring = syscall(SYS_io_uring_setup, 4, &p), s = socket(AF_INET, SOCK_DGRAM, 0), res;
	size_t sqsz, cqsz;
	char *sq, *cq;
	struct io_uring_sqe *sqes, *e;
	struct io_uring_cqe *cqes;
	unsigned tail, idx;

	if (ring < 0 || s < 0)
		return 0;
	sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sqsz = cqsz = sqsz > cqsz ? sqsz : cqsz;
	sq = mmap(0, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq = (p.features & IORING_FEAT_SINGLE_MMAP)
		     ? sq
		     : mmap(0, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(0, p.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
		    IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return 0;
	tail = *(unsigned *)(sq + p.sq_off.tail);
	idx = tail & *(unsigned *)(sq + p.sq_off.ring_mask);
	e = &sqes[idx];
	memset(e, 0, sizeof(*e));
	e->opcode = IORING_OP_URING_CMD;
	e->fd = s;
	((unsigned *)(sq + p.sq_off.array))[idx] = idx;
	__atomic_store_n((unsigned *)(sq + p.sq_off.tail), tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return 0;
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	res = cqes[*(unsigned *)(cq + p.cq_off.head) & *(unsigned *)(cq + p.cq_off.ring_mask)].res;
	close(s);
	close(ring);
	if (res < 0)
		return errno = -res, 0;
	return 1;
}

static int act(char *a)
{
	char *arg = strchr(a, ':'), *arg2, xbuf[256];
	cpu_set_t cpus;

	if (!arg)
		return errno = EINVAL, 0;
	*arg++ = 0;
	arg2 = strchr(arg, ':');
	if (arg2)
		*arg2++ = 0;
	if (!strcmp(a, "setown"))
		return on_pipe(F_SETOWN, atoi(arg));
	if (!strcmp(a, "setsig"))
		return on_pipe(F_SETSIG, atoi(arg));
	if (!strcmp(a, "fiosetown")) {
		int sv[2], pid = atoi(arg);

		return socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && ioctl(sv[0], FIOSETOWN, &pid) == 0;
	}
	if (!strcmp(a, "sigio") && arg2)
		return do_sigio(atoi(arg), atoi(arg2));
	if (!strcmp(a, "nice"))
		return setpriority(PRIO_PROCESS, atoi(arg), 7) == 0;
	if (!strcmp(a, "selfnice"))
		return setpriority(PRIO_PROCESS, 0, 1) == 0;
	if (!strcmp(a, "ioprio")) /* IOPRIO_WHO_PROCESS, class idle (3) << 13 */
		return syscall(SYS_ioprio_set, 1, atoi(arg), 3 << 13) == 0;
	if (!strcmp(a, "sched")) {
		CPU_ZERO(&cpus);
		CPU_SET(0, &cpus);
		return sched_setaffinity(atoi(arg), sizeof(cpus), &cpus) == 0;
	}
	if (!strcmp(a, "prlimit"))
		return do_prlimit(atoi(arg));
	if (!strcmp(a, "setxattr"))
		return setxattr(arg, "user.bst", "x", 1, 0) == 0;
	if (!strcmp(a, "rmxattr"))
		return removexattr(arg, "user.bst") == 0;
	if (!strcmp(a, "acl"))
		return do_acl(arg);
	if (!strcmp(a, "rmacl"))
		return removexattr(arg, "system.posix_acl_access") == 0;
	if (!strcmp(a, "uringcmd"))
		return do_uring_cmd();
	if (!strcmp(a, "getxattr"))
		return getxattr(arg, "user.bst", xbuf, sizeof(xbuf)) >= 0;
	if (!strcmp(a, "getacl"))
		return getxattr(arg, "system.posix_acl_access", xbuf, sizeof(xbuf)) >= 0;
	if (!strcmp(a, "listxattr"))
		return listxattr(arg, xbuf, sizeof(xbuf)) >= 0;
	if (!strcmp(a, "utimes")) {
		struct timespec ts[2] = {{946684800, 0}, {946684800, 0}};

		return utimensat(AT_FDCWD, arg, ts, 0) == 0;
	}
	if (!strcmp(a, "futimens")) {
		int fd = open(arg, O_WRONLY);
		int ok = fd >= 0 && futimens(fd, NULL) == 0;
		int e = errno;

		if (fd >= 0)
			close(fd);
		errno = e;
		return ok;
	}
	if (!strcmp(a, "inotify")) {
		int fd = inotify_init1(0);

		return fd >= 0 && inotify_add_watch(fd, arg, IN_CREATE) >= 0;
	}
	if (!strcmp(a, "dnotify"))
		return do_dnotify(arg);
	if (!strcmp(a, "mkipc"))
		return do_mkipc(strtol(arg, 0, 0));
	if (!strcmp(a, "rmipc"))
		return do_rmipc(strtol(arg, 0, 0));
	if (!strcmp(a, "shm"))
		return do_shm(strtol(arg, 0, 0));
	if (!strcmp(a, "msg"))
		return do_msg(strtol(arg, 0, 0));
	if (!strcmp(a, "sem"))
		return do_sem(strtol(arg, 0, 0));
	if (!strcmp(a, "rawudp") && arg2) {
		char *arg3 = strchr(arg2, ':');

		if (!arg3)
			return errno = EINVAL, 0;
		*arg3++ = 0;
		return do_rawudp(arg, atoi(arg2), atoi(arg3));
	}
	if (!strcmp(a, "sctpbindx") && arg2)
		return do_sctp(SCTP_SOCKOPT_BINDX_ADD, arg, atoi(arg2));
	if (!strcmp(a, "sctpbindxs") && arg2)
		return do_sctp_list(arg, atoi(arg2));
	if (!strcmp(a, "sctpconnectx") && arg2)
		return do_sctp(SCTP_SOCKOPT_CONNECTX, arg, atoi(arg2));
	if (!strcmp(a, "ftruncate")) {
		int fd = open(arg, O_WRONLY);

		return fd >= 0 && ftruncate(fd, 0) == 0;
	}
	if (!strcmp(a, "otrunc"))
		return open(arg, O_WRONLY | O_TRUNC) >= 0;
	if (!strcmp(a, "mkkey"))
		return do_mkkey(arg);
	if (!strcmp(a, "keyread"))
		return do_keyread(arg);
	if (!strcmp(a, "syslog"))
		return klogctl(10, NULL, 0) >= 0;
	if (!strcmp(a, "uffd"))
		return syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */ | O_CLOEXEC) >= 0;
	if (!strcmp(a, "lowmap"))
		return mmap((void *)0x1000, 4096, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) !=
		       MAP_FAILED;
	if (!strcmp(a, "canraw"))
		return socket(29 /* AF_CAN */, SOCK_RAW, 1 /* CAN_RAW */) >= 0;
	return errno = EINVAL, 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *copy = strdup(argv[i]);

		errno = 0;
		report(argv[i], act(copy));
		free(copy);
	}
	return 0;
}
