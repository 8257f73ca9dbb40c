// The command line: exit codes, JSON output, the published leaves file.
