"""Hole masks, below both training and evaluation: the free-form, box and face-region masks
training draws, and the fixed hole-size buckets the evaluation scores (`holes.masks`)."""
