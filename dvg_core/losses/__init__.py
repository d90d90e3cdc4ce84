"""Pure functions of tensors: kernels, distances between sample sets, max-slicing, and the
Sobolev targets and joint samples."""
