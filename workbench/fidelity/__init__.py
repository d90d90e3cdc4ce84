"""The fidelity benchmarks. Critics: each trained by policy evaluation and measured against the
Monte-Carlo truth as a resumable grid (`critic_grid`), with its tables and acceptance criteria
(`critic_tables`) and figures (`critic_figures`). World models: each fitted on the toy and measured
against its differentiable step (`world_model_grid`)."""
