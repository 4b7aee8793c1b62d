"""The jail: what isolates a render (namespaces, filesystem view, seccomp, limits)."""
