/*
 * bst_probe — performs system calls and prints what the kernel answered.
 *
 * Kernel tests run it (statically linked, so no dynamic loader or library is
 * opened) inside a confined cgroup. Each argument is one action; each prints
 * one line "<action> OK" or "<action> <ERRNO NAME>":
 *   open:PATH:r|w|rw          open(2) and close
 *   bind4:ADDR:PORT           socket(AF_INET, SOCK_STREAM) + bind
 *   bind6:ADDR:PORT           socket(AF_INET6, SOCK_STREAM) + bind
 *   connect4:ADDR:PORT        TCP connect
 *   connect6:ADDR:PORT
 *   connectu:PATH             AF_UNIX stream connect
 *   exec:PATH[,ARG...]        execv, last action (prints only on failure)
 *   chain:PATH                execv PATH with the remaining actions as its arguments
 *                             (exec chains; prints only on failure)
 *   chdir:PATH                chdir (relative paths build deep trees)
 *   sleep:SECONDS
 *   wait:-                    read a line from stdin (the test's go-ahead)
 *   creat:PATH                open(O_WRONLY|O_CREAT|O_EXCL, 0644) and close
 *   unlink:PATH  mkdir:PATH  rmdir:PATH  mkfifo:PATH  truncate:PATH
 *   chmod:PATH   chown:PATH (to the caller's own uid/gid)  chroot:PATH
 *   symlink:TARGET:LINK  rename:FROM:TO  exchange:A:B  link:FROM:TO
 *   exists:PATH               access(F_OK): OK or ENOENT (never decided)
 *   stat:PATH  lstat:PATH     stat(2), lstat(2)
 *   fstat:PATH                open(O_RDONLY), then fstat (reports the open's errno too)
 *   sendto4:ADDR:PORT  sendto6:ADDR:PORT   one UDP datagram with sendto(2)
 *   sendtou:PATH              one AF_UNIX datagram with sendto(2)
 *   udpconnect4:ADDR:PORT     UDP connect(2), then send(2)
 *   reopen:PATH:r|w           open(O_RDONLY), then open /proc/self/fd/N with that mode
 *   opath:PATH:r|w            open(O_PATH), then open /proc/self/fd/N with that mode
 *   openat2:PATH              openat2(2), O_RDONLY
 *   uring:PATH                io_uring IORING_OP_OPENAT, O_RDONLY
 *   cgmove:CGROUP.PROCS       write our pid into a cgroup.procs file
 *   fork:-                    fork; the child does the remaining actions, the parent waits
 *   setuid:N  setgid:N  seteuid:N  setfsuid:N (setfsuid reports OK when the id is now N)
 *   socket:DOMAIN:TYPE        socket(2) with numeric domain and type, and close
 *   socketpair:-              socketpair(AF_UNIX, SOCK_STREAM)
 *   listen4:ADDR:PORT         TCP socket, bind, listen (the first failing step's errno)
 *   listenu:PATH              AF_UNIX stream socket, bind to PATH, listen
 *   accept4:ADDR:PORT         listen there, connect to it, accept
 *   setgroups:G1,G2|-         setgroups(2) with those ids (-: an empty list)
 *   kill:PID:SIG              kill(2); PID "self" is our own pid
 *   sigchld:-                 fork a child that exits: OK when the kernel's SIGCHLD arrived
 *   unsharenet:-              unshare(CLONE_NEWNET): the kernel creates its own sockets
 * Names the kernel resolves (names_action, test_escapes_names.py):
 *   bindu:PATH                AF_UNIX stream socket bound to PATH (the file is left)
 *   binda:NAME  connecta:NAME  sendtoa:NAME   abstract unix names (\0NAME)
 *   dgconnectu:PATH           AF_UNIX datagram connect(2), then send(2)
 *   byhandle:PATH             name_to_handle_at, drop the dentry cache, open_by_handle_at
 *   byhandlec:PATH            the same, holding an O_PATH fd (the dentry stays connected)
 *   treeopen:DIR:REL          open_tree(DIR, OPEN_TREE_CLONE), then openat(tree, REL)
 *   treestat:DIR:REL          open_tree(DIR, OPEN_TREE_CLONE), then fstatat(tree, REL)
 *   unspecsend:PORT           UDP sendto 127.0.0.1:PORT with sin_family AF_UNSPEC
 *   unspecbind:PORT           TCP bind 0.0.0.0:PORT with sin_family AF_UNSPEC
 *   uringstatx:PATH           io_uring IORING_OP_STATX
 *   opathfstat:PATH           open(O_PATH), then fstat
 * Leaving confinement (tests/kernel/test_subject.py):
 *   clone3cg:DIR              clone3(CLONE_INTO_CGROUP) into cgroup DIR (an O_PATH fd); the
 *                             child does the remaining actions, the parent waits
 *   cgroup:-                  print "cgroup:- <our cgroup path>" (reads /proc/self/cgroup)
 *   exeswap:PATH              replace every mapping of our executable with an anonymous copy,
 *                             then prctl(PR_SET_MM_EXE_FILE) to PATH: our mm now claims PATH
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/types.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/fsuid.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static void report(const char *action, int ok)
{
	const char *name = strerrorname_np(errno);

	if (ok)
		printf("%s OK\n", action);
	else
		printf("%s %s\n", action, name ? name : "E?");
	fflush(stdout);
}

static int do_open(char *spec)
{
	char *mode = strrchr(spec, ':');
	int flags = O_RDONLY, fd;

	if (mode) {
		*mode++ = 0;
		if (!strcmp(mode, "w"))
			flags = O_WRONLY;
		else if (!strcmp(mode, "rw"))
			flags = O_RDWR;
	}
	fd = open(spec, flags);
	if (fd >= 0)
		close(fd);
	if (mode)
		mode[-1] = ':';
	return fd >= 0;
}

/* "ADDR:PORT" -> a sockaddr of `family` in *ss; its length, 0 if spec has no port. */
static socklen_t inet_sockaddr(char *spec, int family, struct sockaddr_storage *ss)
{
	char *port = strrchr(spec, ':');
	socklen_t len;

	if (!port)
		return 0;
	*port = 0;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(atoi(port + 1));
		inet_pton(AF_INET, spec, &in->sin_addr);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(atoi(port + 1));
		inet_pton(AF_INET6, spec, &in6->sin6_addr);
		len = sizeof(*in6);
	}
	*port = ':';
	return len;
}

