// Package embedded runs attune's private PostgreSQL cluster, used when no database URL is
// configured. It drives the PostgreSQL server binaries installed on the machine (initdb, pg_ctl,
// postgres); nothing is downloaded or bundled.
//
// # Layout
//
// Everything lives under the attune data directory (Options.DataDir):
//
//	pg/            the cluster (initdb output), owned by the cluster user
//	pg.log         the server log (pg_ctl -l)
//	pg-password    the password of the "attune" superuser for TCP clients (mode 0600)
//	sock/          the unix socket directory (mode 0700); when DataDir is so deep that the socket
//	               path would exceed the OS limit, a short directory under os.TempDir() named after
//	               a hash of the data directory is used instead. postmaster.pid records which.
//	cluster.lock   exclusive lock around initialise/start/stop decisions
//	users.lock     one shared lock per live Handle
//
// The server listens on the unix socket (trust authentication for local connections) and on
// 127.0.0.1 at a port chosen when it starts (scram-sha-256 with the password in pg-password).
// Handle.URL connects over the socket as the superuser "attune" to the database "attune".
//
// # Sharing and stopping: last one out stops it
//
// Several attune processes (say `attune start` and an `attune execution list` next to it) may use
// one data directory at the same time. Acquire takes cluster.lock exclusively, initialises the
// cluster if needed, starts the server if it is not running, and then takes a shared flock on
// users.lock on its own file descriptor, which the Handle holds for its whole life.
//
// Release drops that shared lock, takes cluster.lock exclusively and tries a non-blocking
// exclusive flock on users.lock. If it gets it, no other Handle (in this or any other process)
// uses the cluster and the server is stopped with `pg_ctl stop -m fast`; if it does not, the
// server is left running for the remaining users, and the last of them to release stops it.
// Flocks die with the process that holds them, so a crashed user never keeps the server from
// being stopped by the next one out. A server left running with no users (every user crashed)
// is adopted by the next Acquire and stopped by its Release.
//
// The server runs in its own process group, so a Ctrl-C in the terminal reaches attune but not
// postgres: attune decides when to stop it, through Release.
//
// # Running as root
//
// initdb refuses to run as root. When attune runs as root, the cluster is owned and run by the
// "postgres" system user: the pg directory, the socket directory and the log file are chowned to
// it, initdb and pg_ctl run with its credentials, and every directory on the way to DataDir
// must be searchable by it.
package embedded
