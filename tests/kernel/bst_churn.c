/*
 * bst_churn — repeats bst_probe's open and bind actions until SIGTERM, then
 * prints how often each action got each answer: "<action> <OK|ERRNO> <count>".
 * The reload test runs it while policies are swapped underneath it.
 *   open:PATH:r|w|rw    bind4:ADDR:PORT    (as in bst_probe)
 */
#define main bst_probe_main
#include "bst_probe.c"
#undef main

#include <signal.h>

#define MAX_ACTIONS 32
#define MAX_ERRNO 256

static volatile sig_atomic_t stop;
static unsigned long counts[MAX_ACTIONS][MAX_ERRNO];

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	int n = argc - 1 > MAX_ACTIONS ? MAX_ACTIONS : argc - 1;

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		for (int i = 0; i < n; i++) {
			char *a = argv[i + 1];
			int ok;

			errno = 0;
			if (!strncmp(a, "open:", 5))
				ok = do_open(a + 5);
			else if (!strncmp(a, "bind4:", 6))
				ok = do_inet(a + 6, AF_INET, 0);
			else
				return 2;
			counts[i][ok ? 0 : (errno > 0 && errno < MAX_ERRNO ? errno : MAX_ERRNO - 1)]++;
		}
	}
	for (int i = 0; i < n; i++)
		for (int e = 0; e < MAX_ERRNO; e++)
			if (counts[i][e]) {
				const char *name = e ? strerrorname_np(e) : "OK";
				printf("%s %s %lu\n", argv[i + 1], name ? name : "E?", counts[i][e]);
			}
	return 0;
}
