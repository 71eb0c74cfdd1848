// Plots: small dependency-free SVG charts (line curves, heatmaps, polar trajectories).
