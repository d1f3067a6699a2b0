"""PIPELINE training-jobs API: the Lambda layer shared by every function."""
