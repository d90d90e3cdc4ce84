"""The machine and its processes, below every other room and free of torch: paths from the
repository root and the file system's name limits (`paths`), a stop signal handled as Ctrl-C is
(`stops`), child processes that die with their parent, with the socket files they leave
(`orphans`), and the notebook kernels every papermill execution uses, which die with whoever
started them (`kernels`, `kernel_guard`)."""
