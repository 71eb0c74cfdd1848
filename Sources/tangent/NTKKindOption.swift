import ArgumentParser
import Tangent

extension KernelKind: ExpressibleByArgument {}

/// `--ntk-kind full|traced`: which empirical NTK `tangent train` tracks, `tangent ntk` computes and
/// `tangent bench --task ntk` times — one name in all three. Each command still reads its former
/// spelling (`train --ntk-kernel`, `ntk --kind`, `bench --ntk`) as a hidden alias, so older scripts and
/// sweep files keep working. (`tangent kernel --kernel` is another choice: which kernel function.)
enum NTKKindOption {
    /// The option's name.
    static let name = "ntk-kind"

    /// The option's help.
    static let help = ArgumentHelp("full: the NC×NC kernel over every pair of logits (the paper's); traced: the N×N kernel Σ_c K[(i,c),(j,c)], summed over the logits. Default: full.",
                                   valueName: "full|traced")

    /// The kind given by `--ntk-kind` (`kind`) or by the command's former spelling `legacyName`
    /// (`legacy`), or nil when neither was given; both at once is an error.
    static func chosen(_ kind: KernelKind?, legacy: KernelKind?, legacyName: String) throws -> KernelKind? {
        if kind != nil && legacy != nil {
            throw ValidationError("--\(legacyName) is the former name of --\(name); give --\(name) only")
        }
        return kind ?? legacy
    }
}
