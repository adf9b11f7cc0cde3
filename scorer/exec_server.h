/*
 * exec_server.h: `concours-score --exec-server`, the program of a warm sandbox (server/sandbox_warm.h), and the
 * protocol the server speaks to it. It runs as the init of its sandbox's PID namespace, with no writable file
 * system, its stdin a SOCK_SEQPACKET socket to the server. Each request (struct exec_request, then ARGC strings,
 * with 2 to EXEC_FDS_MAX fds) is one program run: a child forked for it takes the first fd as its stdout, the
 * second as its stderr, the others at 3, 4..., /dev/null as stdin and nothing else, the request's rlimits, and
 * execs the request's argv with the sandbox's environment. Once the child ended, the server kills every other
 * process left in the namespace (a run leaves nothing behind for the next one) and answers with struct
 * exec_reply. It never reads the files it passes on: a hostile one can only reach the child that parses it.
 */
#ifndef CONCOURS_EXEC_SERVER_H
#define CONCOURS_EXEC_SERVER_H

#include <stdint.h>

#define EXEC_MAGIC 0x63786563u /* "cexc" */
#define EXEC_MSG_MAX 65536     /* bytes of a request */
#define EXEC_ARGS_MAX 64       /* words of a request's argv */
#define EXEC_FDS_MAX 6         /* stdout, stderr, then up to 4 files at 3.. */

struct exec_request {
	uint32_t magic;
	uint32_t argc; /* 1..EXEC_ARGS_MAX NUL-terminated strings follow, argv[0] an absolute path */
	uint32_t nfds; /* fds sent with the message (SCM_RIGHTS), 2..EXEC_FDS_MAX */
	uint32_t pad;
	int64_t cpu_s;     /* RLIMIT_CPU (soft; hard one second more) */
	int64_t memory_mb; /* RLIMIT_AS */
	int64_t file_mb;   /* RLIMIT_FSIZE */
};

struct exec_reply {
	uint32_t magic;
	int32_t status; /* the child's wait status; -1 when it could not be forked */
	int64_t maxrss_kb;
	int64_t cpu_ms; /* user + system time of the child and whatever it started */
};

/* The exec server's loop on stdin; returns the process's exit status once the server closes the socket (0) or
 * breaks the protocol (1), or 2 when not run as a PID namespace's init. */
int exec_server_main(void);

#endif
