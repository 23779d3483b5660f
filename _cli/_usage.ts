// Copyright 2026 the @locks/process-lock authors. MIT license.
// The command line's help text.

export const USAGE = `Usage:
  process-lock [options] <lockfile|directory> <command> [args...]
  process-lock [options] <lockfile|directory> -c <shell command>
  process-lock --postgres [URL] [options] <name> <command> [args...]
  process-lock --slots N [options] <lockfile|name> <command> [args...]
  process-lock --status [--json] [--postgres [URL]] <lockfile|name>

Runs the command while holding a lock on <lockfile> (created if missing, not
its directory; an existing directory or read-only file works too), or with
--postgres, the PostgreSQL advisory lock <name>. Options are flock(1)'s:
-nx, -w5, -E7 and --timeout=5 work as there. Unlike flock(1): no file
descriptor forms (flock 9, -u); 126 or 127 when the command cannot run.

Options:
  -x, -e, --exclusive           exclusive lock (the default)
  -s, --shared                  shared lock
  -n, --nonblock                fail at once if the lock is busy
  -w, --timeout, --wait SECS    give up after SECS (fractions allowed)
  -E, --conflict-exit-code N    exit status on conflict or timeout (default 1)
  -c, --command COMMAND         run COMMAND through the shell
  -o, --close                   accepted: the command never holds the lock's
                                file here
  -F, --no-fork                 accepted: Deno cannot become the command, so
                                this process stays and holds the lock
      --postgres [URL]          lock on PostgreSQL (any host): <lockfile> is
                                then a lock name; no URL: DATABASE_URL
  -j, --slots N                 hold one of N slots (a semaphore): at most N
                                commands at once on <lockfile> or <name>
      --verbose                 say how long it waited and who held the lock
      --status                  say who holds the lock and how many wait; exit
                                0 when it is free, 1 when it is held
      --json                    with --status: one line of JSON
  -V, --version                 print the version
  -h, --help                    print this help
  --                            end of the options

Exit status: the command's, 128+N if it died of signal N (or signal N ended
the wait), the conflict code on conflict or timeout, 64 on a usage error,
66 if the lock file cannot be opened, 69 if PostgreSQL cannot be reached,
75 if the PostgreSQL lock was lost while the command ran (it is sent SIGTERM,
then SIGKILL 5 s later), 126/127 if the command cannot be run.

Unlike flock(1), the lock belongs to this process, not to the command: if
this process is killed with SIGKILL, the lock is freed while the command may
run on. While the command runs, signals that would end this process are
ignored: sent to the process group (Ctrl-C, timeout(1)) they reach the
command once, and the lock is held until it exits. Under npx, signals sent to npx do not reach Deno: for
timeout(1), systemd or cron, run the installed command or deno run.`;