static int do_inet(char *spec, int family, int connecting)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd, ret, one = 1;

	len = inet_sockaddr(spec, family, &ss);
	if (!len)
		return errno = EINVAL, 0;
	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ret = connecting ? connect(fd, (struct sockaddr *)&ss, len)
			 : bind(fd, (struct sockaddr *)&ss, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return ret == 0;
}

static int do_unix(char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), ret;

	strncpy(un.sun_path, path, sizeof(un.sun_path) - 1);
	ret = connect(fd, (struct sockaddr *)&un, sizeof(un));
	int saved = errno;
	close(fd);
	errno = saved;
	return ret == 0;
}

static void do_exec(char *spec)
{
	char *argv[16];
	int n = 0;

	for (char *tok = strtok(spec, ","); tok && n < 15; tok = strtok(NULL, ","))
		argv[n++] = tok;
	argv[n] = NULL;
	execv(argv[0], argv);
}

static int do_udp(char *spec, int family, int connecting)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd, ret;

	len = inet_sockaddr(spec, family, &ss);
	if (!len)
		return errno = EINVAL, 0;
	fd = socket(family, SOCK_DGRAM, 0);
	if (fd < 0)
		return 0;
	if (connecting)
		ret = connect(fd, (struct sockaddr *)&ss, len) == 0 && send(fd, "x", 1, 0) == 1;
	else
		ret = sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) == 1;
	int saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

static int do_sendtou(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0), ret;

	strncpy(un.sun_path, path, sizeof(un.sun_path) - 1);
	ret = sendto(fd, "x", 1, 0, (struct sockaddr *)&un, sizeof(un)) == 1;
	int saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

static int do_fstat(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY), ok;

	if (fd < 0)
		return 0;
	ok = fstat(fd, &st) == 0;
	int saved = errno;
	close(fd);
	errno = saved;
	return ok;
}

