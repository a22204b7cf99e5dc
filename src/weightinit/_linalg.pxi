# Bindings of the Householder (orthogonal) kernels; filled in by that issue.
