"""Analysis beside training: Monte-Carlo ground truth, policy evaluation and critic fidelity,
and the contraction measurements."""