/* open PATH (O_PATH or O_RDONLY), then reopen it through /proc/self/fd */
static int do_reopen(char *spec, int first)
{
	char *mode = strrchr(spec, ':'), proc[64];
	int fd, fd2;

	if (!mode)
		return errno = EINVAL, 0;
	*mode = 0;
	fd = open(spec, first);
	*mode = ':';
	if (fd < 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	fd2 = open(proc, !strcmp(mode + 1, "w") ? O_WRONLY : O_RDONLY);
	int saved = errno;
	close(fd);
	if (fd2 >= 0)
		close(fd2);
	errno = saved;
	return fd2 >= 0;
}

static int do_openat2(const char *path)
{
	struct open_how how = { .flags = O_RDONLY };
	int fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static int do_uring(const char *path)
{
	struct io_uring_params p = {0};
	int fd = syscall(SYS_io_uring_setup, 4, &p), res;

	if (fd < 0)
		return 0;
	char *sq = mmap(0, p.sq_off.array + p.sq_entries * sizeof(unsigned),
			PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
	char *cq = mmap(0, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
			PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
	struct io_uring_sqe *sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe),
					 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
					 IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return 0;
	unsigned *tail = (unsigned *)(sq + p.sq_off.tail), mask = *(unsigned *)(sq + p.sq_off.ring_mask);
	unsigned t = *tail, idx = t & mask;
	struct io_uring_sqe *e = &sqes[idx];

	memset(e, 0, sizeof(*e));
	e->opcode = IORING_OP_OPENAT;
	e->fd = AT_FDCWD;
	e->addr = (unsigned long)path;
	e->open_flags = O_RDONLY;
	((unsigned *)(sq + p.sq_off.array))[idx] = idx;
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return 0;
	}
	unsigned head = *(unsigned *)(cq + p.cq_off.head), cmask = *(unsigned *)(cq + p.cq_off.ring_mask);
	res = ((struct io_uring_cqe *)(cq + p.cq_off.cqes))[head & cmask].res;
	close(fd);
	if (res >= 0) {
		close(res);
		return 1;
	}
	errno = -res;
	return 0;
}

static int do_cgmove(const char *procs)
{
	char pid[32];
	int fd = open(procs, O_WRONLY), n;

	if (fd < 0)
		return 0;
	n = snprintf(pid, sizeof(pid), "%d\n", getpid());
	n = write(fd, pid, n) == n;
	int saved = errno;
	close(fd);
	errno = saved;
	return n;
}

static int inet4(char *spec, struct sockaddr_in *in)
{
	char *port = strrchr(spec, ':');

	if (!port)
		return errno = EINVAL, 0;
	*port = 0;
	memset(in, 0, sizeof(*in));
	in->sin_family = AF_INET;
	in->sin_port = htons(atoi(port + 1));
	inet_pton(AF_INET, spec, &in->sin_addr);
	*port = ':';
	return 1;
}

static int close_keep_errno(int fd, int ok)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
	return ok;
}

/* listen on ADDR:PORT (TCP) or PATH (unix); returns the listening fd or -1 */
static int do_listen(char *spec, int unix_path)
{
	struct sockaddr_storage ss = {0};
	socklen_t len = sizeof(struct sockaddr_in);
	int one = 1, fd;

	if (unix_path) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		un->sun_family = AF_UNIX;
		strncpy(un->sun_path, spec, sizeof(un->sun_path) - 1);
		len = sizeof(*un);
		unlink(spec);
	} else if (!inet4(spec, (struct sockaddr_in *)&ss)) {
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 4))
		return close_keep_errno(fd, -1);
	return fd;
}

static int do_accept(char *spec)
{
	struct sockaddr_in in;
	int lfd = do_listen(spec, 0), cfd, afd;

	if (lfd < 0 || !inet4(spec, &in))
		return 0;
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&in, sizeof(in)))
		return close_keep_errno(lfd, close_keep_errno(cfd, 0));
	afd = accept(lfd, NULL, NULL);
	close_keep_errno(cfd, 0);
	close_keep_errno(afd, 0);
	return close_keep_errno(lfd, afd >= 0);
}

static int do_setgroups(char *spec)
{
	gid_t g[16];
	int n = 0;
	char *copy = strdup(spec);

	for (char *tok = strtok(copy, ","); tok && n < 16 && strcmp(tok, "-"); tok = strtok(NULL, ","))
		g[n++] = atoi(tok);
	free(copy);
	return setgroups(n, g) == 0;
}

static int do_kill(char *spec)
{
	char *sig = strrchr(spec, ':');
	pid_t pid;

	if (!sig)
		return errno = EINVAL, 0;
	*sig = 0;
	pid = !strcmp(spec, "self") ? getpid() : atoi(spec);
	*sig = ':';
	return kill(pid, atoi(sig + 1)) == 0;
}

