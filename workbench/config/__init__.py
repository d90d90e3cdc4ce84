"""What a run is: one frozen `ExperimentConfig` of the core's component configs, its JSON form and
run id (`experiment_config`), typed `--set` overrides (`overrides`), the named presets (`presets`),
the memory a config will need (`memory_budget`), every `--set` key with its doc line
(`key_listing`), the train notebook's parameters as a config (`notebook_parameters`), and the
names the torch-free command line offers (`names`). Imports nothing above
`workbench.host`."""
