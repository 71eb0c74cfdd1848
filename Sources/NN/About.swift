// NN: modules and layers with dotted parameter names, initialisers, losses, optimisers and the paper's models.
