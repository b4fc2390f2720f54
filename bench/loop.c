/*
 * loop — time a system call pattern; prints nanoseconds per iteration.
 *   loop open PATH N            open(O_RDONLY) + close
 *   loop bind N                 socket + bind 127.0.0.1:0 + close
 *   loop connect PORT N         socket + connect 127.0.0.1:PORT + close
 * With LANDLOCK=DIR in the environment, first restrict the process with a
 * Landlock ruleset that allows reading files below DIR (the same intent as a
 * bpfsystrace policy permitting fsread there) and nothing else of the file
 * system's handled accesses.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void landlock(const char *dir)
{
	struct landlock_ruleset_attr attr = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
				     LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_DIR,
	};
	struct landlock_path_beneath_attr pb = { .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE };
	int rs = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);

	if (rs < 0) { perror("landlock_create_ruleset"); exit(3); }
	pb.parent_fd = open(dir, O_PATH | O_CLOEXEC);
	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0)) {
		perror("landlock_add_rule"); exit(3);
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (syscall(SYS_landlock_restrict_self, rs, 0)) { perror("landlock_restrict_self"); exit(3); }
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	long n = atol(argv[argc - 1]);
	double t0;

	if (getenv("LANDLOCK"))
		landlock(getenv("LANDLOCK"));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	t0 = now();
	for (long i = 0; i < n; i++) {
		if (!strcmp(argv[1], "open")) {
			int fd = open(argv[2], O_RDONLY);
			if (fd < 0) { perror("open"); return 1; }
			close(fd);
		} else {
			int fd = socket(AF_INET, SOCK_STREAM, 0), ret;
			if (!strcmp(argv[1], "bind")) {
				sin.sin_port = 0;
				ret = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
			} else {
				sin.sin_port = htons(atoi(argv[2]));
				ret = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
			}
			if (ret) { perror(argv[1]); return 1; }
			close(fd);
		}
	}
	printf("%.0f\n", (now() - t0) / n);
	return 0;
}
