/*
 * bst_attack — a static attacker for tests/kernel/test_escapes_root.py.
 *
 * It runs inside a confined cgroup (as root, or after drop:), tries the roads
 * out of a policy that no file or socket hook used to see, and prints one line
 * per action, "<action> OK" or "<action> <ERRNO NAME>" (the first step that
 * failed), like bst_probe:
 *   drop:UID:GID              setgroups(0), setgid, setuid (become unprivileged)
 *   read:PATH                 open(O_RDONLY) and read a byte
 *   write:PATH:TEXT           open(O_WRONLY|O_TRUNC) and write TEXT
 *   mkdir:PATH                mkdir (EEXIST counts as OK)
 *   unshare:FLAGS             unshare(2): ns (CLONE_NEWNS), user (CLONE_NEWUSER),
 *                             userns (both), uts, net
 *   bindmount:SRC:DST         mount(SRC, DST, NULL, MS_BIND)
 *   mount:TYPE:DST[:DATA]     mount(TYPE, DST, TYPE, 0, DATA): tmpfs, proc, cgroup2, bpf, overlay
 *   umount:DST                umount2(DST, MNT_DETACH)
 *   fsopen:TYPE               fsopen(2) of TYPE (the new mount API's first step)
 *   objget:PIN                bpf(BPF_OBJ_GET)
 *   objdel:PIN:KEY            BPF_OBJ_GET of a map pin, then delete the u64 KEY
 *   mapid:ID:KEY              BPF_MAP_GET_FD_BY_ID, then delete the u64 KEY
 *   progid:ID                 BPF_PROG_GET_FD_BY_ID
 *   linkid:ID                 BPF_LINK_GET_FD_BY_ID, then BPF_LINK_DETACH
 *   linkpin:PIN               BPF_OBJ_GET of a link pin, then BPF_LINK_DETACH
 *   mapcreate:-               BPF_MAP_CREATE of a small array (the attacker's own)
 *   unlink:PATH  rename:FROM:TO  chmod:PATH
 *   ptrace:PID                PTRACE_ATTACH (then detach)
 *   vmwrite:PID               process_vm_writev of one byte at a page the target maps
 *   pidfd_getfd:PID:FD        pidfd_open + pidfd_getfd
 *   init_module:-             init_module of a junk image from memory
 *   finit_module:PATH         finit_module of PATH
 *   iopl:LEVEL  ioperm:-      iopl(2), ioperm(0x80, 1, 1)
 *   sethostname:NAME          sethostname(2)
 *   reboot:-                  reboot(LINUX_REBOOT_CMD_CAD_ON): harmless when permitted
 *   swapon:PATH               swapon(2) (a file that is no swap area: EINVAL when permitted)
 *   settime:-                 clock_settime(CLOCK_REALTIME) to the current time
 *   perf:-                    perf_event_open of a software clock for ourselves
 *   kexec:-                   kexec_load with no segments (unloads nothing when permitted)
 *   netadmin:-                setsockopt(SO_RCVBUFFORCE) on a UDP socket (CAP_NET_ADMIN)
 *   prctl:OPTION              prctl(OPTION, 0, 0, 0, 0) (numeric)
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
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

static void report(const char *action, int ok)
{
	const char *name = strerrorname_np(errno);

	if (ok)
		printf("%s OK\n", action);
	else
		printf("%s %s\n", action, name ? name : "E?");
	fflush(stdout);
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int obj_get(const char *pin)
{
	union bpf_attr a = {0};

	a.pathname = (uint64_t)(uintptr_t)pin;
	return sys_bpf(BPF_OBJ_GET, &a);
}

static int map_delete(int fd, uint64_t key)
{
	union bpf_attr a = {0};

	a.map_fd = fd;
	a.key = (uint64_t)(uintptr_t)&key;
	return sys_bpf(BPF_MAP_DELETE_ELEM, &a);
}

static int get_fd_by_id(int cmd, uint32_t id)
{
	union bpf_attr a = {0};

	a.map_id = id;        /* start_id/prog_id/map_id/link_id share the slot */
	return sys_bpf(cmd, &a);
}