static volatile sig_atomic_t got_chld;

static void on_chld(int sig)
{
	(void)sig;
	got_chld = 1;
}

static int do_sigchld(void)
{
	pid_t pid;

	signal(SIGCHLD, on_chld);
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return 0;
	while (!got_chld)
		usleep(1000);
	waitpid(pid, NULL, 0);
	return 1;
}

static int sock_action(const char *a, char *arg, int *ok)
{
	if (!strncmp(a, "socket:", 7)) {
		char *t = strchr(arg, ':'), *pr = t ? strchr(t + 1, ':') : 0;
		int fd = t ? socket(atoi(arg), atoi(t + 1), pr ? atoi(pr + 1) : 0) : -1;

		*ok = close_keep_errno(fd, fd >= 0);
	} else if (!strncmp(a, "socketpair:", 11)) {
		int sv[2] = {-1, -1};

		*ok = socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0;
		close_keep_errno(sv[0], 0);
		close_keep_errno(sv[1], 0);
	} else if (!strncmp(a, "listen4:", 8)) {
		int fd = do_listen(arg, 0);

		*ok = close_keep_errno(fd, fd >= 0);
	} else if (!strncmp(a, "listenu:", 8)) {
		int fd = do_listen(arg, 1);

		*ok = close_keep_errno(fd, fd >= 0);
	} else if (!strncmp(a, "accept4:", 8))
		*ok = do_accept(arg);
	else if (!strncmp(a, "setgroups:", 10))
		*ok = do_setgroups(arg);
	else if (!strncmp(a, "kill:", 5))
		*ok = do_kill(arg);
	else if (!strncmp(a, "sigchld:", 8))
		*ok = do_sigchld();
	else if (!strncmp(a, "unsharenet:", 11))
		*ok = unshare(CLONE_NEWNET) == 0;
	else
		return 0;
	return 1;
}

/* "A:B" -> two strings (the action's text is kept intact) */
static int two(char *arg, int (*fn)(const char *, const char *))
{
	char *b = strchr(arg, ':');
	int ok;

	if (!b)
		return errno = EINVAL, 0;
	*b = 0;
	ok = fn(arg, b + 1) == 0;
	*b = ':';
	return ok;
}

