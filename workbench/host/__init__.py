"""The machine and its processes, below every other room and free of torch: paths from the
repository root and the file system's name limits (`paths`), a stop signal handled as Ctrl-C is
(`stops`), and child processes that die with their parent, with the kernel socket files they leave
(`orphans`)."""
