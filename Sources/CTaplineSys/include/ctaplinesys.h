#ifndef CTAPLINESYS_H
#define CTAPLINESYS_H

#include <sys/types.h>

/// pidfd_open(2): a file descriptor that becomes readable when the process exits, so a job's
/// exit can be watched with a Dispatch read source instead of a reaper thread. -1 and errno on
/// failure.
int tapline_pidfd_open(pid_t pid);

/// pipe2(fds, O_CLOEXEC): a pipe whose ends are not inherited by other children.
int tapline_pipe_cloexec(int fds[2]);

/// Spawns `argv` with posix_spawnp in process group `pgid` (0: a new group led by the child),
/// with stdin/stdout/stderr taken from the given descriptors, every other descriptor closed, the
/// signal mask emptied and every signal at its default disposition (so SIGTERM and SIGPIPE work
/// in jobs whatever the daemon's own state), and the working directory `cwd` (NULL: inherited).
/// Returns 0 and stores the pid, or an errno value.
int tapline_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], int stdin_fd,
                  int stdout_fd, int stderr_fd, pid_t pgid, const char *cwd);

#endif
