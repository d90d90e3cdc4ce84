"""Training runs into their records: `TrainingRun` builds the core's trainer, resumes it from its
checkpoint and records how each run ended (`training_run`), with the record-level checks around
the trainer in `record_session`; the torch threads and device of a training process
(`devices`); a trained record's agent loaded back (`trained_agent`) and its policy swept over
noise scales (`noise_sweep`)."""
