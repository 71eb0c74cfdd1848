import ArgumentParser
import Foundation
import Tangent

/// `tangent kernel gram`: a training set's Gram matrix computed in tiles to an on-disk store (all of it,
/// or one part of it as an array task), then — once complete — its top eigenpairs and the kernel
/// regression solve out of core, with the test accuracy of the fitted predictor.
struct KernelGramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gram",
        abstract: "Compute a Gram matrix too large for memory in tiles on disk (resumably, or one part per array task), then its top eigenpairs and the kernel-regression solve out of core.",
        discussion: """
        --store DIR holds store.json and tiles/r{R}-c{C}.npy.zst (the upper triangle; each tile a float64 \
        .npy array inside a checksummed zstd frame: `zstd -d` then numpy.load reads it). Starting again \
        computes only missing or damaged tiles; a store holding another kernel, inputs or tile size is \
        refused. With --part I/N only part I (0-based) of N disjoint parts is computed and the command \
        stops there, as a Slurm array task would. Without it every tile is computed, the store is checked \
        and, with --top K and --solve, the K largest eigenpairs (block Krylov on out-of-core products) and \
        (Θ + ridge·I) A = Y (conjugate gradients) are computed, the predictor Θ(x, X) A scored on the test \
        images, and --out/gram.json written with timings and the peak memory. --memory-budget bounds the \
        eigen search's or the solve's working memory plus the tiles kept decoded in memory (the rest are \
        read again on every product), and then the test predictions.
        """)

    @OptionGroup var problem: KernelProblemOptions
    @Option(help: "Folder of the tiled store.") var store: String
    @Option(help: "Side of a tile (rows and columns of the Gram matrix).") var tileSize: Int = 2048
    @Option(help: ArgumentHelp("Compute only part I of N disjoint parts of the tiles (I from 0), then stop.", valueName: "I/N"))
    var part: String?
    @Option(help: "Compute the K largest eigenpairs of the Gram matrix (0: none).") var top: Int = 0
    @Flag(help: "Solve (Θ + ridge·I) A = Y by conjugate gradients and report the test accuracy of Θ(x, X) A.") var solve = false
    @Option(help: "Relative residual at which conjugate gradients stop.") var tolerance: Double = 1e-6
    @Option(help: "Iterations after which conjugate gradients give up.") var maximumIterations: Int = 2000
    @Option(help: ArgumentHelp("Submit the tiles as a Slurm array of N tasks (part i each) and a finishing job after them (the rest: check, --top, --solve).", valueName: "N"))
    var slurm: Int?
    @Flag(help: "With --slurm: print the two batch scripts and submit nothing.") var dryRun = false
    @OptionGroup var resources: SlurmResourceOptions

    func validate() throws {
        try requireOption(tileSize >= 1, "--tile-size must be positive, got \(tileSize)")
        _ = try parsedPart()
        try requireOption(top >= 0 && top <= problem.train, "--top must be in 0…--train (\(problem.train)), got \(top)")
        try requireOption(tolerance > 0 && tolerance < 1, "--tolerance must be in (0, 1), got \(tolerance)")
        try requireOption(maximumIterations >= 1, "--maximum-iterations must be positive, got \(maximumIterations)")
        try requireOption(part == nil || (top == 0 && !solve), "--part computes one part of the tiles only; run --top and --solve once every part is done")
        if let slurm { try requireOption(slurm >= 1, "--slurm takes the number of array tasks, at least 1, got \(slurm)") }
        try requireOption(slurm == nil || part == nil, "--slurm submits every part; leave out --part")
        try requireOption(!dryRun || slurm != nil, "--dry-run prints the batch scripts of --slurm; give --slurm N")
    }

    /// `--part I/N` as (I, N), or nil.
    func parsedPart() throws -> (index: Int, count: Int)? {
        guard let part else { return nil }
        let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, let i = Int(pieces[0]), let n = Int(pieces[1]), n >= 1, i >= 0, i < n else {
            throw ValidationError("--part takes I/N with 0 ≤ I < N (e.g. 3/8), not '\(part)'")
        }
        return (i, n)
    }

    func run() throws {
        let start = Date()
        let p = try problem.makeProblem(method: nil)
        p.printSummary()
        let gram = try TiledGramStore.prepare(directory: store, kernel: p.kernel, inputs: p.trainInputs, tileSize: tileSize)
        if let slurm {
            let directory = FileManager.default.currentDirectoryPath
            let absoluteStore = store.hasPrefix("/") ? store : (directory as NSString).appendingPathComponent(store)
            let scripts = KernelGramSlurm.scripts(arguments: Array(CommandLine.arguments.drop { $0 != "gram" }.dropFirst()),
                                                  parts: min(slurm, gram.tiles.count), store: absoluteStore, resources: resources,
                                                  tangent: SweepCommand.ownExecutable(), directory: directory)
            if dryRun {
                print("# \(KernelGramSlurm.arrayScriptName)\n\(scripts.array)# \(KernelGramSlurm.finishScriptName)\n\(scripts.finish)", terminator: "")
                return
            }
            let jobs = try KernelGramSlurm.submit(scripts, store: absoluteStore)
            print("submitted job \(jobs.array): \(min(slurm, gram.tiles.count)) array tasks for the \(gram.tiles.count) tiles, and job \(jobs.finish) after them (logs in \(absoluteStore)/logs)")
            return
        }
        let (index, count) = try parsedPart() ?? (0, 1)
        let report = try gram.compute(kernel: p.kernel, inputs: p.trainInputs, part: index, of: count) { tile, done, todo in
            print("\(tile) computed (\(done)/\(todo))")
        }
        for (tile, reason) in report.replaced { print("replaced damaged \(tile): \(reason)") }
        print(String(format: "part %d/%d: %d tiles computed, %d already present, in %.1f s", index, count,
                     report.computed.count, report.reused, report.seconds))
        let status = gram.check()
        print("store \(store): \(status.valid.count) of \(gram.tiles.count) tiles present and verified"
              + (status.missing.isEmpty ? "" : ", \(status.missing.count) missing")
              + (status.corrupt.isEmpty ? "" : ", \(status.corrupt.count) damaged"))
        guard part == nil else { return }

        var results = GramResults(problem: KernelProblemRecord(p), tileSize: tileSize, tiles: gram.tiles.count,
                                  computeSeconds: report.seconds, tilesComputed: report.computed.count)
        var solved: TiledGramOperator.SolveResult?
        if top > 0 || solve {
            // The budget is the whole job's: the tiles kept decoded get what the eigen search or the solve
            // (whichever needs more) leaves of it.
            let search = BlockKrylovSettings()
            let searchBytes = top > 0 ? search.workingBytes(count: top, dimension: p.trainLabels.count) : 0
            let solveBytes = solve ? TiledGramOperator.solveWorkingBytes(samples: p.trainLabels.count, columns: p.task.outputs) : 0
            let reserved = max(searchBytes, solveBytes)
            guard reserved < problem.memoryBudgetBytes else {
                throw ConfigurationError(String(format: "--memory-budget %d MB cannot hold the %@ working memory (%.0f MB for %d images); raise it",
                                             problem.memoryBudget, searchBytes >= solveBytes ? "eigen search's" : "solve's",
                                             Double(reserved) / 1048576, p.trainLabels.count))
            }
            let op = try TiledGramOperator(store: gram, cacheBytes: problem.memoryBudgetBytes - reserved)
            if top > 0 {
                let t0 = Date()
                let pairs = try op.topEigenpairs(top, settings: search)
                results.eigenvalues = pairs.decomposition.values
                results.eigenSeconds = Date().timeIntervalSince(t0)
                results.eigenProducts = pairs.report.productColumns
                print(String(format: "top %d eigenpairs in %.1f s (%d vectors multiplied); λ₁ = %.6g, λ_%d = %.6g", top,
                             results.eigenSeconds ?? 0, pairs.report.productColumns, pairs.decomposition.values.first ?? .nan,
                             top, pairs.decomposition.values.last ?? .nan))
            }
            if solve {
                let t0 = Date()
                solved = try op.solve(try p.task.targets(for: p.trainLabels), ridge: p.ridge, tolerance: tolerance,
                                      maximumIterations: maximumIterations)
                results.solveSeconds = Date().timeIntervalSince(t0)
                results.solveIterations = solved?.iterations
                results.relativeResiduals = solved?.relativeResiduals
            }
        }
        // The tile cache is gone here, so the predictions have the budget to themselves.
        if let solved {
            let t1 = Date()
            let predictor = try KernelPredictor(kernel: p.kernel, trainingInputs: p.trainInputs, weights: solved.solution,
                                                task: p.task, memoryBudgetBytes: problem.memoryBudgetBytes)
            results.testAccuracy = try predictor.accuracy(p.testInputs, labels: p.testLabels)
            results.predictSeconds = Date().timeIntervalSince(t1)
            print(String(format: "solve: %d iterations in %.1f s (largest relative residual %.2g); test accuracy %.4f (predictions %.1f s)",
                         solved.iterations, results.solveSeconds ?? 0, solved.relativeResiduals.max() ?? .nan,
                         results.testAccuracy ?? .nan, results.predictSeconds ?? 0))
        }
        results.totalSeconds = Date().timeIntervalSince(start)
        results.peakResidentMB = PeakMemory.residentMegabytes()
        try ResultFiles.writeJSON(results, to: problem.out, name: "gram.json")
        print(String(format: "peak resident memory %.0f MB; wrote %@/gram.json", results.peakResidentMB, problem.out))
    }
}

/// What `tangent kernel gram` writes to gram.json.
struct GramResults: Encodable {
    let problem: KernelProblemRecord
    let tileSize: Int
    let tiles: Int
    let computeSeconds: Double
    /// Tiles computed by this run (the rest were present).
    let tilesComputed: Int
    var eigenvalues: [Double]?
    var eigenSeconds: Double?
    /// Vectors multiplied by the Gram matrix in the eigen search.
    var eigenProducts: Int?
    var solveSeconds: Double?
    var solveIterations: Int?
    var relativeResiduals: [Double]?
    var testAccuracy: Double?
    var predictSeconds: Double?
    var totalSeconds = 0.0
    var peakResidentMB = 0.0
}
