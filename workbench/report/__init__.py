"""Reports of experiments: records read into tidy frames (`record_frames`), seed statistics with
bootstrap intervals (`seed_statistics`, `summaries`), the toy's reference returns (`references`),
the paper's claim judged (`claim_verdict`), figures (`plots`), what `notebooks/report.ipynb`
calls (`report_notebook`) and the report rendered to HTML (`render`)."""
