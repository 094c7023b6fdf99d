"""The staff console under /console: the shell (sign-in, navigation, errors as pages) and one module
per kind of work (clerk, office, desk, reviewer, auditor, privileged changes, messages)."""
