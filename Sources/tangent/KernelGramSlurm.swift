import ArgumentParser
import Foundation

/// `tangent kernel gram --slurm N`: an `sbatch --array` job whose task i computes part i of N of the
/// store's tiles, and a finishing job that runs when the array has ended however its tasks ended
/// (`afterany`): it computes whatever tile is still missing or damaged, checks the store and runs the
/// eigenpairs and solve. A task stopped by preemption is requeued (`--requeue`) and computes only the
/// tiles it had not written.
enum KernelGramSlurm {
    /// File names in the store's folder.
    static let arrayScriptName = "gram.sbatch", finishScriptName = "gram-finish.sbatch"

    /// The options that concern submitting, not the computation: they are left out of the scripts' commands.
    static let submissionOptions: Set<String> = ["--slurm", "--dry-run", "--partition", "--time", "--cpus", "--memory"]
    /// The options only the finishing job runs.
    static let finishOptions: Set<String> = ["--top", "--solve", "--tolerance", "--maximum-iterations"]
    /// Options that take no value.
    static let flags: Set<String> = ["--dry-run", "--solve", "--standardize"]

    /// `arguments` (after `kernel gram`) without the options in `removed` and their values (`--name value`
    /// or `--name=value`).
    static func arguments(_ arguments: [String], removing removed: Set<String>) -> [String] {
        var kept: [String] = []
        var skipValue = false
        for argument in arguments {
            if skipValue { skipValue = false; continue }
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if removed.contains(name) {
                skipValue = !argument.contains("=") && !flags.contains(name)
                continue
            }
            kept.append(argument)
        }
        return kept
    }

    /// The array script and the finishing script for `arguments` (the command's own, after `kernel gram`).
    static func scripts(arguments: [String], parts: Int, store: String, resources r: SlurmResourceOptions,
                        tangent: String, directory: String) -> (array: String, finish: String) {
        let name = "gram-" + (store as NSString).lastPathComponent
        let logs = ((store as NSString).appendingPathComponent("logs") as NSString).standardizingPath
        func header(_ job: String, _ comment: String) -> [String] {
            var lines = ["#!/bin/bash", "# Written by `tangent kernel gram --slurm \(parts)`: \(comment)", "#SBATCH --job-name=\(job)"]
            if let p = r.partition { lines.append("#SBATCH --partition=\(p)") }
            if let t = r.time { lines.append("#SBATCH --time=\(t)") }
            lines.append("#SBATCH --cpus-per-task=\(r.cpus ?? 1)")
            if let m = r.memory { lines.append("#SBATCH --mem=\(m)") }
            return lines
        }
        let computation = self.arguments(arguments, removing: submissionOptions)
        let task = self.arguments(computation, removing: finishOptions)
        let command = ([tangent, "kernel", "gram"] + task).map(SweepSlurm.shellWord).joined(separator: " ")
        let array = header(name, "array task i computes part i of \(parts) of the tiles.") + [
            "#SBATCH --array=0-\(parts - 1)",
            "#SBATCH --requeue",
            "#SBATCH --open-mode=append",
            "#SBATCH --output=\(logs)/%x-%a.log",
            "set -u",
            "export TANGENT_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
            "cd \(SweepSlurm.quoted(directory))",
            "echo \"== $(date -u +%FT%TZ) task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID (restart ${SLURM_RESTART_COUNT:-0})\"",
            "exec \(command) --part \"$SLURM_ARRAY_TASK_ID/\(parts)\"",
        ]
        let finish = header(name + "-finish", "after the array, whatever tile is missing or damaged, the check and the solve.") + [
            "#SBATCH --open-mode=append",
            "#SBATCH --output=\(logs)/%x.log",
            "set -u",
            "export TANGENT_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
            "cd \(SweepSlurm.quoted(directory))",
            "exec " + ([tangent, "kernel", "gram"] + computation).map(SweepSlurm.shellWord).joined(separator: " "),
        ]
        return (array.joined(separator: "\n") + "\n", finish.joined(separator: "\n") + "\n")
    }

    /// Writes both scripts into the store's folder and submits them, the finishing job depending on the
    /// array; returns the two job ids.
    static func submit(_ scripts: (array: String, finish: String), store: String) throws -> (array: String, finish: String) {
        guard SweepSlurm.executableInPath("sbatch") != nil else {
            throw ValidationError("sbatch is not on PATH (\(ProcessInfo.processInfo.environment["PATH"] ?? "")): run this on a Slurm login node, or leave out --slurm")
        }
        try FileManager.default.createDirectory(atPath: (store as NSString).appendingPathComponent("logs"), withIntermediateDirectories: true)
        let arrayPath = (store as NSString).appendingPathComponent(arrayScriptName)
        let finishPath = (store as NSString).appendingPathComponent(finishScriptName)
        try scripts.array.write(toFile: arrayPath, atomically: true, encoding: .utf8)
        try scripts.finish.write(toFile: finishPath, atomically: true, encoding: .utf8)
        let array = try SweepSlurm.submit(scriptPath: arrayPath)
        let finish = try SweepSlurm.submit(scriptPath: finishPath, options: ["--dependency=afterany:\(array)"])
        return (array, finish)
    }
}
