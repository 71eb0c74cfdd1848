import ArgumentParser

/// `--partition`, `--time`, `--cpus`, `--memory`: the resources of Slurm jobs, shared by the commands that
/// submit them (`tangent sweep --slurm`, `tangent kernel gram --slurm`).
struct SlurmResourceOptions: ParsableArguments {
    @Option(help: "With --slurm: partition (default: the grid file's slurm: partition, else the cluster's default).") var partition: String?
    @Option(help: "With --slurm: time limit per task, e.g. 04:00:00.") var time: String?
    @Option(help: "With --slurm: CPUs per task (default: the grid file's, else 1).") var cpus: Int?
    @Option(help: "With --slurm: memory per task, e.g. 16G.") var memory: String?

    func validate() throws {
        if let cpus { try requireOption(cpus >= 1, "--cpus must be at least 1, got \(cpus)") }
    }
}
