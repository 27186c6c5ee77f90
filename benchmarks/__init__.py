"""`make bench`: figures of our own code, each beside a baseline measured in the same run."""
