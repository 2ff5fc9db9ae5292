"""CLI commands, one module each; `skinflint.cli.COMMANDS` lists them."""