static int link_detach(int fd)
{
	union bpf_attr a = {0};

	a.link_detach.link_fd = fd;
	return sys_bpf(BPF_LINK_DETACH, &a);
}

static int do_unshare(const char *what)
{
	int flags = 0;

	if (!strcmp(what, "ns"))
		flags = CLONE_NEWNS;
	else if (!strcmp(what, "user"))
		flags = CLONE_NEWUSER;
	else if (!strcmp(what, "userns"))
		flags = CLONE_NEWUSER | CLONE_NEWNS;
	else if (!strcmp(what, "uts"))
		flags = CLONE_NEWUTS;
	else if (!strcmp(what, "net"))
		flags = CLONE_NEWNET;
	return unshare(flags) == 0;
}

static int do_read(const char *path)
{
	char c;
	int fd = open(path, O_RDONLY), ok;

	if (fd < 0)
		return 0;
	ok = read(fd, &c, 1) >= 0;
	close(fd);
	return ok;
}

static int do_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC), ok;

	if (fd < 0)
		return 0;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok;
}

static int do_vmwrite(pid_t pid)
{
	/* the target is another copy of a static binary at the same address
	 * (no PIE): our own `report` is mapped there too; write nothing new */
	char byte;
	struct iovec local = { &byte, 1 }, remote = { (void *)report, 1 };

	memcpy(&byte, (void *)report, 1);
	return syscall(SYS_process_vm_writev, pid, &local, 1, &remote, 1, 0) == 1;
}

static int do_pidfd_getfd(pid_t pid, int fd)
{
	int pfd = syscall(SYS_pidfd_open, pid, 0), got;

	if (pfd < 0)
		return 0;
	got = syscall(SYS_pidfd_getfd, pfd, fd, 0);
	close(pfd);
	if (got < 0)
		return 0;
	close(got);
	return 1;
}

static int do_perf(void)
{
	struct perf_event_attr pa = {0};
	int fd;

	pa.type = PERF_TYPE_SOFTWARE;
	pa.size = sizeof(pa);
	pa.config = PERF_COUNT_SW_CPU_CLOCK;
	pa.exclude_kernel = 1;
	fd = syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static int do_netadmin(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), v = 1 << 20, ok;

	if (s < 0)
		return 0;
	ok = setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == 0;
	close(s);
	return ok;
}

static int do_drop(char *arg)
{
	char *g = strchr(arg, ':');
	uid_t uid = atoi(arg);
	gid_t gid = g ? atoi(g + 1) : uid;

	return setgroups(0, NULL) == 0 && setgid(gid) == 0 && setuid(uid) == 0;
}

