import Kernels

/// Which eigenpairs of a Gram matrix Θ(X, X) + λI a gradient-flow solution (and so an ``EigenFeatures``)
/// is built from.
///
/// The complete decomposition (LAPACK `dsyevd`) costs about 5N³ flops and four N × N Float64 buffers
/// at its peak; for 10,000 training inputs that is minutes and 3.2 GB. When only the top features are
/// wanted, ``top(_:settings:)`` finds the K largest eigenpairs by the block Krylov solver
/// (`SymmetricEigen.blockKrylov`), whose work is products of the Gram matrix with blocks of vectors
/// (GEMMs) and whose memory is the Gram matrix plus a basis of a few K vectors. Features and
/// predictors that need eigenpairs beyond the K computed are then refused, not approximated.
public enum GramDecomposition: Sendable, Equatable {
    /// Every eigenpair, by LAPACK's full symmetric eigensolver.
    case complete
    /// The K largest eigenpairs (1 ≤ K ≤ N) by block Krylov iteration, with its settings.
    case top(Int, settings: BlockKrylovSettings = BlockKrylovSettings())

    /// The number of eigenpairs for N training inputs.
    public func eigenpairs(samples n: Int) -> Int {
        switch self {
        case .complete: return n
        case .top(let k, _): return k
        }
    }
}
