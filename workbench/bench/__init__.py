"""The throughput benchmark `python -m workbench bench`: each algorithm's full update timed
against a measured matmul peak (`update_bench`), and environment steps and whole training loops,
one seed or several stacked (`loop_bench`)."""
