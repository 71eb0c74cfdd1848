import ArgumentParser
import Foundation
import Tangent

/// The Slurm side of a sweep: one `sbatch --array` script whose task i runs run i (`tangent sweep task
/// SPEC NAME`, which starts or resumes it), requeued when stopped (preemption, time limit, `scontrol
/// requeue`): Slurm sends SIGTERM `signal-seconds` before the limit, the script passes it to the run,
/// which checkpoints after its current step and exits 75, and the script requeues the task, which
/// resumes exactly where it stopped.
enum SweepSlurm {
    /// The resources of the array's tasks.
    struct Resources {
        var partition: String?
        var time: String?
        var cpus: Int
        var memory: String?
        var signalSeconds: Int
        var maxParallel: Int?
    }

    /// File names under the runs folder.
    static let scriptName = "sweep.sbatch", jobsName = "slurm-jobs.txt"

    /// The batch script running the runs of `entries` of the grid file `spec` with `tangent`. Comments
    /// list the command each task would run now (a task decides again when it starts).
    static func script(spec: SweepSpec, entries: [SweepPlan.Entry], resources r: Resources, tangent: String) -> String {
        let name = (spec.runsFolder as NSString).lastPathComponent
        let runs = entries.map(\.run.name)
        var lines = [
            "#!/bin/bash",
            "# Written by `tangent sweep --slurm` for \(spec.path): one array task per run.",
            "#SBATCH --job-name=\(name)",
            "#SBATCH --array=0-\(runs.count - 1)" + (r.maxParallel.map { "%\($0)" } ?? ""),
        ]
        if let p = r.partition { lines.append("#SBATCH --partition=\(p)") }
        if let t = r.time { lines.append("#SBATCH --time=\(t)") }
        lines.append("#SBATCH --cpus-per-task=\(r.cpus)")
        if let m = r.memory { lines.append("#SBATCH --mem=\(m)") }
        lines += [
            "#SBATCH --requeue",
            "#SBATCH --signal=B:TERM@\(r.signalSeconds)",
            "#SBATCH --open-mode=append",
            "#SBATCH --output=\(spec.runsFolder)/logs/%x-%a.log",
            "set -u",
            "runs=(" + runs.map(quoted).joined(separator: " ") + ")",
            "run=\"${runs[$SLURM_ARRAY_TASK_ID]}\"",
            "export TANGENT_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
            "cd \(quoted(spec.directory))",
            "echo \"== $(date -u +%FT%TZ) task $SLURM_ARRAY_TASK_ID (job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}, restart ${SLURM_RESTART_COUNT:-0}): run $run\"",
            "# The run starts, or resumes from its newest checkpoint. As submitted, the tasks run:",
        ]
        for (index, entry) in entries.enumerated() {
            let command = "tangent " + (entry.arguments ?? []).map(shellWord).joined(separator: " ")
            // A comment ends at a line break: one inside a path is written as a space.
            lines.append("#   \(index) \(entry.run.name) (\(entry.action)): \(command)".map { $0.isNewline ? " " : $0 }.reduce(into: "") { $0.append($1) })
        }
        lines += [
            "\(quoted(tangent)) sweep task \(quoted(spec.path)) \"$run\" &",
            "child=$!",
            "# SIGTERM (time limit, preemption, requeue) goes to this shell: pass it on, so the run",
            "# finishes its step, writes a checkpoint and exits 75.",
            "trap 'kill -TERM \"$child\" 2>/dev/null' TERM",
            "wait \"$child\"; status=$?",
            "while kill -0 \"$child\" 2>/dev/null; do wait \"$child\"; status=$?; done",
            "if [ \"$status\" -eq \(TrainCommand.interruptedStatus) ]; then",
            "  echo \"== stopped after a checkpoint: requeueing ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"",
            "  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"",
            "fi",
            "exit \"$status\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` as one shell word: as it is when it holds only characters the shell takes literally,
    /// single-quoted otherwise.
    static func shellWord(_ text: String) -> String {
        let plain = !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./:=+,@%".contains($0)) }
        return plain ? text : quoted(text)
    }

    /// Single-quotes `text` for the shell.
    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Submits the script at `scriptPath` with `sbatch --parsable` (and `options` before it, e.g. a
    /// dependency), returning the job id. A missing or failing sbatch is reported with the command and
    /// its output.
    static func submit(scriptPath: String, options: [String] = []) throws -> String {
        guard let sbatch = executableInPath("sbatch") else {
            throw ValidationError("sbatch is not on PATH (\(ProcessInfo.processInfo.environment["PATH"] ?? "")): run this on a Slurm login node, or use --local")
        }
        let arguments = ["--parsable"] + options + [scriptPath]
        let (status, output, errors) = try capture(sbatch, arguments)
        guard status == 0 else {
            throw ValidationError("`sbatch \(arguments.joined(separator: " "))` failed with status \(status): \(errors.isEmpty ? output : errors)")
        }
        let id = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw ValidationError("`sbatch --parsable \(scriptPath)` printed no job id: '\(output)'")
        }
        return id
    }

    /// The path of `name` on PATH, if it is there.
    static func executableInPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `executable arguments` to the end: status, standard output, standard error.
    static func capture(_ executable: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw ValidationError("cannot run `\(executable) \(arguments.joined(separator: " "))`: \(error)") }
        // Standard error is drained on another thread so neither pipe can fill and stall the command.
        final class Drained: @unchecked Sendable { var data = Data() }
        let errors = Drained(), done = DispatchSemaphore(value: 0), errorHandle = err.fileHandleForReading
        DispatchQueue.global().async { errors.data = errorHandle.readDataToEndOfFile(); done.signal() }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
                String(decoding: errors.data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The Slurm state of each array task of the jobs in `RUNS/slurm-jobs.txt`, by run name (newest job
    /// first), from `squeue` (queued and running) and `sacct` (ended), where those commands exist.
    static func states(runsFolder: String) -> [String: String] {
        let jobsPath = (runsFolder as NSString).appendingPathComponent(jobsName)
        guard let bytes = try? PlainFile.read(jobsPath) else { return [:] }
        var states: [String: String] = [:]
        // Each line: JOBID RUN0 RUN1 … (the runs of array indices 0, 1, …).
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").reversed() {
            let words = line.split(separator: " ").map(String.init)
            guard let job = words.first, words.count > 1 else { continue }
            let names = Array(words.dropFirst())
            var byIndex: [Int: String] = [:]
            if let sacct = executableInPath("sacct"), let result = try? capture(sacct, ["-X", "-n", "-P", "-j", job, "-o", "JobID,State"]),
               result.0 == 0 {
                for row in result.1.split(separator: "\n") {
                    let cells = row.split(separator: "|").map(String.init)
                    guard cells.count == 2, let index = cells[0].split(separator: "_").last.flatMap({ Int($0) }) else { continue }
                    byIndex[index] = cells[1] + " (sacct)"
                }
            }
            if let squeue = executableInPath("squeue"), let result = try? capture(squeue, ["-h", "-r", "-j", job, "-o", "%K|%T"]),
               result.0 == 0 {
                for row in result.1.split(separator: "\n") {
                    let cells = row.split(separator: "|").map(String.init)
                    guard cells.count == 2, let index = Int(cells[0]) else { continue }
                    byIndex[index] = cells[1] + " (squeue)"
                }
            }
            for (index, state) in byIndex where index < names.count && states[names[index]] == nil {
                states[names[index]] = "job \(job)_\(index) \(state)"
            }
        }
        return states
    }
}
