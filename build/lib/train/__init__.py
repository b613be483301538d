"""Training and evaluation toolkit: recipes, data, masks, losses, the loop, export, evaluation."""
