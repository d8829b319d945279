"""The built-in checks, one module per service group. Importing a module registers its checks."""
