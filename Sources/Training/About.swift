// Training: the training loop, its events and callbacks, run folders, metric logs.
