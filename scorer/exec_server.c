/*
 * exec_server.c: the program of a warm sandbox (see exec_server.h): one child per request, nothing left behind.
 */
#include "exec_server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIFT_FD 64 /* received fds are moved above this before they are placed at 1, 2, 3... */

extern char **environ;

/* One request, read from the socket SOCK: its message into BUF (EXEC_MSG_MAX bytes), its fds into FDS. Returns the
 * message's length (0 when the server closed the socket), or -1; *NFDS is the count of fds received. */
static ssize_t receive(int sock, char *buf, int *fds, int *nfds)
{
	union {
		char space[CMSG_SPACE(EXEC_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {buf, EXEC_MSG_MAX};
	struct msghdr msg;
	struct cmsghdr *c;
	ssize_t n;

	*nfds = 0;
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.space;
	msg.msg_controllen = sizeof u.space;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (c = CMSG_FIRSTHDR(&msg); n >= 0 && c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			for (int i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
				if (*nfds < EXEC_FDS_MAX)
					fds[(*nfds)++] = fd;
				else
					close(fd);
			}
		}
	}
	if (n >= 0 && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return -1;
	return n;
}

/* The argv of the request in BUF (LEN bytes) into ARGV (EXEC_ARGS_MAX + 1 slots). Returns 0, or -1 when the
 * strings do not match the head's count exactly or argv[0] is not an absolute path. */
static int unpack(char *buf, size_t len, const struct exec_request *h, char **argv)
{
	size_t at = sizeof *h;

	if (h->argc < 1 || h->argc > EXEC_ARGS_MAX)
		return -1;
	for (uint32_t i = 0; i < h->argc; i++) {
		char *nul = at < len ? memchr(buf + at, '\0', len - at) : NULL;

		if (nul == NULL)
			return -1;
		argv[i] = buf + at;
		at = (size_t)(nul - buf) + 1;
	}
	argv[h->argc] = NULL;
	return at == len && argv[0][0] == '/' ? 0 : -1;
}

/* In the child (async-signal-safe): the request's fds at 1, 2, 3..., /dev/null at 0, limits, then exec. */
static void child(char **argv, const int *fds, int nfds, const struct exec_request *h)
{
	int lifted[EXEC_FDS_MAX];
	struct rlimit rl;
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	for (int i = 0; i < nfds; i++) {
		lifted[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, LIFT_FD);
		if (lifted[i] < 0)
			_exit(126);
	}
	if (devnull < 0 || dup2(devnull, 0) != 0)
		_exit(126);
	for (int i = 0; i < nfds; i++) {
		if (dup2(lifted[i], i + 1) != i + 1) /* dup2 clears FD_CLOEXEC on the copy */
			_exit(126);
	}
	closefrom(nfds + 1);
	rl.rlim_cur = (rlim_t)h->cpu_s;
	rl.rlim_max = (rlim_t)h->cpu_s + 1;
	if (setrlimit(RLIMIT_CPU, &rl) != 0)
		_exit(126);
	rl.rlim_cur = rl.rlim_max = (rlim_t)h->memory_mb << 20;
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		_exit(126);
	rl.rlim_cur = rl.rlim_max = (rlim_t)h->file_mb << 20;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		_exit(126);
	execve(argv[0], argv, environ);
	_exit(127);
}

/* Runs one request: the child, its end, then every process left in the namespace killed and reaped. */
static void run(char **argv, const int *fds, int nfds, const struct exec_request *h, struct exec_reply *r)
{
	struct rusage ru;
	int status = 0;
	pid_t pid = fork();

	r->status = -1;
	if (pid == 0)
		child(argv, fds, nfds, h);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (pid < 0)
		return;
	memset(&ru, 0, sizeof ru);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR)
			return;
	}
	/* as init of the namespace: every process in it but this one (a background child, a double fork) */
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	r->status = status;
	r->maxrss_kb = ru.ru_maxrss;
	r->cpu_ms = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	            ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

int exec_server_main(void)
{
	static char buf[EXEC_MSG_MAX + 1];
	char *argv[EXEC_ARGS_MAX + 1];

	if (getpid() != 1) {
		fprintf(stderr, "concours-score: --exec-server runs as the init of a PID namespace (a warm sandbox)\n");
		return 2;
	}
	/* nothing in the namespace may read or write this process's memory or fds through /proc */
	if (prctl(PR_SET_DUMPABLE, 0) != 0)
		return 1;
	for (;;) {
		struct exec_request h;
		struct exec_reply r = {EXEC_MAGIC, -1, 0, 0};
		int fds[EXEC_FDS_MAX];
		int nfds = 0;
		ssize_t n = receive(0, buf, fds, &nfds);

		if (n <= 0) {
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			return n == 0 ? 0 : 1;
		}
		memcpy(&h, buf, (size_t)n < sizeof h ? (size_t)n : sizeof h);
		if ((size_t)n < sizeof h || h.magic != EXEC_MAGIC || h.nfds != (uint32_t)nfds || nfds < 2 ||
		    h.cpu_s < 1 || h.memory_mb < 1 || h.file_mb < 0 || unpack(buf, (size_t)n, &h, argv) != 0) {
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			return 1; /* the server speaks this protocol exactly: anything else ends the sandbox */
		}
		run(argv, fds, nfds, &h, &r);
		if (send(0, &r, sizeof r, MSG_NOSIGNAL) != (ssize_t)sizeof r)
			return 1;
	}
}