static int act(char *a)
{
	char *colon = strchr(a, ':'), *arg, *arg2;

	if (!colon)
		return errno = EINVAL, 0;
	arg = colon + 1;
	arg2 = strchr(arg, ':');
	if (!strncmp(a, "drop:", 5))
		return do_drop(arg);
	if (!strncmp(a, "read:", 5))
		return do_read(arg);
	if (!strncmp(a, "mkdir:", 6))
		return mkdir(arg, 0755) == 0 || errno == EEXIST;
	if (!strncmp(a, "unshare:", 8))
		return do_unshare(arg);
	if (!strncmp(a, "umount:", 7))
		return umount2(arg, MNT_DETACH) == 0;
	if (!strncmp(a, "unlink:", 7))
		return unlink(arg) == 0;
	if (!strncmp(a, "chmod:", 6))
		return chmod(arg, 0644) == 0;
	if (!strncmp(a, "objget:", 7))
		return obj_get(arg) >= 0;
	if (!strncmp(a, "progid:", 7))
		return get_fd_by_id(BPF_PROG_GET_FD_BY_ID, atoi(arg)) >= 0;
	if (!strncmp(a, "linkid:", 7)) {
		int fd = get_fd_by_id(BPF_LINK_GET_FD_BY_ID, atoi(arg));

		return fd >= 0 && link_detach(fd) == 0;
	}
	if (!strncmp(a, "linkpin:", 8)) {
		int fd = obj_get(arg);

		return fd >= 0 && link_detach(fd) == 0;
	}
	if (!strncmp(a, "mapcreate:", 10)) {
		union bpf_attr at = {0};

		at.map_type = BPF_MAP_TYPE_ARRAY;
		at.key_size = 4;
		at.value_size = 4;
		at.max_entries = 1;
		return sys_bpf(BPF_MAP_CREATE, &at) >= 0;
	}
	if (!strncmp(a, "ptrace:", 7)) {
		pid_t pid = atoi(arg);

		if (ptrace(PTRACE_ATTACH, pid, 0, 0) < 0)
			return 0;
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, 0, 0);
		return 1;
	}
	if (!strncmp(a, "vmwrite:", 8))
		return do_vmwrite(atoi(arg));
	if (!strncmp(a, "init_module:", 12)) {
		static char junk[4096] = "not an ELF module";

		return syscall(SYS_init_module, junk, sizeof(junk), "") == 0;
	}
	if (!strncmp(a, "finit_module:", 13)) {
		int fd = open(arg, O_RDONLY);

		return fd >= 0 && syscall(SYS_finit_module, fd, "", 0) == 0;
	}
	if (!strncmp(a, "iopl:", 5))
		return iopl(atoi(arg)) == 0;
	if (!strncmp(a, "ioperm:", 7))
		return ioperm(0x80, 1, 1) == 0;
	if (!strncmp(a, "sethostname:", 12))
		return sethostname(arg, strlen(arg)) == 0;
	if (!strncmp(a, "reboot:", 7))
		return syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
			       LINUX_REBOOT_CMD_CAD_ON, NULL) == 0;
	if (!strncmp(a, "swapon:", 7))
		return swapon(arg, 0) == 0;
	if (!strncmp(a, "settime:", 8)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		return clock_settime(CLOCK_REALTIME, &ts) == 0;
	}
	if (!strncmp(a, "perf:", 5))
		return do_perf();
	if (!strncmp(a, "kexec:", 6))
		return syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL) == 0;
	if (!strncmp(a, "netadmin:", 9))
		return do_netadmin();
	if (!strncmp(a, "prctl:", 6))
		return prctl(atoi(arg), 0, 0, 0, 0) >= 0;
	if (!strncmp(a, "fsopen:", 7)) {
		int fd = syscall(SYS_fsopen, arg, 0);

		return fd >= 0 && close(fd) == 0;
	}
	if (!arg2)
		return errno = EINVAL, 0;
	*arg2++ = 0;
	if (!strncmp(a, "write:", 6))
		return do_write(arg, arg2);
	if (!strncmp(a, "bindmount:", 10))
		return mount(arg, arg2, NULL, MS_BIND, NULL) == 0;
	if (!strncmp(a, "mount:", 6)) {
		char *data = strchr(arg2, ':');

		if (data)
			*data++ = 0;
		return mount(arg, arg2, arg, 0, data) == 0;
	}
	if (!strncmp(a, "rename:", 7))
		return rename(arg, arg2) == 0;
	if (!strncmp(a, "objdel:", 7)) {
		int fd = obj_get(arg);

		return fd >= 0 && map_delete(fd, strtoull(arg2, 0, 0)) == 0;
	}
	if (!strncmp(a, "mapid:", 6)) {
		int fd = get_fd_by_id(BPF_MAP_GET_FD_BY_ID, atoi(arg));

		return fd >= 0 && map_delete(fd, strtoull(arg2, 0, 0)) == 0;
	}
	if (!strncmp(a, "pidfd_getfd:", 12))
		return do_pidfd_getfd(atoi(arg), atoi(arg2));
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
