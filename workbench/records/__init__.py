"""Run records on disk, trusted like database rows: the record directory and its files
(`run_record`), the defensive readers and the errors naming a bad file (`checks`), atomic writes and
the metrics writer (`file_writes`), one lock per record (`lock`), where and with what each session
trained (`provenance`), TensorBoard event files beside the metrics (`tensorboard_events`), and the
append-only JSON-lines row files of the fidelity grids (`row_files`). Nothing here trains."""
