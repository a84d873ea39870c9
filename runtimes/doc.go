// Package runtimes runs one action and reports what happened: the shell and python runtimes run
// the action's entry point as a real child process, the noop runtime answers in-process.
//
// A [Set] holds one [Runner] per runtime name and selects it by the action's Runtime field,
// exactly; it never guesses a runtime from the entry point's file name.
//
// # Entry points
//
// The entry point's content travels with the action (attune.Action.EntryContent) so any worker
// can run it. It is materialised once under Config.WorkDir in a content-addressed directory,
// WorkDir/<sha256 of content>/<base name of EntryPoint> (directory 0700, file 0500, written to a
// temporary file and renamed into place), and reused by later runs. The process runs with that
// directory as its working directory:
//
//	shell:  <ShellInterpreter> <file>
//	python: <python> -u <file>
//
// # Parameters
//
// Parameters are written to the process's stdin as one document, after which stdin is closed.
// They are never put on the command line or in the environment, where other users of the host
// could read them from /proc. Request.ParameterFormat picks the document's format, JSON (the
// default) or dotenv.
//
// JSON is one compact line followed by "\n".
//
// Dotenv is one line per parameter, sorted by key, the value single-quoted for a POSIX shell:
//
//	count='3'
//	enabled='true'
//	headers='{"Accept":"text/plain"}'
//	message='it'\''s $HOME, `literally`'
//	nothing=''
//
// Strings are written as they are (newlines included); numbers and booleans as their JSON text;
// objects and arrays as their compact JSON text, not flattened; null as an empty string. Inside
// single quotes everything is literal except the quote itself, which closes the quotes, is
// written backslash-escaped and reopens them (see message above). A POSIX sh action can
// therefore load its parameters as shell variables with
//
//	eval "$(cat)"
//
// whatever the values contain: newlines, quotes, $, backticks, backslashes. Keys must be shell
// identifiers ([A-Za-z_][A-Za-z0-9_]*) and string values must not contain NUL bytes; otherwise
// the run fails before the process starts. eval assigns shell variables of those names, so a
// parameter called PATH or IFS does what it says.
//
// # Environment
//
// The process inherits the worker's environment plus ATTUNE_EXECUTION_ID, ATTUNE_ACTION (the
// action ref), ATTUNE_PACK (the pack ref) and the entries of Request.Env. Nothing else is added.
//
// # Output
//
// stdout and stderr are captured separately, each up to Config.OutputCap bytes. Output beyond the
// cap is read and discarded so the process never blocks on a full pipe; the kept text ends with a
// marker line "\n…[truncated N bytes]" and Result.StdoutTruncated or StderrTruncated is set. With
// OutputFormat "json" a successful run's stdout is parsed into Result.Data: the whole of it, or
// failing that its last non-empty line; if neither is JSON the run fails.
//
// # Process lifetime
//
// Every process runs in its own process group. On timeout or cancellation the whole group gets
// SIGTERM and, Config.KillGrace later, SIGKILL. A run ends when the action's process exits: any
// process it left behind in its group is terminated the same way, so actions never leak processes
// onto the worker. Something meant to outlive the action must detach into its own session
// (setsid) and redirect its output.
//
// On Linux the child is a small sh guard (see guardScript) that leads the process group and runs
// the action as its own child; it is started with Pdeathsig = SIGUSR1, on which it SIGKILLs the
// whole group, so neither the action nor anything it started outlives a crashed worker. The kernel sends that signal when the thread that started the child exits, not
// the process, and the Go runtime does retire threads (a goroutine that exits while locked to its
// thread takes the thread with it). Locking the thread only around the start would not be enough,
// since the thread could be handed to such a goroutine afterwards, so the goroutine that starts the
// process stays locked to its thread until the process has been waited for. That costs nothing
// extra: waiting blocks a thread anyway. Pdeathsig reaches only the direct child, which is why the
// guard exists.
//
// The package needs a Unix host; process-group handling is Linux-tested.
package runtimes
