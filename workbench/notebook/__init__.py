"""What the notebooks call so they stay thin: the train notebook's helpers (`train_notebook`),
opt-in policy videos (`policy_video`), and `make lab`'s working copies of the notebooks
(`lab`)."""
