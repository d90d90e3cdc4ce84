"""Measured contraction factors of `dvg_core.analysis.contraction` for
`notebooks/contraction.ipynb`: sweeps over (γ, gain, dt) with the sliders that drive them
(`explorer`) and their plotly figures (`figures`)."""
