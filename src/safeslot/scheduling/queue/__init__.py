"""The walk-in queue, blended with appointments. See README.md."""
