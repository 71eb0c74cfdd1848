// swift-tools-version:6.0
import PackageDescription

/// Release-grade optimisation for the numeric targets even in debug builds would hide bugs;
/// instead heavy tests and benchmarks run with `-c release` (see README).
let package = Package(
    name: "Tangent",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tangent", targets: ["Tangent"]),
        .executable(name: "tangent", targets: ["tangent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation` (DocC); a plugin only, linked into nothing.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // YAML grid files of `tangent sweep` (with line numbers for errors).
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // System libraries: a module map and a shim header each.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl"),

        // Direct 3×3 convolution kernels in C: AVX-512, AVX2+FMA and portable variants in one file,
        // each function compiled for its instruction set (target attributes) and chosen at run time.
        .target(name: "CConvolution"),
        // Numeric routines on raw buffers, each with a naive reference twin.
        .target(name: "Kernels", dependencies: ["CBLAS", "CLAPACKE", "CConvolution"]),
        // Tensor, reverse mode (VJP) and forward mode (JVP).
        .target(name: "Autodiff", dependencies: ["Kernels"]),
        // Modules, layers, losses, optimisers, the paper's models.
        .target(name: "NN", dependencies: ["Autodiff"]),
        // MNIST / Fashion-MNIST IDX, CIFAR-10 binary, subsets, batching, download.
        .target(name: "Datasets", dependencies: ["Kernels", "CZlib", "CCurl"], resources: [.copy("Resources")]),
        // zstd + safetensors-layout checkpoint files.
        .target(name: "Checkpoints", dependencies: ["CZstd"]),
        // FGSM / PGD attacks and robust accuracy.
        .target(name: "Robustness", dependencies: ["NN", "Datasets"]),
        // Empirical NTK engine and kernel metrics.
        .target(name: "NTK", dependencies: ["NN", "Kernels"]),
        // Analytic (infinite-width) and empirical kernels behind one protocol, kernel regression,
        // attacks on kernel predictors.
        .target(name: "KernelMachines", dependencies: ["Autodiff", "Kernels", "CBLAS", "CLAPACKE", "NN", "NTK",
                                                       "Robustness", "Plots", "Datasets", "Checkpoints"]),
        // The two-layer workbench: two-layer networks in the random-features, lazy and full regimes
        // on synthetic data, regression training, adversarial risk and input-gradient norms.
        .target(name: "Workbench", dependencies: ["Autodiff", "Kernels", "NN", "Datasets", "Robustness", "Checkpoints",
                                                  "Training"]),
        // SVG plots and PNG images.
        .target(name: "Plots", dependencies: ["CZlib"]),
        // TensorBoard event files (TFRecord framing, hand-encoded Event protocol buffers), no TensorFlow.
        .target(name: "TensorBoard", dependencies: ["Plots"]),
        // The training loop, callbacks, run folders.
        .target(name: "Training", dependencies: ["NN", "Datasets", "Checkpoints", "Robustness", "NTK", "Plots", "TensorBoard"]),
        // Umbrella module: `import Tangent` gives the whole public API.
        .target(name: "Tangent", dependencies: ["Kernels", "Autodiff", "NN", "Datasets", "Checkpoints",
                                                "Robustness", "NTK", "KernelMachines", "Plots", "TensorBoard", "Training", "Workbench"]),
        .executableTarget(name: "tangent", dependencies: [
            "Tangent", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ]),

        // Examples: short scripts using only the public API.
        .executableTarget(name: "TrainMNIST", dependencies: ["Tangent"], path: "Examples/TrainMNIST"),
        .executableTarget(name: "CustomCallback", dependencies: ["Tangent"], path: "Examples/CustomCallback"),
        .executableTarget(name: "ResumeRun", dependencies: ["Tangent"], path: "Examples/ResumeRun"),
        .executableTarget(name: "AdversarialMNIST", dependencies: ["Tangent"], path: "Examples/AdversarialMNIST"),
        .executableTarget(name: "LinearizedMNIST", dependencies: ["Tangent"], path: "Examples/LinearizedMNIST"),
        .executableTarget(name: "TrainResNet", dependencies: ["Tangent"], path: "Examples/TrainResNet"),
        .executableTarget(name: "CustomModel", dependencies: ["Tangent"], path: "Examples/CustomModel"),
        .executableTarget(name: "KernelDynamics", dependencies: ["Tangent"], path: "Examples/KernelDynamics"),
        .executableTarget(name: "KernelAttack", dependencies: ["Tangent"], path: "Examples/KernelAttack"),
        .executableTarget(name: "TransferToWideNets", dependencies: ["Tangent"], path: "Examples/TransferToWideNets"),
        .executableTarget(name: "EigenFeatures", dependencies: ["Tangent"], path: "Examples/EigenFeatures"),
        .executableTarget(name: "AdversarialTrainingWidth", dependencies: ["Tangent"], path: "Examples/AdversarialTrainingWidth"),
        .executableTarget(name: "LearningRegimes", dependencies: ["Tangent"], path: "Examples/LearningRegimes"),

        // Fuzz targets (Fuzz/run.sh builds them with libFuzzer; a plain build gives input replayers).
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "FuzzRestore", dependencies: ["Tangent", "FuzzSupport"], path: "Fuzz/FuzzRestore"),
        .executableTarget(name: "FuzzDataReaders", dependencies: ["Tangent", "FuzzSupport"], path: "Fuzz/FuzzDataReaders"),

        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "NN"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Datasets"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets"]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints"]),
        .testTarget(name: "RobustnessTests", dependencies: ["Robustness", "Datasets"]),
        .testTarget(name: "NTKTests", dependencies: ["NTK", "NN", "Kernels", "Autodiff"]),
        .testTarget(name: "KernelMachinesTests", dependencies: ["KernelMachines", "NN", "NTK", "Autodiff", "Robustness",
                                                               "Datasets", "Plots"]),
        .testTarget(name: "PlotsTests", dependencies: ["Plots"]),
        .testTarget(name: "TensorBoardTests", dependencies: ["TensorBoard", "Plots"]),
        .testTarget(name: "TrainingTests", dependencies: ["Tangent"]),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench", "Datasets", "NN", "Robustness", "Training",
                                                          "Checkpoints", "Autodiff", "Kernels"]),
    ]
)
