"""The walk-in queue, blended with appointments (issue 16). See README.md."""
