"""The command line `python -m workbench COMMAND`: the argument parser, built from plain names so
`--help` never waits for torch (`parser`), and the command handlers, which import the heavy rooms
only when they run (`main`)."""
