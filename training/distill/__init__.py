"""CoT distillation: demonstrations, training data, recipes, model loading, SFT and DPO self-refine."""
