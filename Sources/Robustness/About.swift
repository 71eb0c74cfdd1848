// Robustness: FGSM and PGD attacks, adversarial training steps, robust accuracy.
