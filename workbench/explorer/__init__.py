"""The toy explorer of `notebooks/explore_toy.ipynb`: one exploration, a critic trained for a few
seconds beside the Monte-Carlo truth (`exploration`), warm starts from the previous critic
(`warm_start`), its figures (`figures`) and the ipywidgets controls driving them (`toy_explorer`)."""
