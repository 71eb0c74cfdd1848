// `import Tangent` brings the whole public API into scope.
@_exported import Kernels
@_exported import Autodiff
@_exported import NN
@_exported import Datasets
@_exported import Checkpoints
@_exported import Robustness
@_exported import NTK
@_exported import KernelMachines
@_exported import Plots
@_exported import TensorBoard
@_exported import Training
@_exported import Workbench
