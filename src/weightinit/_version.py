"""The version, defined here only: the package metadata reads it at build time
(pyproject.toml: scikit_build_core.metadata.regex). Bumping it is part of cutting a
release (docs/releasing.md); a change to the stream contract needs a new major version."""
__version__ = "0.4.0"