static int exchange(const char *a, const char *b)
{
	return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

static int creat_excl(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static int path_action(const char *a, char *arg, int *ok)
{
	if (!strncmp(a, "creat:", 6))
		*ok = creat_excl(arg);
	else if (!strncmp(a, "unlink:", 7))
		*ok = unlink(arg) == 0;
	else if (!strncmp(a, "mkdir:", 6))
		*ok = mkdir(arg, 0755) == 0;
	else if (!strncmp(a, "rmdir:", 6))
		*ok = rmdir(arg) == 0;
	else if (!strncmp(a, "mkfifo:", 7))
		*ok = mkfifo(arg, 0644) == 0;
	else if (!strncmp(a, "truncate:", 9))
		*ok = truncate(arg, 0) == 0;
	else if (!strncmp(a, "chmod:", 6))
		*ok = chmod(arg, 0640) == 0;
	else if (!strncmp(a, "chown:", 6))
		*ok = chown(arg, getuid(), getgid()) == 0;
	else if (!strncmp(a, "chroot:", 7))
		*ok = chroot(arg) == 0;
	else if (!strncmp(a, "exists:", 7))
		*ok = access(arg, F_OK) == 0;
	else if (!strncmp(a, "reopen:", 7))
		*ok = do_reopen(arg, O_RDONLY);
	else if (!strncmp(a, "opath:", 6))
		*ok = do_reopen(arg, O_PATH);
	else if (!strncmp(a, "openat2:", 8))
		*ok = do_openat2(arg);
	else if (!strncmp(a, "uring:", 6))
		*ok = do_uring(arg);
	else if (!strncmp(a, "cgmove:", 7))
		*ok = do_cgmove(arg);
	else if (!strncmp(a, "setuid:", 7))
		*ok = setuid(atoi(arg)) == 0;
	else if (!strncmp(a, "setgid:", 7))
		*ok = setgid(atoi(arg)) == 0;
	else if (!strncmp(a, "seteuid:", 8))
		*ok = seteuid(atoi(arg)) == 0;
	else if (!strncmp(a, "setfsuid:", 9)) {
		setfsuid(atoi(arg));
		*ok = setfsuid(-1) == atoi(arg);
		if (!*ok)
			errno = EPERM;
	} else if (!strncmp(a, "stat:", 5))
		*ok = stat(arg, &(struct stat){0}) == 0;
	else if (!strncmp(a, "lstat:", 6))
		*ok = lstat(arg, &(struct stat){0}) == 0;
	else if (!strncmp(a, "fstat:", 6))
		*ok = do_fstat(arg);
	else if (!strncmp(a, "sendto4:", 8))
		*ok = do_udp(arg, AF_INET, 0);
	else if (!strncmp(a, "sendto6:", 8))
		*ok = do_udp(arg, AF_INET6, 0);
	else if (!strncmp(a, "udpconnect4:", 12))
		*ok = do_udp(arg, AF_INET, 1);
	else if (!strncmp(a, "sendtou:", 8))
		*ok = do_sendtou(arg);
	else if (!strncmp(a, "symlink:", 8))
		*ok = two(arg, symlink);
	else if (!strncmp(a, "rename:", 7))
		*ok = two(arg, rename);
	else if (!strncmp(a, "exchange:", 9))
		*ok = two(arg, exchange);
	else if (!strncmp(a, "link:", 5))
		*ok = two(arg, link);
	else
		return 0;
	return 1;
}

/* ---- names the kernel resolves (test_escapes_names.py) ---- */

static socklen_t unix_name(struct sockaddr_un *un, const char *name, int abstract)
{
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (!abstract) {
		strncpy(un->sun_path, name, sizeof(un->sun_path) - 1);
		return sizeof(*un);
	}
	strncpy(un->sun_path + 1, name, sizeof(un->sun_path) - 2);
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

/* how: 'b' bind, 'c' stream connect, 'd' datagram connect + send, 's' datagram sendto */
static int do_unix_name(const char *name, int abstract, char how)
{
	struct sockaddr_un un;
	socklen_t len = unix_name(&un, name, abstract);
	int fd = socket(AF_UNIX, how == 'd' || how == 's' ? SOCK_DGRAM : SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	if (how == 'b')
		ok = bind(fd, (struct sockaddr *)&un, len) == 0;
	else if (how == 'c')
		ok = connect(fd, (struct sockaddr *)&un, len) == 0;
	else if (how == 'd')
		ok = connect(fd, (struct sockaddr *)&un, len) == 0 && send(fd, "x", 1, 0) == 1;
	else
		ok = sendto(fd, "x", 1, 0, (struct sockaddr *)&un, len) == 1;
	return close_keep_errno(fd, ok);
}

static int do_byhandle(const char *path, int keep)
{
	struct { struct file_handle fh; unsigned char buf[MAX_HANDLE_SZ]; } h;
	int mount_id, mfd, hold = -1, fd;
	char dir[512], *slash;

	h.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	mfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY);   /* not O_PATH: fdget refuses it */
	if (mfd < 0)
		return 0;
	if (keep)
		hold = open(path, O_PATH);
	else {
		int dc = open("/proc/sys/vm/drop_caches", O_WRONLY);   /* permitted by the test */

		if (dc >= 0) {
			if (write(dc, "2\n", 2) != 2)
				perror("drop_caches");
			close(dc);
		}
	}
	fd = open_by_handle_at(mfd, &h.fh, O_RDONLY);
	close_keep_errno(hold, 0);
	close_keep_errno(mfd, 0);
	return close_keep_errno(fd, fd >= 0);
}

/* open_tree(DIR, OPEN_TREE_CLONE): a detached copy; then REL in it */
static int do_tree(char *spec, int stat_only)
{
	char *rel = strchr(spec, ':');
	struct stat st;
	int tree, fd, ok;

	if (!rel)
		return errno = EINVAL, 0;
	*rel = 0;
	tree = syscall(SYS_open_tree, AT_FDCWD, spec, 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC);
	*rel++ = ':';
	if (tree < 0)
		return 0;
	if (stat_only)
		ok = fstatat(tree, rel, &st, 0) == 0;
	else {
		fd = openat(tree, rel, O_RDONLY);
		ok = close_keep_errno(fd, fd >= 0);
	}
	return close_keep_errno(tree, ok);
}

static int do_unspec(const char *port, int binding)
{
	struct sockaddr_in in = { .sin_family = AF_UNSPEC, .sin_port = htons(atoi(port)) };
	int fd = socket(AF_INET, binding ? SOCK_STREAM : SOCK_DGRAM, 0), ok, one = 1;

	if (fd < 0)
		return 0;
	if (binding) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		ok = bind(fd, (struct sockaddr *)&in, sizeof(in)) == 0;
	} else {
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = sendto(fd, "x", 1, 0, (struct sockaddr *)&in, sizeof(in)) == 1;
	}
	return close_keep_errno(fd, ok);
}

static int do_uring_statx(const char *path)
{
	struct io_uring_params p = {0};
	struct statx stx;
	int fd = syscall(SYS_io_uring_setup, 4, &p), res;

	if (fd < 0)
		return 0;
	char *sq = mmap(0, p.sq_off.array + p.sq_entries * sizeof(unsigned),
			PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
	char *cq = mmap(0, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
			PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
	struct io_uring_sqe *sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe),
					 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
					 IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return close_keep_errno(fd, 0);
	unsigned *tail = (unsigned *)(sq + p.sq_off.tail), mask = *(unsigned *)(sq + p.sq_off.ring_mask);
	unsigned t = *tail, idx = t & mask;
	struct io_uring_sqe *e = &sqes[idx];

	memset(e, 0, sizeof(*e));
	e->opcode = IORING_OP_STATX;
	e->fd = AT_FDCWD;
	e->addr = (unsigned long)path;
	e->len = STATX_BASIC_STATS;
	e->addr2 = (unsigned long)&stx;
	((unsigned *)(sq + p.sq_off.array))[idx] = idx;
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return close_keep_errno(fd, 0);
	unsigned head = *(unsigned *)(cq + p.cq_off.head), cmask = *(unsigned *)(cq + p.cq_off.ring_mask);
	res = ((struct io_uring_cqe *)(cq + p.cq_off.cqes))[head & cmask].res;
	close(fd);
	if (res < 0)
		return errno = -res, 0;
	return 1;
}

static int do_opath_fstat(const char *path)
{
	struct stat st;
	int fd = open(path, O_PATH);

	if (fd < 0)
		return 0;
	return close_keep_errno(fd, fstat(fd, &st) == 0);
}

static int names_action(const char *a, char *arg, int *ok)
{
	if (!strncmp(a, "bindu:", 6))
		*ok = do_unix_name(arg, 0, 'b');
	else if (!strncmp(a, "binda:", 6))
		*ok = do_unix_name(arg, 1, 'b');
	else if (!strncmp(a, "connecta:", 9))
		*ok = do_unix_name(arg, 1, 'c');
	else if (!strncmp(a, "sendtoa:", 8))
		*ok = do_unix_name(arg, 1, 's');
	else if (!strncmp(a, "dgconnectu:", 11))
		*ok = do_unix_name(arg, 0, 'd');
	else if (!strncmp(a, "byhandle:", 9))
		*ok = do_byhandle(arg, 0);
	else if (!strncmp(a, "byhandlec:", 10))
		*ok = do_byhandle(arg, 1);
	else if (!strncmp(a, "treeopen:", 9))
		*ok = do_tree(arg, 0);
	else if (!strncmp(a, "treestat:", 9))
		*ok = do_tree(arg, 1);
	else if (!strncmp(a, "unspecsend:", 11))
		*ok = do_unspec(arg, 0);
	else if (!strncmp(a, "unspecbind:", 11))
		*ok = do_unspec(arg, 1);
	else if (!strncmp(a, "uringstatx:", 11))
		*ok = do_uring_statx(arg);
	else if (!strncmp(a, "opathfstat:", 11))
		*ok = do_opath_fstat(arg);
	else
		return 0;
	return 1;
}

/* ---- leaving confinement ---- */

struct clone_args_v2 {                 /* struct clone_args of linux/sched.h (v2, 88 bytes) */
	__u64 flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	__u64 set_tid, set_tid_size, cgroup;
};
#define BST_CLONE_INTO_CGROUP 0x200000000ULL

/* clone3 into the cgroup DIR: the child's pid (0 in the child), -1 on failure */
static long clone_into(const char *dir)
{
	struct clone_args_v2 ca = { .flags = BST_CLONE_INTO_CGROUP, .exit_signal = SIGCHLD };
	int fd = open(dir, O_PATH | O_DIRECTORY);
	long pid;

	if (fd < 0)
		return -1;
	ca.cgroup = fd;
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return pid;
}

static int do_cgroup(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int ok = 0;

	while (f && !ok && fgets(line, sizeof(line), f))
		ok = !strncmp(line, "0::", 3);          /* the cgroup2 line */
	if (f)
		fclose(f);
	if (ok) {
		line[strcspn(line, "\n")] = 0;
		printf("cgroup:- %s\n", line + 3);
		fflush(stdout);
	}
	return ok;
}

/* PR_SET_MM_EXE_FILE refuses while the old executable is still mapped: copy
 * each of its mappings into anonymous memory and move the copy over it. */
static int do_exeswap(const char *path)
{
	struct { unsigned long lo, hi; int prot; } seg[16];
	char line[600], exe[256], name[256], perms[8];
	unsigned long lo, hi;
	int n = 0, fd;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f;

	if (len < 0)
		return 0;
	exe[len] = 0;
	f = fopen("/proc/self/maps", "r");
	if (!f)
		return 0;
	while (n < 16 && fgets(line, sizeof(line), f)) {
		name[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms, name) < 3 ||
		    strcmp(name, exe))
			continue;
		seg[n].lo = lo;
		seg[n].hi = hi;
		seg[n].prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
			      (perms[2] == 'x' ? PROT_EXEC : 0);
		n++;
	}
	fclose(f);
	for (int i = 0; i < n; i++) {
		size_t sz = seg[i].hi - seg[i].lo;
		void *copy = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (copy == MAP_FAILED)
			return 0;
		memcpy(copy, (void *)seg[i].lo, sz);
		if (mprotect(copy, sz, seg[i].prot) ||
		    mremap(copy, sz, sz, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)seg[i].lo) == MAP_FAILED)
			return 0;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	return prctl(PR_SET_MM, PR_SET_MM_EXE_FILE, fd, 0, 0) == 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *a = argv[i], *arg = strchr(a, ':');
		char action[512];
		int ok;

		if (!arg)
			return 2;
		snprintf(action, sizeof(action), "%s", a);
		arg++;
		errno = 0;
		if (!strncmp(a, "open:", 5))
			ok = do_open(arg);
		else if (!strncmp(a, "bind4:", 6))
			ok = do_inet(arg, AF_INET, 0);
		else if (!strncmp(a, "bind6:", 6))
			ok = do_inet(arg, AF_INET6, 0);
		else if (!strncmp(a, "connect4:", 9))
			ok = do_inet(arg, AF_INET, 1);
		else if (!strncmp(a, "connect6:", 9))
			ok = do_inet(arg, AF_INET6, 1);
		else if (!strncmp(a, "connectu:", 9))
			ok = do_unix(arg);
		else if (path_action(a, arg, &ok) || sock_action(a, arg, &ok) ||
			 names_action(a, arg, &ok))
			;
		else if (!strncmp(a, "chdir:", 6))
			ok = chdir(arg) == 0;
		else if (!strncmp(a, "fork:", 5)) {
			pid_t pid = fork();

			if (pid > 0) {
				waitpid(pid, NULL, 0);
				return 0;
			}
			ok = pid == 0;
			if (ok)
				continue;         /* the child goes on, silently */
		} else if (!strncmp(a, "clone3cg:", 9)) {
			long pid = clone_into(arg);

			if (pid > 0) {
				waitpid(pid, NULL, 0);
				return 0;
			}
			ok = pid == 0;
			if (ok)
				continue;         /* the child goes on, silently */
		} else if (!strncmp(a, "cgroup:", 7)) {
			if (do_cgroup())
				continue;
			ok = 0;
		} else if (!strncmp(a, "exeswap:", 8)) {
			ok = do_exeswap(arg);
		} else if (!strncmp(a, "wait:", 5)) {
			char line[64];

			ok = fgets(line, sizeof(line), stdin) != NULL;
		} else if (!strncmp(a, "sleep:", 6)) {
			sleep(atoi(arg));
			ok = 1;
		} else if (!strncmp(a, "exec:", 5)) {
			do_exec(arg);
			ok = 0;
		} else if (!strncmp(a, "chain:", 6)) {
			argv[i] = arg;
			execv(arg, argv + i);
			ok = 0;
		} else
			return 2;
		report(action, ok);
	}
	return 0;
}
